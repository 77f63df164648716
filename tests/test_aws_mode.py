"""Real-AWS mode, tested against a stand-in: moto's server on loopback plays the account.

Nothing here reaches the internet: AWS_ENDPOINT_URL points every client at the stand-in, the
credentials are fake, and the SDK's telemetry is opted out.
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

import sm_tutorial
from sm_tutorial.client import aws_mode, local_settings, sdk

ROLE = "arn:aws:iam::123456789012:role/DemoSageMakerRole"


@pytest.fixture(scope="module")
def standin():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except Exception:
            assert time.time() < deadline, "moto stand-in did not start"
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def pristine_environment():
    """Put back, after an AWS-mode test, everything it changed outside monkeypatch's reach:
    os.environ (AWS mode forgets the simulated session's settings directly) and the simulated
    session's bookkeeping. Torn down after monkeypatch, so nothing of the stand-in's survives:
    later test files talk to the simulated endpoint again, never to AWS's real hosts."""
    env, saved, ours = dict(os.environ), dict(local_settings._SAVED_ENV), dict(local_settings._OURS)
    imds, mode = sm_tutorial._IMDS_OFF_BY_US, sdk._mode
    yield
    os.environ.clear()
    os.environ.update(env)
    local_settings._SAVED_ENV.clear()
    local_settings._SAVED_ENV.update(saved)
    local_settings._OURS.clear()
    local_settings._OURS.update(ours)
    sm_tutorial._IMDS_OFF_BY_US, sdk._mode = imds, mode


@pytest.fixture
def aws(standin, pristine_environment, monkeypatch, tmp_path):
    """AWS mode against the stand-in, with a fresh account state."""
    urllib.request.urlopen(urllib.request.Request(standin + "/moto-api/reset", method="POST")).close()
    # Undo an earlier test's simulated session first: it would give AWS_DEFAULT_REGION back
    # (unset) over the value set below, which equals simulated mode's own.
    local_settings.forget_local_settings()
    for name in ("AWS_PROFILE", "SM_TUTORIAL_ENDPOINT", aws_mode.CONFIRM_ENV, aws_mode.MAX_RUN_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", standin)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSTANDIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "standin-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "standin-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("SM_TUTORIAL_MODE", "aws")
    monkeypatch.setenv(aws_mode.ROLE_ENV, ROLE)
    boto3.client("iam").create_role(RoleName="DemoSageMakerRole", AssumeRolePolicyDocument="{}")
    yield standin


def tiny_estimator(sess, tmp_path, **kwargs):
    from sagemaker.tensorflow import TensorFlow
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "train.py").write_text("print('on AWS')\n")
    return TensorFlow(entry_point="train.py", source_dir=str(tmp_path / "src"), role=sm_tutorial.role(),
                      instance_type="ml.m5.xlarge", instance_count=1, framework_version="2.16",
                      py_version="py310", sagemaker_session=sess, **kwargs)


def test_refuses_to_launch_without_opt_in(aws, tmp_path, capsys):
    sess = sm_tutorial.session()
    assert isinstance(sess, aws_mode.GuardedSession)
    with pytest.raises(aws_mode.CostNotConfirmed, match=aws_mode.CONFIRM_ENV):
        tiny_estimator(sess, tmp_path).fit(wait=False)
    out = capsys.readouterr().out
    assert "1 x ml.m5.xlarge" in out and "$" in out and "max_run lowered to 1800 s" in out
    assert sess.sagemaker_client.list_training_jobs()["TrainingJobSummaries"] == []


def test_launches_with_opt_in_capped_under_the_course_prefix(aws, tmp_path, monkeypatch):
    monkeypatch.setenv(aws_mode.MAX_RUN_ENV, "600")
    sess = sm_tutorial.session(confirm_costs=True)
    data = sm_tutorial.upload_digits(sess)
    bucket = sess.default_bucket()
    assert data["train"] == f"s3://{bucket}/sm-tutorial/data/digits/train"
    est = tiny_estimator(sess, tmp_path, hyperparameters={"epochs": 1})
    est.fit({"train": data["train"]}, wait=False)
    d = sess.sagemaker_client.describe_training_job(TrainingJobName=est.latest_training_job.name)
    assert d["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert d["StoppingCondition"]["MaxRuntimeInSeconds"] == 600
    assert d["RoleArn"] == ROLE
    assert d["OutputDataConfig"]["S3OutputPath"].startswith(f"s3://{bucket}/sm-tutorial")
    assert d["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == data["train"]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith("sm-tutorial/") for k in keys)
    assert any(k.endswith("source/sourcedir.tar.gz") for k in keys)


def test_preflight_all_good(aws):
    results = aws_mode.preflight()
    assert all(ok for ok, _ in results), results
    text = "\n".join(line for _, line in results)
    assert "credentials:" in text and ROLE in text and "sm-tutorial/" in text and "Service Quotas" in text


def test_preflight_missing_credentials(aws, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    [(ok, line)] = aws_mode.preflight()
    assert not ok and "No AWS credentials found" in line and "aws configure" in line


def test_preflight_missing_role(aws, monkeypatch):
    monkeypatch.delenv(aws_mode.ROLE_ENV)
    results = dict((line.split(":")[0], ok) for ok, line in aws_mode.preflight())
    problems = [line for ok, line in aws_mode.preflight() if not ok]
    assert len(problems) == 1 and aws_mode.ROLE_ENV in problems[0] and "trust policy" in problems[0]
    monkeypatch.setenv(aws_mode.ROLE_ENV, "arn:aws:iam::123456789012:role/NoSuchRole")
    problems = [line for ok, line in aws_mode.preflight() if not ok]
    assert len(problems) == 1 and "NoSuchRole" in problems[0] and "cannot be read" in problems[0]
    assert results


def test_cleanup_deletes_exactly_the_course_prefix(aws):
    sess = sm_tutorial.session()
    bucket = sess.default_bucket()
    s3 = boto3.client("s3")
    for key in ("sm-tutorial/data/a.csv", "sm-tutorial/job-1/output/model.tar.gz",
                "sm-tutorial-other/keep.txt", "keep/me.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    listed = aws_mode.cleanup(sess, dry_run=True)
    assert sorted(listed["deleted"]) == ["sm-tutorial/data/a.csv", "sm-tutorial/job-1/output/model.tar.gz"]
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 4  # a dry run deletes nothing
    done = aws_mode.cleanup(sess)
    assert done["deleted"] == listed["deleted"]
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert left == ["keep/me.txt", "sm-tutorial-other/keep.txt"]


def test_doctor_aws_prints_the_preflight(aws):
    env = dict(os.environ)
    done = subprocess.run([sys.executable, "-m", "sm_tutorial", "doctor", "--aws"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "AWS preflight" in done.stdout and f"ok   role: {ROLE}" in done.stdout, done.stdout + done.stderr
