"""Hardening (issue 17, defect 4): every process a job started ends with the job, whatever its
session or process group, as when AWS tears the container down; fit() does not wait for them."""
import os
import re
import signal
import sys

import pytest

import sm_tutorial
from conftest import estimator
from test_faults import alive

# The subreaper and the /proc reads these tests rely on are Linux's; elsewhere the launcher
# falls back to the process group, which cannot catch a setsid() daemon.
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux subreaper and /proc")

DAEMONS = """
import os, signal, subprocess, sys, time
ticker = subprocess.Popen([sys.executable, "-c", (
    "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
    "while True:\\n    print('daemon tick', flush=True)\\n    time.sleep(0.05)")],
    start_new_session=True)                      # its own session, deaf to SIGTERM, still printing
sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
r, w = os.pipe()
if os.fork() == 0:                               # double fork: the grandchild is nobody's child
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        os.execvp("sleep", ["sleep", "300"])
    os._exit(0)
os.close(w)
orphan = int(os.read(r, 100))
os.wait()
print("daemons", ticker.pid, sleeper.pid, orphan, flush=True)
time.sleep(0.3)                                  # the ticker prints a few lines meanwhile
{tail}
print("script ends", time.time(), flush=True)
"""


def daemons_of(log: str) -> list[int]:
    match = re.search(r"^daemons (\d+) (\d+) (\d+)$", log, re.M)
    assert match, f"the script did not report its daemons; log:\n{log[-2000:]}"
    return [int(p) for p in match.groups()]


def kill_leftovers(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def test_daemons_end_with_the_job_and_fit_does_not_wait_for_them(sess, source):
    est = estimator(sess, source(DAEMONS.format(tail="")))
    est.fit(logs=False)
    d = est.latest_training_job.describe()
    log = sm_tutorial.job_logs(sess, d["TrainingJobName"])
    pids = daemons_of(log)
    try:
        problems = []
        left = [p for p in pids if alive(p)]
        if left:
            problems.append(f"still running after the job ended: {left}")
        ended = float(re.search(r"^script ends ([\d.]+)$", log, re.M).group(1))
        lag = d["TrainingEndTime"].timestamp() - ended
        if lag >= 3:
            problems.append(f"the job ended {lag:.1f} s after its script (waited on a daemon's pipe?)")
        after = log.split("Reporting training SUCCESS", 1)[1]
        if "daemon tick" in after:
            problems.append(f"daemon output after the SUCCESS line: {after[:200]!r}")
        assert not problems, problems
    finally:
        kill_leftovers(pids)


@pytest.mark.parametrize("how", ["StopTrainingJob", "MaxRuntime"])
def test_daemons_end_when_the_job_is_stopped(sess, source, how):
    from test_faults import wait_for
    est = estimator(sess, source(DAEMONS.format(tail="time.sleep(300)")),
                    **({"max_run": 4} if how == "MaxRuntime" else {}))
    est.fit(wait=False)
    name = est.latest_training_job.name
    pids = wait_for(lambda: "daemons " in sm_tutorial.job_logs(sess, name)
                    and daemons_of(sm_tutorial.job_logs(sess, name)))
    try:
        if how == "StopTrainingJob":
            sess.sagemaker_client.stop_training_job(TrainingJobName=name)
        d = wait_for(lambda: (lambda d: d if d["TrainingJobStatus"] == "Stopped" else None)(
            sess.describe_training_job(name)), timeout=60)
        assert d["SecondaryStatus"] == ("Stopped" if how == "StopTrainingJob" else "MaxRuntimeExceeded")
        left = [p for p in pids if alive(p)]
        assert not left, f"still running after the job was stopped: {left}"
    finally:
        kill_leftovers(pids)


def test_daemons_of_a_killed_kernels_job_end_when_the_next_endpoint_starts(tmp_path):
    """The kernel dies mid-job: the next session() on the workspace ends the orphaned script
    and every daemon it started, not only the script's process group."""
    import textwrap
    from pathlib import Path
    from test_faults import run_python, wait_for
    workspace, src = tmp_path / "ws", tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(DAEMONS.format(tail="time.sleep(300)"))
    kernel = run_python(textwrap.dedent(f"""
        import sm_tutorial, time
        from conftest import estimator
        sess = sm_tutorial.session()
        est = estimator(sess, {str(src)!r})
        est.fit(wait=False)
        print("job", est.latest_training_job.name, flush=True)
        time.sleep(300)
    """), workspace, cwd=Path(__file__).parent)
    pids = []
    try:
        name = wait_for(lambda: (lambda l: l.split()[1] if l.startswith("job ") else None)(
            kernel.stdout.readline()), timeout=120)
        log = workspace / "jobs" / name / "algo-1.log"
        pids = wait_for(lambda: log.exists() and "daemons " in log.read_text() and daemons_of(log.read_text()))
        kernel.kill()  # no cleanup runs
        kernel.wait()
        assert alive(pids[1]) and alive(pids[2])  # orphaned: nobody ends them
        after = run_python("import sm_tutorial\nsm_tutorial.session()\nprint('attached')\n", workspace)
        out, _ = after.communicate(timeout=120)
        assert "attached" in out, out
        left = [p for p in pids if alive(p)]
        assert not left, f"still running after the next endpoint started: {left}"
    finally:
        if kernel.poll() is None:
            kernel.kill()
            kernel.wait()
        kill_leftovers(pids)


def test_a_script_killed_by_sigkill_is_still_out_of_memory(sess, source):
    """The launcher exits as its script did: a SIGKILL (what the OOM killer sends) stays one."""
    from sagemaker.exceptions import UnexpectedStatusException
    est = estimator(sess, source("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"))
    with pytest.raises(UnexpectedStatusException):
        est.fit(logs=False)
    assert est.latest_training_job.describe()["FailureReason"].startswith("OutOfMemoryError")
