"""/opt/ml as AWS shows it (issue 12, parts 1's fallback and the FailureReason paths): the log
and FailureReason show /opt/ml paths, not the workspace's; a script probing a literal /opt/ml
path (polling for a Pipe FIFO, as bring-your-own containers do) fails at once, not at MaxRuntime."""
import time

import pytest
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.inputs import TrainingInput

import sm_tutorial
from conftest import estimator


def failed(sess, source_dir, inputs=None, **kwargs):
    est = estimator(sess, source_dir, **kwargs)
    with pytest.raises(UnexpectedStatusException):
        est.fit(inputs, logs=False)
    name = est.latest_training_job.name
    log = (sm_tutorial.job_root(name).parent.parent / "algo-1.log").read_text()
    return est.latest_training_job.describe()["FailureReason"], log, str(sm_tutorial.job_root(name))


def test_failure_reason_and_log_show_opt_ml_paths(sess, source):
    reason, log, root = failed(sess, source("""
        import os
        print("model dir is", os.environ["SM_MODEL_DIR"])
        open(os.path.join(os.environ["SM_MODEL_DIR"], "no", "such.txt"))
        """))
    assert "No such file or directory: '/opt/ml/model/no/such.txt'" in reason
    assert "model dir is /opt/ml/model" in log
    assert root not in reason and root not in log


@pytest.mark.parametrize("probe", [
    "os.path.exists('/opt/ml/input/data/training_0')",
    "pathlib.Path('/opt/ml/input/data/training_0').exists()",
    "os.path.isfile('/opt/ml/input/data/training_0')"])
def test_polling_a_literal_fifo_path_fails_within_seconds(sess, source, digits, probe, relocated):
    script = f"""
        import os, pathlib, time
        while not {probe}:  # pipe_bring_your_own/train.py waits for its FIFO this way
            time.sleep(0.1)
        """
    started = time.time()
    reason, _, _ = failed(sess, source(script), {"training": TrainingInput(digits["train"], input_mode="Pipe")},
                       max_run=300)
    assert time.time() - started < 60
    assert "/opt/ml/input/data/training_0: this script uses a literal /opt/ml path" in reason
    assert "SM_INPUT_DIR" in reason


def test_libraries_may_still_probe_opt_ml(sess, source):
    """A library asking whether it runs on SageMaker (the SDK probes /opt/ml/metadata) gets False."""
    est = estimator(sess, source("""
        import os
        probe = compile("import os\\nfound = os.path.exists('/opt/ml/metadata/resource-metadata.json')",
                        "/usr/lib/python3/some_library.py", "exec")
        scope = {}
        exec(probe, scope)
        assert scope["found"] is False
        """))
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"


def test_the_guard_keeps_rmtree_symlink_safe(sess, source):
    """Wrapping os.stat/lstat must not switch shutil.rmtree to its path-walking fallback."""
    est = estimator(sess, source("""
        import os, shutil
        print("fd-safe rmtree:", shutil.rmtree.avoids_symlink_attacks, flush=True)
        """))
    est.fit(logs=False)
    log = (sm_tutorial.job_root(est.latest_training_job.name).parent.parent / "algo-1.log").read_text()
    assert "fd-safe rmtree: True" in log, log[-2000:]


def _wheel(folder, name, code):
    """A pure-Python wheel written by hand: pip installs it offline, nothing to build."""
    import zipfile
    info = f"{name}-1.0.dist-info"
    files = {f"{name}/__init__.py": code,
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
    return path.name


def _workspace_names(root):
    import os
    job_folder = os.path.dirname(os.path.dirname(root))  # jobs/<name>
    return {job_folder, os.path.realpath(job_folder)}


def test_guard_and_installed_package_paths_are_container_paths(sess, source, relocated):
    """Tracebacks through the guard (sitecustomize) and through a package pip installed from
    requirements.txt name the container's folders, never jobs/<name>/opt/bootstrap|packages."""
    from pathlib import Path
    folder = Path(source("import os\nopen('/opt/ml/input/data/train/x.csv')\n"))
    reason, log, root = failed(sess, str(folder))
    assert "literal /opt/ml path" in reason
    assert "/usr/local/lib/sagemaker/bootstrap/sitecustomize.py" in log
    assert not any(name in text for name in _workspace_names(root) for text in (reason, log))

    folder = Path(source("import brokenpkg\n"))
    wheel = _wheel(folder, "brokenpkg", "raise RuntimeError('brokenpkg cannot start')\n")
    (folder / "requirements.txt").write_text(f"./{wheel}\n")
    reason, log, root = failed(sess, str(folder))
    assert "brokenpkg cannot start" in reason
    assert "/usr/local/lib/python3/site-packages/brokenpkg/__init__.py" in log
    assert not any(name in text for name in _workspace_names(root) for text in (reason, log))


def test_uninstallable_requirement_shows_no_workspace_path(sess, source):
    reason, log, root = failed(sess, source("print('never runs')\n", {
        "requirements.txt": "./no-such-folder-for-pip\n"}))
    assert "InstallRequirementsError" in reason
    assert not any(name in text for name in _workspace_names(root) for text in (reason, log))
