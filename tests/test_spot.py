"""Managed spot training (issue 14 part 3): MaxWait validated as AWS does, a simulated
interruption (SIGTERM, checkpoints saved, Interrupted, then Starting/Downloading/Training again
with /opt/ml/checkpoints restored), MaxWaitTimeExceeded, and billable time below training time."""
import time

import pytest
from botocore.exceptions import ClientError

import sm_tutorial
from conftest import estimator, s3_tar

RESUMABLE = """
import os, time
folder = "/opt/ml/checkpoints"
os.makedirs(folder, exist_ok=True)
done = sorted(int(n.split("-")[1]) for n in os.listdir(folder) if n.startswith("epoch-"))
start = done[-1] + 1 if done else 1
print("resuming after epoch", start - 1 if done else "none", flush=True)
for epoch in range(start, 9):
    time.sleep(0.4)
    open(os.path.join(folder, f"epoch-{epoch}"), "w").write(str(epoch))
    print("epoch", epoch, "done", flush=True)
open(os.path.join(os.environ["SM_MODEL_DIR"], "epochs.txt"), "w").write(
    ",".join(sorted(os.listdir(folder), key=lambda n: int(n.split("-")[1]))))
"""


def spot_estimator(sess, source, script, **kwargs):
    bucket = sess.default_bucket()
    return estimator(sess, source(script), use_spot_instances=True,
                     checkpoint_s3_uri=f"s3://{bucket}/spot-test/{time.time_ns()}", **kwargs)


def log_of(name):
    log = sm_tutorial.workspace() / "jobs" / name / "algo-1.log"
    return log.read_text() if log.exists() else ""  # not made yet while the job starts


def wait_for(predicate, what, timeout=60):
    give_up = time.time() + timeout
    while time.time() < give_up:
        seen = predicate()
        if seen:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}")


def ended(sess, name):
    """The job's description once it is no longer InProgress."""
    return wait_for(lambda: (lambda d: d if d["TrainingJobStatus"] != "InProgress" else None)(
        sess.describe_training_job(name)), "the job to end", timeout=120)


@pytest.mark.parametrize("max_run,max_wait,words", [
    (60, None, "It must be present"), (60, 30, "greater than or equal to MaxRuntimeInSeconds")])
def test_spot_needs_max_wait_at_least_max_run(sess, source, max_run, max_wait, words):
    est = spot_estimator(sess, source, "print(1)\n", max_run=max_run, max_wait=max_wait)
    with pytest.raises(ClientError) as caught:
        est.fit(logs=False)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException" and words in error["Message"]
    assert "max_wait" in error["Message"]  # the fix, in the SDK's words


def test_max_wait_without_spot_is_refused(sess, source):
    est = estimator(sess, source("print(1)\n"), max_run=60, max_wait=120)
    with pytest.raises(ClientError, match="use_spot_instances=True"):
        est.fit(logs=False)


def test_interrupting_what_cannot_be_interrupted(sess, source):
    plain = estimator(sess, source("print(1)\n"))
    plain.fit(logs=False)
    with pytest.raises(ValueError, match="not a managed spot job"):
        sm_tutorial.interrupt_spot(plain.latest_training_job.name, sess)
    done = spot_estimator(sess, source, "print(1)\n", max_run=60, max_wait=120)
    done.fit(logs=False)
    with pytest.raises(ValueError, match="Completed .*not training"):
        sm_tutorial.interrupt_spot(done.latest_training_job.name, sess)


def test_an_interrupted_spot_job_resumes_from_its_checkpoint(sess, source):
    est = spot_estimator(sess, source, RESUMABLE, max_run=120, max_wait=300)
    est.fit(wait=False, logs=False)
    name = est.latest_training_job.name
    wait_for(lambda: "epoch 2 done" in log_of(name), "epoch 2 in the log")
    sm_tutorial.interrupt_spot(name, sess, capacity_after=0.5)
    d = ended(sess, name)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    statuses = [t["Status"] for t in d["SecondaryStatusTransitions"]]
    assert statuses[statuses.index("Interrupted"):] == [
        "Interrupted", "Starting", "Downloading", "Training", "Uploading", "Completed"]
    log = log_of(name)
    resumed = int(log.split("resuming after epoch ")[2].split()[0])  # the second start's line
    assert resumed >= 2 and "Spot interruption" in log
    assert s3_tar(sess, est.model_data)["epochs.txt"] == b",".join(
        f"epoch-{i}".encode() for i in range(1, 9))
    assert d["BillableTimeInSeconds"] < d["TrainingTimeInSeconds"]


def test_max_wait_exceeded_while_waiting_for_capacity(sess, source):
    est = spot_estimator(sess, source, RESUMABLE, max_run=8, max_wait=10)
    est.fit(wait=False, logs=False)
    name = est.latest_training_job.name
    wait_for(lambda: "epoch 1 done" in log_of(name), "epoch 1 in the log")
    sm_tutorial.interrupt_spot(name, sess, capacity_after=120)
    d = ended(sess, name)
    assert (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("Stopped", "MaxWaitTimeExceeded")
    assert "Raise max_wait" in log_of(name)


def test_the_sdk_prints_its_spot_savings_line(sess, source, capsys):
    est = spot_estimator(sess, source, "import time\ntime.sleep(2.5)\n", max_run=60, max_wait=120)
    est.fit(logs=True)
    out = capsys.readouterr().out
    d = est.latest_training_job.describe()
    assert d["BillableTimeInSeconds"] < d["TrainingTimeInSeconds"]
    assert f"Billable seconds: {d['BillableTimeInSeconds']}" in out
    assert "Managed Spot Training savings: " in out
