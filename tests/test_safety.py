"""Safety: loopback only, no secrets or machine paths in outputs, nothing written outside the
workspace, and real AWS never without opt-in."""
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

import sm_tutorial
from conftest import REPO, estimator

LEAKS = [
    (re.compile(r"AKIA[0-9A-Z]{16}"), "an AWS access key"),
    (re.compile(r"aws_secret_access_key|AWS_SECRET_ACCESS_KEY"), "a secret key name"),
    (re.compile(r"(?<![\w.])(?!123456789012)\d{12}(?![\w.])"), "an account ID other than moto's"),
    (re.compile(r"/root/|/home/[a-z]|/Users/[A-Za-z]|/work/|/tmp/"), "a machine path"),
]


@pytest.mark.parametrize("notebook", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_leak_nothing(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    outputs = json.dumps([c.get("outputs", []) for c in cells if c["cell_type"] == "code"])
    outputs = re.sub(r'"image/png": "[^"]*"', "", outputs)  # base64 pictures are not text
    for pattern, what in LEAKS:
        found = pattern.search(outputs)
        assert not found, f"{notebook.name}: an output shows {what}: {found.group(0)!r}"
    unrun = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()
             and c.get("execution_count") is None]
    assert not unrun, f"{notebook.name}: {len(unrun)} code cells were never run"


def test_descriptions_and_platform_logs_hold_no_credentials(sess, source):
    est = estimator(sess, source("print('hello')\n"))
    est.fit(logs=False)
    name = est.latest_training_job.name
    description = json.dumps(sess.sagemaker_client.describe_training_job(TrainingJobName=name), default=str)
    log = sm_tutorial.job_logs(sess, name)
    for text in (description, log):
        assert "AWS_SECRET_ACCESS_KEY" not in text and "AWS_SESSION_TOKEN" not in text
        assert "testing" not in text  # the fake credentials' value


def tarball(members):
    """members: list of (TarInfo name, type, linkname or bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, payload
                tar.addfile(info)
    return buffer.getvalue()


ESCAPES = {
    "dotdot": [("../escaped.txt", "file", b"x")],
    "absolute": [("/tmp/sm-tutorial-escaped.txt", "file", b"x")],
    "symlink-out": [("link", "symlink", "/etc"), ("link/escaped.txt", "file", b"x")],
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_extract_refuses_members_that_escape(tmp_path, case):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(tarball(ESCAPES[case]))
    with pytest.raises(ValueError, match="refused to extract"):
        sm_tutorial.extract(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/sm-tutorial-escaped.txt").exists()
    assert not Path("/etc/escaped.txt").exists()


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_source_archive_that_escapes_fails_the_job(sess, case, tmp_path):
    """A sourcedir.tar.gz made by hand (not by the SDK) cannot write outside /opt/ml/code."""
    from test_validation import GOOD
    import copy
    s3 = sess.boto_session.client("s3")
    bucket = sess.default_bucket()
    key = f"evil/{case}/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=tarball(ESCAPES[case] + [("train.py", "file", b"print(1)")]))
    request = copy.deepcopy(GOOD)
    request["TrainingJobName"] = f"escape-{case}"
    request["HyperParameters"] = {"sagemaker_program": '"train.py"',
                                  "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/{key}")}
    sess.sagemaker_client.create_training_job(**request)
    import time
    deadline = time.time() + 30
    while (d := sess.describe_training_job(request["TrainingJobName"]))["TrainingJobStatus"] == "InProgress":
        assert time.time() < deadline
        time.sleep(0.05)
    assert d["TrainingJobStatus"] == "Failed"
    assert "would land outside /opt/ml/code" in d["FailureReason"]
    root = sm_tutorial.job_root(request["TrainingJobName"])
    assert not (root / "escaped.txt").exists() and not Path("/tmp/sm-tutorial-escaped.txt").exists()


def test_s3_key_that_climbs_out_of_the_channel(sess, source):
    from sagemaker.exceptions import UnexpectedStatusException
    bucket = sess.default_bucket()
    s3 = sess.boto_session.client("s3")
    s3.put_object(Bucket=bucket, Key="climb/data/ok.txt", Body=b"ok")
    s3.put_object(Bucket=bucket, Key="climb/data/../../../../escaped.txt", Body=b"x")
    est = estimator(sess, source("print(1)\n"))
    with pytest.raises(UnexpectedStatusException):
        est.fit({"train": f"s3://{bucket}/climb/data"}, logs=False)
    d = est.latest_training_job.describe()
    assert "would be written outside the channel folder" in d["FailureReason"]
    root = sm_tutorial.job_root(d["TrainingJobName"])
    assert not (root / "input" / "data" / "train" / "ok.txt").exists()  # nothing was written
    assert not list(root.parent.parent.parent.glob("**/escaped.txt"))


def test_real_aws_never_without_opt_in():
    """Covered against a stand-in account in test_aws_mode.py; kept here so the list is whole."""
    import test_aws_mode
    assert test_aws_mode.test_refuses_to_launch_without_opt_in
