"""Job outcomes as AWS reports them: failures, stop, max runtime, logs, requirements, checkpoints."""
import time
from pathlib import Path

import pytest
from sagemaker.exceptions import UnexpectedStatusException

from conftest import estimator, s3_tar


def wait_until_stopped(sess, name, timeout=30):
    """Poll as a learner would: the SDK's wait_for_job returns at once on 'Stopping'."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sess.describe_training_job(name)
        if d["TrainingJobStatus"] == "Stopped":
            return d
        time.sleep(0.1)
    raise AssertionError(f"{name} did not stop: {d['TrainingJobStatus']}")


def fail_job(sess, source_dir, **kwargs):
    est = estimator(sess, source_dir, **kwargs)
    with pytest.raises(UnexpectedStatusException) as raised:
        est.fit(logs=False)
    return est.latest_training_job.describe(), str(raised.value)


def test_nonzero_exit_reports_the_error_line(sess, source):
    d, message = fail_job(sess, source("raise ValueError('bad learning rate')\n"))
    assert d["TrainingJobStatus"] == "Failed" and d["SecondaryStatus"] == "Failed"
    assert d["FailureReason"].startswith("AlgorithmError: ExecuteUserScriptError:")
    assert "ExitCode 1" in d["FailureReason"]
    assert "ValueError: bad learning rate" in d["FailureReason"]
    assert "bad learning rate" in message  # the SDK's exception carries it to the learner


def test_failure_file_text_wins(sess, source):
    d, _ = fail_job(sess, source("""
        import os, sys
        open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write("Data error: " + "x" * 2000)
        sys.exit(3)
    """))
    assert d["FailureReason"].startswith("Data error: ")
    assert len(d["FailureReason"]) == 1024


def test_exit_137_is_out_of_memory(sess, source):
    d, _ = fail_job(sess, source("import os; os._exit(137)\n"))
    assert d["FailureReason"].startswith("OutOfMemoryError")


def test_literal_opt_ml_path_points_to_sm_model_dir(sess, source, relocated):
    d, _ = fail_job(sess, source("""
        import os
        os.makedirs("/opt/ml/model", exist_ok=True)
        open("/opt/ml/model/model.txt", "w").write("x")
    """))
    assert "SM_MODEL_DIR" in d["FailureReason"] and "literal /opt/ml path" in d["FailureReason"]
    import os
    assert not os.path.exists("/opt/ml/model/model.txt")


def test_literal_opt_ml_paths_work_in_the_jobs_own_namespace(sess, source, namespaced):
    """Written as AWS's examples are: literal /opt/ml paths, no SM_* variable. The host's /opt
    is untouched and its other entries stay visible inside the job."""
    import os
    before = sorted(os.listdir("/opt")) if os.path.isdir("/opt") else []
    est = estimator(sess, source(f"""
        import os
        assert os.getcwd() == "/opt/ml/code", os.getcwd()
        assert "SAGEMAKER_BASE_DIR" not in os.environ
        assert os.environ["SM_MODEL_DIR"] == "/opt/ml/model"
        assert sorted(e for e in os.listdir("/opt") if e != "ml") == {[e for e in before if e != "ml"]!r}
        assert sorted(os.listdir("/opt/ml/input/config")) == [
            "hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"]
        os.makedirs("/opt/ml/model/1", exist_ok=True)
        open("/opt/ml/model/1/model.txt", "w").write("x")
    """))
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    assert s3_tar(sess, est.model_data)["1/model.txt"] == b"x"
    assert (sorted(os.listdir("/opt")) if os.path.isdir("/opt") else []) == before


def test_syntax_error_and_missing_entry_point(sess, source):
    d, _ = fail_job(sess, source("def broken(:\n"))
    assert "SyntaxError" in d["FailureReason"]


def test_logs_reach_the_sdk(sess, source, capsys):
    est = estimator(sess, source("print('hello from the container')\n"))
    est.fit(logs=True)
    out = capsys.readouterr().out
    assert "hello from the container" in out
    assert "Invoking script with the following command" in out
    assert "Completed - Training job completed" in out
    assert "Billable seconds:" in out
    logs = sess.boto_session.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                        logStreamNamePrefix=est.latest_training_job.name + "/")
    names = [s["logStreamName"] for s in streams["logStreams"]]
    assert len(names) == 1 and names[0].startswith(est.latest_training_job.name + "/algo-1-")


def test_fit_without_wait_then_reattach(sess, source):
    from sagemaker.estimator import Estimator
    est = estimator(sess, source("import time; time.sleep(1); print('done')\n"))
    est.fit(wait=False)
    name = est.latest_training_job.name
    assert sess.describe_training_job(name)["TrainingJobStatus"] == "InProgress"
    attached = Estimator.attach(name, sagemaker_session=sess)
    assert attached.model_data.endswith(f"{name}/output/model.tar.gz")
    assert sess.describe_training_job(name)["TrainingJobStatus"] == "Completed"


def test_stop_uploads_what_was_written(sess, source):
    est = estimator(sess, source("""
        import os, signal, sys, time
        def on_term(*_):
            open(os.path.join(os.environ["SM_MODEL_DIR"], "partial.txt"), "w").write("saved on SIGTERM")
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        print("training", flush=True)
        time.sleep(60)
    """))
    est.fit(wait=False)
    name = est.latest_training_job.name
    deadline = time.time() + 30
    while sess.describe_training_job(name)["SecondaryStatus"] != "Training" and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    sess.sagemaker_client.stop_training_job(TrainingJobName=name)
    assert sess.describe_training_job(name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    d = wait_until_stopped(sess, name)
    assert d["TrainingJobStatus"] == "Stopped" and d["SecondaryStatus"] == "Stopped"
    assert [t["Status"] for t in d["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]
    assert s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"])["partial.txt"] == b"saved on SIGTERM"
    with pytest.raises(sess.sagemaker_client.exceptions.ClientError, match="Only a job that is InProgress"):
        sess.sagemaker_client.stop_training_job(TrainingJobName=name)


def test_stop_kills_a_script_that_ignores_sigterm(sess, source, endpoint):
    endpoint.service.stop_grace_seconds = 0.5
    try:
        est = estimator(sess, source("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)
        """))
        est.fit(wait=False)
        name = est.latest_training_job.name
        time.sleep(1.0)
        started = time.time()
        sess.sagemaker_client.stop_training_job(TrainingJobName=name)
        d = wait_until_stopped(sess, name)
        assert d["TrainingJobStatus"] == "Stopped" and time.time() - started < 10
    finally:
        endpoint.service.stop_grace_seconds = 10.0


def test_max_runtime(sess, source):
    est = estimator(sess, source("import time; time.sleep(30)\n"), max_run=1)
    est.fit(logs=False)  # a Stopped job does not raise in the SDK; it warns
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Stopped" and d["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert d["StoppingCondition"]["MaxRuntimeInSeconds"] == 1


def test_requirements_installed_into_the_job_only(sess, source, tmp_path):
    import importlib.util
    pkg = tmp_path / "tinypkg"
    (pkg / "tinypkg").mkdir(parents=True)
    (pkg / "tinypkg" / "__init__.py").write_text("VALUE = 42\n")
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires=["setuptools"]\nbuild-backend="setuptools.build_meta"\n'
        '[project]\nname="tinypkg"\nversion="1.0"\n')
    import subprocess, sys
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
                    "-w", str(wheels), str(pkg)], check=True, capture_output=True)  # offline build
    wheel = next(wheels.glob("tinypkg-*.whl"))
    src = source("import tinypkg; print('tinypkg says', tinypkg.VALUE)\n",
                 {"requirements.txt": f"wheels/{wheel.name}\n"})
    (Path(src) / "wheels").mkdir()
    (Path(src) / "wheels" / wheel.name).write_bytes(wheel.read_bytes())
    est = estimator(sess, src)
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    log = (sess_job_folder(est) / "algo-1.log").read_text()
    assert "tinypkg says 42" in log
    assert importlib.util.find_spec("tinypkg") is None  # the learner's environment is untouched


def sess_job_folder(est):
    import sm_tutorial
    return sm_tutorial.job_root(est.latest_training_job.name).parent.parent


def test_requirements_that_cannot_install(sess, source):
    d, _ = fail_job(sess, source("print('never')\n", {"requirements.txt": "./no-such-package-dir\n"}))
    assert "InstallRequirementsError" in d["FailureReason"] and "requirements.txt" in d["FailureReason"]


def test_checkpoints_sync_both_ways(sess, source):
    bucket = sess.default_bucket()
    s3 = sess.boto_session.client("s3")
    s3.put_object(Bucket=bucket, Key="ckpt/test/epoch-1.txt", Body=b"one")
    est = estimator(sess, source("""
        import os
        folder = os.path.join(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"), "checkpoints")
        print("found", sorted(os.listdir(folder)))
        open(os.path.join(folder, "epoch-2.txt"), "w").write("two")
    """), checkpoint_s3_uri=f"s3://{bucket}/ckpt/test")
    est.fit(logs=False)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="ckpt/test/")["Contents"]]
    assert keys == ["ckpt/test/epoch-1.txt", "ckpt/test/epoch-2.txt"]
    assert "found ['epoch-1.txt']" in (sess_job_folder(est) / "algo-1.log").read_text()


def test_missing_channel_data_fails_in_downloading(sess, source):
    est = estimator(sess, source("print('never')\n"))
    with pytest.raises(UnexpectedStatusException):
        est.fit({"train": f"s3://{sess.default_bucket()}/no/such/prefix"}, logs=False)
    d = est.latest_training_job.describe()
    assert d["FailureReason"].startswith("ClientError: Data download failed:No S3 objects found")
    assert [t["Status"] for t in d["SecondaryStatusTransitions"]][-1] == "Failed"
