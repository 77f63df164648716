"""Reliability (issue 12 part 5): the log pump outlives CloudWatch failures, S3 refusals and bad
manifests are said as what they are, job state and its file change atomically, and a stop
racing the runner neither answers 500 nor leaves a job unfinished."""
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError
from sagemaker.inputs import TrainingInput

import sm_tutorial
from conftest import estimator
from test_validation import GOOD
from sm_tutorial.platform.job import TrainingJob


def test_update_and_save_are_atomic_under_two_threads(tmp_path):
    job = TrainingJob({**GOOD, "TrainingJobName": "atomic-probe"}, "us-east-1", tmp_path / "job")
    errors = []

    def hammer(tag):
        try:
            for i in range(300):
                job.update(FailureReason=f"{tag}-{i}")
        except Exception as error:  # noqa: BLE001 - any error is the failure
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and job.save_error is None
    saved = json.loads((tmp_path / "job" / "description.json").read_text())
    assert saved["FailureReason"] == job.describe()["FailureReason"]  # the last state won
    assert not list((tmp_path / "job").glob("*.tmp"))


def test_stop_racing_the_state_machine(tmp_path):
    """StopTrainingJob's transition and the runner's, from two threads, on 100 jobs."""
    for n in range(100):
        job = TrainingJob({**GOOD, "TrainingJobName": f"race-{n}"}, "us-east-1", tmp_path / str(n))
        go = threading.Barrier(2)

        def runner():
            go.wait()
            for step in ("Downloading", "Training", "Uploading", "Completed"):
                job.transition(step)

        def stopper():
            go.wait()
            while job.request_stop():
                pass

        threads = [threading.Thread(target=runner), threading.Thread(target=stopper)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert job.finished.is_set() and job.save_error is None, (n, job.save_error)
        assert job.status in ("Stopped", "Completed")
        saved = json.loads((tmp_path / str(n) / "description.json").read_text())
        assert saved["TrainingJobStatus"] == job.status


class FailingLogs:
    """A CloudWatch Logs client whose PutLogEvents fails after the first ``good`` calls."""

    def __init__(self, real, good=1):
        self.real, self.calls, self.good = real, 0, good

    def __getattr__(self, name):
        return getattr(self.real, name)

    def put_log_events(self, **kwargs):
        self.calls += 1
        if self.calls <= self.good:  # the job's first lines go through; the script's do not
            return self.real.put_log_events(**kwargs)
        raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "down"}},
                          "PutLogEvents")


def test_failed_put_log_events_never_blocks_the_script(sess, source, endpoint, monkeypatch):
    failing = FailingLogs(endpoint.service.logs_client)
    monkeypatch.setattr(endpoint.service, "logs_client", failing)
    script = """
        import sys
        for i in range(40000):  # ~2.4 MB: far more than a pipe holds
            print(f"line {i:06d} " + "x" * 50)
        print("all written")
        """
    est = estimator(sess, source(script), max_run=60)
    started = time.time()
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    assert time.time() - started < 50 and failing.calls > 1
    log = sm_tutorial.job_root(est.latest_training_job.name).parent.parent / "algo-1.log"
    assert "all written" in log.read_text()  # the copy on disk has every line



class SlowFailingLogs(FailingLogs):
    """PutLogEvents that hangs for ``delay`` seconds (botocore retrying a dead endpoint), then fails."""

    def __init__(self, real, delay=2.0):
        super().__init__(real, good=0)
        self.delay, self.stop = delay, threading.Event()

    def put_log_events(self, **kwargs):
        self.calls += 1
        self.stop.wait(self.delay)
        raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "slow"}},
                          "PutLogEvents")


def test_a_hanging_put_log_events_never_stalls_the_pump(sess, source, endpoint, monkeypatch):
    """The pump only appends to a buffer; PutLogEvents runs on the log's own thread. It used to
    hold the lock through every send: each line waited for CloudWatch, the pipe filled, and the
    script blocked."""
    slow = SlowFailingLogs(endpoint.service.logs_client)
    monkeypatch.setattr(endpoint.service, "logs_client", slow)
    script = """
        for i in range(20000):  # ~1.2 MB: far more than a pipe holds
            print(f"line {i:06d} " + "x" * 50)
        print("all written")
        """
    est = estimator(sess, source(script), max_run=300)
    est.fit(wait=False, logs=False)
    name = est.latest_training_job.name
    job = endpoint.service._jobs[name]
    try:
        assert job.finished.wait(timeout=40), "the job did not end within 40 s"
    finally:
        slow.stop.set()  # no send left waiting: PutLogEvents now fails at once
        if not job.finished.is_set():
            sess.sagemaker_client.stop_training_job(TrainingJobName=name)
            job.finished.wait(timeout=60)
    assert job.status == "Completed" and slow.calls >= 1
    log = sm_tutorial.job_root(name).parent.parent / "algo-1.log"
    assert "all written" in log.read_text()


def failed_reason(sess, source, inputs):
    est = estimator(sess, source("print(1)\n"))
    with pytest.raises(Exception):
        est.fit(inputs, logs=False)
    return est.latest_training_job.describe()["FailureReason"]


def test_access_denied_is_not_no_objects_found(sess, source, endpoint, monkeypatch):
    s3 = endpoint.service.storage.s3

    class Denied:
        def __getattr__(self, name):
            return getattr(s3, name)

        def get_paginator(self, name):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "ListObjectsV2")

    monkeypatch.setattr(endpoint.service.storage, "s3", Denied())
    reason = failed_reason(sess, source, {"train": f"s3://{sess.default_bucket()}/private"})
    assert reason.startswith("ClientError: Data download failed:Failed to download data. "
                             "AccessDenied (403): Access Denied")
    assert "No S3 objects found" not in reason and "s3:ListBucket" in reason


def test_no_such_bucket_is_said(sess, source):
    reason = failed_reason(sess, source, {"train": "s3://no-such-bucket-reliability/data"})
    assert "NoSuchBucket (404)" in reason and "No S3 objects found" not in reason


def test_checkpoint_bucket_that_does_not_exist(sess, source):
    est = estimator(sess, source("print(1)\n"), checkpoint_s3_uri="s3://no-such-bucket-ckpt/ckpt")
    with pytest.raises(Exception):
        est.fit(logs=False)
    reason = est.latest_training_job.describe()["FailureReason"]
    assert reason.startswith("ClientError: Data download failed (checkpoints):") and "NoSuchBucket" in reason


@pytest.mark.parametrize("body,words", [
    (b"this is not json", "it is not JSON"),
    (json.dumps({"prefix": "s3://b/p/"}).encode(), "first element"),
    (json.dumps([{"prefix": "not-a-uri"}, "a.txt"]).encode(), "is not an s3:// URI"),
    (json.dumps([{"prefix": "s3://b/p/"}, 3]).encode(), "relative to the prefix")])
def test_bad_manifest_is_a_client_error(sess, source, body, words):
    s3, bucket = sess.boto_session.client("s3"), sess.default_bucket()
    s3.put_object(Bucket=bucket, Key="manifests/bad.manifest", Body=body)
    reason = failed_reason(sess, source, {"train": TrainingInput(
        f"s3://{bucket}/manifests/bad.manifest", s3_data_type="ManifestFile")})
    assert reason.startswith("ClientError: Data download failed:") and words in reason
    assert "InternalServerError" not in reason


def test_stop_racing_the_runner(sess, source, endpoint):
    client = sess.sagemaker_client
    src = source("print('quick')\n")
    for round in range(8):
        est = estimator(sess, src)
        est.fit(wait=False, logs=False)
        name = est.latest_training_job.name
        answers = []
        while True:  # stop again and again while the job ends on its own
            try:
                answers.append(client.stop_training_job(TrainingJobName=name))
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ValidationException", error.response
                assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
                break
        job = endpoint.service._jobs[name]
        assert job.finished.wait(30), f"round {round}: finished never set"
        d = client.describe_training_job(TrainingJobName=name)
        assert d["TrainingJobStatus"] in ("Stopped", "Completed"), d.get("FailureReason")
        assert "FailureReason" not in d and job.save_error is None


@pytest.mark.parametrize("text", ['{"pid": 12', "", '["not", "a", "record"]'])
def test_a_half_written_process_record_does_not_stop_the_next_endpoint(tmp_path, text):
    """A kernel killed while writing process.json: the next endpoint starts, trusts no PID."""
    from sm_tutorial.platform.orphans import stop_orphan
    (tmp_path / "process.json").write_text(text)
    assert stop_orphan(tmp_path) is False
    assert not (tmp_path / "process.json").exists()
