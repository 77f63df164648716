"""Faults: stops mid-epoch, max runtime, a killed kernel, a restarted endpoint, parallel jobs."""
import concurrent.futures
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sagemaker.inputs import TrainingInput

import sm_tutorial
from conftest import estimator, s3_tar

SLOW_READER = """
import os, time
print("pid", os.getpid(), flush=True)
mode = "{mode}"
if mode == "Pipe":
    with open(os.environ["SM_INPUT_DIR"] + "/data/train_0", "rb") as f:
        while f.read(4096):
            time.sleep(0.05)
else:
    for epoch in range(1000):
        time.sleep(0.05)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def wait_for(predicate, timeout=30, every=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def script_pid(sess, name):
    def find():
        match = re.search(r"^pid (\d+)$", sm_tutorial.job_logs(sess, name), re.M)
        return int(match.group(1)) if match else None
    return wait_for(find)


@pytest.mark.parametrize("mode", ["File", "Pipe"])
def test_stop_mid_epoch_leaves_nothing_behind(sess, source, digits, mode):
    import threading
    est = estimator(sess, source(SLOW_READER.format(mode=mode)))
    est.fit({"train": TrainingInput(digits["train"], input_mode=mode)}, wait=False)
    name = est.latest_training_job.name
    pid = script_pid(sess, name)
    assert alive(pid)
    sess.sagemaker_client.stop_training_job(TrainingJobName=name)
    d = wait_for(lambda: (lambda d: d if d["TrainingJobStatus"] == "Stopped" else None)(
        sess.describe_training_job(name)))
    assert d["SecondaryStatus"] == "Stopped" and "ModelArtifacts" in d
    assert s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"]) == {}  # uploaded, even if empty
    assert not alive(pid)
    root = sm_tutorial.job_root(name)
    assert not [p for p in (root / "input" / "data").iterdir() if not p.is_dir()]  # no FIFO left
    assert not [t for t in threading.enumerate() if t.name.startswith(("pipe-", f"job-{name}"))]
    assert not (root.parent.parent / "process.json").exists()


def test_max_runtime_stops_the_script(sess, source):
    est = estimator(sess, source("import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)\n"),
                    max_run=2)
    est.fit(wait=False)
    name = est.latest_training_job.name
    pid = script_pid(sess, name)
    d = wait_for(lambda: (lambda d: d if d["TrainingJobStatus"] == "Stopped" else None)(
        sess.describe_training_job(name)))
    assert d["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert not alive(pid)


def run_python(code: str, workspace: Path, **kwargs):
    env = dict(os.environ, SM_TUTORIAL_WORKSPACE=str(workspace))
    for name in ("AWS_ENDPOINT_URL", "SM_TUTORIAL_ENDPOINT"):
        env.pop(name, None)
    env.update(kwargs.pop("env", {}))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def kernel_running_a_job(tmp_path, script_seconds: int, kernel_tail: str):
    """A separate 'kernel' process that launches a job; returns (kernel, workspace, job name,
    the script's pid) once the script runs. ``kernel_tail`` is what the kernel does next. The
    script ends when ``tmp_path / "release"`` appears, or after ``script_seconds``."""
    workspace = tmp_path / "ws"
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(textwrap.dedent(f"""
        import os, time
        print('pid', os.getpid(), flush=True)
        deadline = time.monotonic() + {script_seconds}
        while time.monotonic() < deadline and not os.path.exists({str(tmp_path / "release")!r}):
            time.sleep(0.05)
    """))
    kernel = run_python(textwrap.dedent(f"""
        import sm_tutorial, time
        from conftest import estimator
        sess = sm_tutorial.session()
        est = estimator(sess, {str(src)!r})
        est.fit(wait=False)
        name = est.latest_training_job.name
        print("job", name, flush=True)
    """) + textwrap.dedent(kernel_tail), workspace, cwd=Path(__file__).parent)
    name = wait_for(lambda: (lambda l: l.split()[1] if l.startswith("job ") else None)(kernel.stdout.readline()),
                    timeout=120)
    log = workspace / "jobs" / name / "algo-1.log"
    pid = wait_for(lambda: log.exists() and (lambda m: int(m.group(1)) if m else None)(
        re.search(r"^pid (\d+)$", log.read_text(), re.M)))
    return kernel, workspace, name, pid


def test_killed_kernel_job_is_failed_and_its_script_stopped(tmp_path):
    kernel, workspace, name, pid = kernel_running_a_job(tmp_path, 120, "time.sleep(300)\n")
    kernel.kill()  # the kernel dies: no cleanup runs
    kernel.wait()
    assert alive(pid)  # the orphaned script is still running
    after = run_python(f"""
        import json, sm_tutorial
        sess = sm_tutorial.session()
        d = sess.describe_training_job({name!r})
        print(json.dumps([d["TrainingJobStatus"], d["FailureReason"]]))
    """, workspace)
    out, _ = after.communicate(timeout=120)
    status, reason = json.loads(out.strip().splitlines()[-1])
    assert status == "Failed" and "stand-in running this job stopped" in reason
    assert not alive(pid)
    assert json.loads((workspace / "jobs" / name / "description.json").read_text())["TrainingJobStatus"] == "Failed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_restarted_endpoint_says_the_buckets_are_gone(tmp_path):
    workspace, port = tmp_path / "ws", free_port()
    url = f"http://127.0.0.1:{port}"
    attach = """
        import sm_tutorial
        sess = sm_tutorial.session()
        print("ok", sess.default_bucket())
    """
    for round_ in range(2):
        server = run_python(f"from sm_tutorial.cli.main import main; main(['serve', '--port', '{port}'])", workspace)
        try:
            assert url in server.stdout.readline()
            client = run_python(attach, workspace, env={"SM_TUTORIAL_ENDPOINT": url})
            out, _ = client.communicate(timeout=120)
            assert "ok sagemaker-us-east-1-123456789012" in out
            restarted = "was restarted since you last used it" in out
            assert restarted == (round_ == 1), out
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    assert "upload_digits" in out


def test_four_jobs_from_four_threads(sess, tmp_path):
    def run(i):
        folder = tmp_path / f"src{i}"
        folder.mkdir()
        (folder / "train.py").write_text(
            "import os, time\ntime.sleep(0.5)\n"
            f"open(os.path.join(os.environ['SM_MODEL_DIR'], 'who.txt'), 'w').write('job {i}')\n")
        est = estimator(sess, str(folder))
        est.fit(logs=False)
        return est.model_data
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        models = list(pool.map(run, range(4)))
    assert len(set(models)) == 4
    for i, uri in enumerate(models):
        assert s3_tar(sess, uri)["who.txt"] == f"job {i}".encode()


def test_a_second_endpoint_leaves_running_jobs_alone(tmp_path):
    """`sm-tutorial jobs` (or a second kernel) on the same workspace must not fail or kill a job
    that a live kernel is running."""
    kernel, workspace, name, pid = kernel_running_a_job(tmp_path, 300, """
        while sess.describe_training_job(name)["TrainingJobStatus"] == "InProgress":
            time.sleep(0.1)
        print("final", sess.describe_training_job(name)["TrainingJobStatus"], flush=True)
    """)
    listing = run_python("from sm_tutorial.cli.main import main; main(['jobs'])", workspace)
    listing.communicate(timeout=120)
    assert alive(pid)  # the second endpoint did not touch it
    (tmp_path / "release").touch()  # now the script may end, however long the listing took
    out, _ = kernel.communicate(timeout=120)
    assert "final Completed" in out, out


def test_an_ended_job_stays_ended(tmp_path):
    from sm_tutorial.platform.job import TrainingJob
    request = {"TrainingJobName": "ended", "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
               "RoleArn": "arn:aws:iam::123456789012:role/R", "ResourceConfig": {},
               "AlgorithmSpecification": {"TrainingImage": "x"}}
    job = TrainingJob(request, "us-east-1", tmp_path / "ended")
    assert job.request_stop() and job.status == "Stopping"
    job.transition("Training")            # a late runner step cannot undo the stop
    assert job.status == "Stopping"
    job.transition("Completed")           # finishing while stopping reports Stopped
    assert job.status == "Stopped" and job.describe()["SecondaryStatus"] == "Stopped"
    assert not job.request_stop()         # and a stop after the end is refused
    job.transition("Failed")
    assert job.status == "Stopped"
