"""A job's own /opt/ml through Linux user and mount namespaces (container/mounts.py), and the
fallback where there are none: which mode runs, why, how to get the real one, and that a job in
its own namespace has AWS's paths and no more rights than the learner."""
import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sagemaker.inputs import TrainingInput

from conftest import estimator, s3_tar
from sm_tutorial.container import mounts


@pytest.mark.parametrize("sysctl,words", [
    ({"kernel.apparmor_restrict_unprivileged_userns": "1"},
     ["AppArmor", "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0"]),
    ({"kernel.unprivileged_userns_clone": "0"}, ["sudo sysctl kernel.unprivileged_userns_clone=1"]),
    ({"user.max_user_namespaces": "0"}, ["sudo sysctl user.max_user_namespaces=15000"]),
    ({}, ["seccomp", "--security-opt seccomp=unconfined"]),
])
def test_why_not_names_the_setting_and_the_fix(monkeypatch, sysctl, words):
    monkeypatch.setattr(mounts, "_sysctl", sysctl.get)
    reason = mounts.why_not(errno.EPERM)
    for word in words:
        assert word in reason, reason


def test_other_systems_get_the_fallback_with_the_reason(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert "darwin has no Linux mount namespaces" in mounts.probe()
    with pytest.raises(mounts.Unavailable, match="darwin"):
        mounts.enter("/nowhere")


def test_the_setting_switches_namespaces_off(monkeypatch):
    monkeypatch.setenv(mounts.SETTING, "off")
    assert "SM_TUTORIAL_NAMESPACES=off" in mounts.unavailable()


def test_doctor_says_which_mode_and_why():
    from sm_tutorial.cli import doctor
    own = {c.name: c for c in doctor.check_all(namespaces=lambda: None)}["container"]
    assert own.ok and "its own /opt/ml" in own.detail
    fallback = {c.name: c for c in doctor.check_all(
        namespaces=lambda: "AppArmor restricts ... sudo sysctl x=0")}["container"]
    assert fallback.ok and "relocated" in fallback.detail and "sudo sysctl x=0" in fallback.detail


def test_an_unprivileged_learner_gets_a_namespace_too(namespaced):
    """The mode does not need root: the probe passes as user nobody (run from root via setpriv)."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if os.getuid() != 0 or not shutil.which("setpriv") or not python:
        pytest.skip("needs root, setpriv and a system python3 to become another user")
    top = Path(tempfile.mkdtemp(prefix="sm-tutorial-nobody-"))  # /tmp/pytest-of-root is 0700
    try:
        top.chmod(0o755)
        (top / "root").mkdir()
        (top / "root" / "probe").touch()
        shutil.copy(mounts.__file__, top / "mounts.py")
        (top / "mounts.py").chmod(0o644)
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               python, "-I", "-S", str(top / "mounts.py"), "--probe",
                               str(top / "root")], capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "ok", (done.stdout, done.stderr)
    finally:
        shutil.rmtree(top)


def test_the_log_starts_with_the_container_mode(sess, source, monkeypatch):
    import sm_tutorial
    monkeypatch.setenv(mounts.SETTING, "off")
    est = estimator(sess, source("print('hi')\n"))
    est.fit(logs=False)
    log = sm_tutorial.job_logs(sess, est.latest_training_job.name)
    assert "Container: /opt/ml is relocated" in log and "SM_TUTORIAL_NAMESPACES=off is set" in log
    monkeypatch.delenv(mounts.SETTING)
    if mounts.unavailable() is None:
        est.fit(logs=False)
        log = sm_tutorial.job_logs(sess, est.latest_training_job.name)
        assert "Container: /opt/ml is this job's own folder" in log


def test_the_script_runs_as_the_learner(sess, source, endpoint, namespaced):
    est = estimator(sess, source("""
        import os
        open("/opt/ml/model/ids.txt", "w").write(f"{os.getuid()} {os.getgid()}")
        """))
    est.fit(logs=False)
    assert s3_tar(sess, est.model_data)["ids.txt"] == f"{os.getuid()} {os.getgid()}".encode()
    written = endpoint.workspace / "jobs" / est.latest_training_job.name / "opt" / "ml" / "model" / "ids.txt"
    assert (written.stat().st_uid, written.stat().st_gid) == (os.getuid(), os.getgid())


PIPE_BYO = """
import os, time
fifo = "/opt/ml/input/data/training_0"   # as pipe_bring_your_own/train.py: by its literal name
while not os.path.exists(fifo):
    time.sleep(0.1)
size = 0
with open(fifo, "rb") as stream:
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        size += len(chunk)
open("/opt/ml/model/size.txt", "w").write(str(size))
print("read", size, "bytes")
"""


def test_a_fifo_read_by_its_literal_name_works_in_the_namespace(sess, source, digits, namespaced):
    est = estimator(sess, source(PIPE_BYO), max_run=120)
    est.fit({"training": TrainingInput(digits["train"], input_mode="Pipe")}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    s3 = sess.boto_session.client("s3")
    bucket, prefix = digits["train"][5:].split("/", 1)
    expected = sum(o["Size"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    assert int(s3_tar(sess, est.model_data)["size.txt"]) == expected


def test_nothing_is_mounted_on_the_host(sess, source, namespaced):
    before = Path("/proc/self/mountinfo").read_text()
    est = estimator(sess, source("import os\nprint(os.listdir('/opt/ml'))\n"))
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    assert Path("/proc/self/mountinfo").read_text() == before
