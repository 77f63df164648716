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
def test_polling_a_literal_fifo_path_fails_within_seconds(sess, source, digits, probe):
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
