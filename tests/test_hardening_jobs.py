"""Wording and leaks around running jobs (issue 17, defect 10): a channel object gone mid-download,
credentials in pip's variables, tags across an endpoint restart, a stale AWS_PROFILE, FastFile
files the script cannot change."""
import copy
import json
import os
import stat
import subprocess
import sys
import time

import pytest
from sagemaker.inputs import TrainingInput

import sm_tutorial
from conftest import REPO, estimator, s3_tar, output_tar_uri
from test_validation import GOOD


def test_channel_object_deleted_while_downloading(sess, source, monkeypatch):
    from sagemaker.exceptions import UnexpectedStatusException
    from sm_tutorial.platform import channels
    s3, bucket = sess.boto_session.client("s3"), sess.default_bucket()
    for name in ("a.txt", "b.txt"):
        s3.put_object(Bucket=bucket, Key=f"vanishing/{name}", Body=b"data")
    listed = channels.channel_objects

    def listed_then_deleted(storage, s3_source):  # the object goes between listing and copying
        objects = listed(storage, s3_source)
        if s3_source["S3Uri"].endswith("/vanishing"):
            s3.delete_object(Bucket=bucket, Key="vanishing/b.txt")
        return objects
    monkeypatch.setattr(channels, "channel_objects", listed_then_deleted)
    est = estimator(sess, source("print('never runs')\n"))
    with pytest.raises(UnexpectedStatusException):
        est.fit({"train": f"s3://{bucket}/vanishing"}, logs=False)
    name = est.latest_training_job.name
    reason = sess.describe_training_job(name)["FailureReason"]
    assert reason.startswith("ClientError: Data download failed"), reason
    assert f"s3://{bucket}/vanishing/b.txt" in reason and "InternalServerError" not in reason
    log = sm_tutorial.job_logs(sess, name)
    assert "Data download failed" in log
    for leak in ("Traceback", str(REPO), sys.prefix, "site-packages"):
        assert leak not in log and leak not in reason, leak


def test_pip_variables_reach_the_job_without_credentials(sess, source, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://alice:s3cr3t-token@pypi.example.com/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://bob:hunter2@extra.example.com/simple "
                                              "https://plain.example.com/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "https://carol@links.example.com/wheels")
    est = estimator(sess, source("import json, os\nprint('PIP', json.dumps({k: v for k, v in "
                                 "os.environ.items() if k.startswith('PIP_')}))\n"))
    est.fit(logs=False)
    log = sm_tutorial.job_logs(sess, est.latest_training_job.name)
    seen = json.loads(log.split("PIP ", 1)[1].splitlines()[0])
    assert seen == {"PIP_INDEX_URL": "https://pypi.example.com/simple",
                    "PIP_EXTRA_INDEX_URL": "https://extra.example.com/simple "
                                           "https://plain.example.com/simple",
                    "PIP_FIND_LINKS": "https://links.example.com/wheels"}
    for secret in ("alice", "s3cr3t-token", "bob", "hunter2", "carol"):
        assert secret not in log


def wait_ended(client, name, timeout=60):
    deadline = time.time() + timeout
    while (d := client.describe_training_job(TrainingJobName=name))["TrainingJobStatus"] in (
            "InProgress", "Stopping"):
        assert time.time() < deadline, d
        time.sleep(0.05)  # polling the API, as any client must
    return d


def test_tags_survive_an_endpoint_restart(sess, tmp_path):
    from sm_tutorial.platform.endpoint import Endpoint
    workspace = tmp_path / "ws"
    endpoint = Endpoint(workspace).start()
    try:
        client = endpoint.client("sagemaker")
        request = copy.deepcopy(GOOD)
        request.update(TrainingJobName="tagged-restart", Tags=[{"Key": "team", "Value": "a"}])
        arn = client.create_training_job(**request)["TrainingJobArn"]
        wait_ended(client, "tagged-restart")
        client.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"},
                                                {"Key": "team", "Value": "b"}])
        client.delete_tags(ResourceArn=arn, TagKeys=["stage"])
        expected = client.list_tags(ResourceArn=arn)["Tags"]
        assert expected == [{"Key": "team", "Value": "b"}]
    finally:
        endpoint.stop()
    again = Endpoint(workspace).start()
    try:
        assert again.client("sagemaker").list_tags(ResourceArn=arn)["Tags"] == expected
    finally:
        again.stop()


def test_a_stale_aws_profile_does_not_break_simulated_mode(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SM_TUTORIAL_"))}
    env.update(AWS_PROFILE="no-such-profile", AWS_DEFAULT_PROFILE="no-such-profile-either",
               SM_TUTORIAL_WORKSPACE=str(tmp_path / "ws"), AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(tmp_path / "no-config"))
    code = ("import os, sm_tutorial\nsess = sm_tutorial.session()\n"
            "print('ok', sess.default_bucket(), os.environ.get('AWS_PROFILE'))\n"
            "from sm_tutorial.client.local_settings import forget_local_settings\nforget_local_settings()\n"
            "print('restored', os.environ.get('AWS_PROFILE'))\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok sagemaker-us-east-1-123456789012 None" in done.stdout
    assert "restored no-such-profile" in done.stdout  # AWS mode gets the learner's setting back


FASTFILE_WRITE = """
import json, os, stat
root = os.environ["SM_CHANNEL_TRAIN"]
first = os.path.join(root, "f0.txt")
data = open(first).read() + open(os.path.join(root, "sub", "f1.txt")).read()
modes = {"file": stat.S_IMODE(os.stat(first).st_mode), "dir": stat.S_IMODE(os.stat(root).st_mode),
         "sub": stat.S_IMODE(os.stat(os.path.join(root, "sub")).st_mode),
         "nested": stat.S_IMODE(os.stat(os.path.join(root, "sub", "f1.txt")).st_mode)}
attempts = {}
for what, action in {"overwrite": lambda: open(first, "w").write("changed"),
                     "create": lambda: open(os.path.join(root, "new.txt"), "w").write("x"),
                     "delete": lambda: os.remove(os.path.join(root, "sub", "f1.txt"))}.items():
    try:
        action()
        attempts[what] = "allowed"
    except PermissionError:
        attempts[what] = "refused"
json.dump({"modes": modes, "attempts": attempts, "root": os.geteuid() == 0, "data": data},
          open(os.environ["SM_OUTPUT_DATA_DIR"] + "/ro.json", "w"))
"""


@pytest.mark.parametrize("prefetch", [True, False], ids=["prefetched", "fetched-on-open"])
def test_fastfile_channels_are_read_only(sess, source, endpoint, prefetch):
    s3, bucket = sess.boto_session.client("s3"), sess.default_bucket()
    for key in ("f0.txt", "sub/f1.txt"):
        s3.put_object(Bucket=bucket, Key=f"fastfile-ro/{key}", Body=b"original")
    endpoint.service.fastfile_prefetch = prefetch  # off: only the script's own open fetches
    try:
        est = estimator(sess, source(FASTFILE_WRITE))
        est.fit({"train": TrainingInput(f"s3://{bucket}/fastfile-ro", input_mode="FastFile")},
                logs=False)
    finally:
        endpoint.service.fastfile_prefetch = True
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    seen = json.loads(s3_tar(sess, output_tar_uri(d))["ro.json"])
    assert seen["data"] == "originaloriginal"
    # the mode bits say read-only, as AWS's read-only mount does
    assert seen["modes"] == {"file": 0o444, "dir": 0o555, "sub": 0o555, "nested": 0o444}
    if not seen["root"]:  # root ignores mode bits: there only the bits can be checked
        assert seen["attempts"] == {"overwrite": "refused", "create": "refused", "delete": "refused"}
    # once the job has ended its folder can be removed again, by a learner who is not root too
    folder = sm_tutorial.workspace() / "jobs" / d["TrainingJobName"]
    folders = [p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()]
    assert folder / "opt" / "ml" / "input" / "data" / "train" / "sub" in folders
    assert all(p.stat().st_mode & stat.S_IWUSR for p in folders)


def test_aws_mode_keeps_what_the_learner_set_after_a_simulated_session(sess, monkeypatch):
    """Switching to AWS mode gives back the variables simulated mode replaced, but never undoes
    one the learner set since (found while checking the AWS_PROFILE fix: test_aws_mode failed
    after any simulated session in the same process)."""
    from sm_tutorial.client.local_settings import forget_local_settings
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSETLATER")
    monkeypatch.setenv("AWS_PROFILE", "set-later")
    try:
        forget_local_settings()
        assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIDSETLATER"
        assert os.environ["AWS_PROFILE"] == "set-later"
        assert "AWS_ENDPOINT_URL" not in os.environ  # what simulated mode set is undone
    finally:
        monkeypatch.undo()
        sm_tutorial.session()  # the other tests' simulated settings back
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing" and "AWS_PROFILE" not in os.environ
