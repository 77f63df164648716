"""Hardening (issue 17, defects 1-6): old Pythons, full disks, two kernels, leaked daemons,
deleted output folders, case twins. Each test failed before its fix."""
import errno
import io
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

import sm_tutorial
from conftest import REPO, estimator, s3_tar
from test_faults import alive, run_python, wait_for
from test_safety import ESCAPES, tarball

OLD_PYTHON = Path("/usr/bin/python3.11")  # Debian 12's own: 3.11.2, no extractall(filter=)


def special_tarball(kind: str) -> bytes:
    """Archives the data filter refuses that test_safety's ESCAPES do not cover."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        if kind == "device":
            info = tarfile.TarInfo("dev-null")
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            tar.addfile(info)
        elif kind == "hardlink-out":
            info = tarfile.TarInfo("passwd")
            info.type, info.linkname = tarfile.LNKTYPE, "../../../../etc/passwd"
            tar.addfile(info)
        elif kind == "symlink-chain":  # each link looks harmless; followed, they leave
            for name, target in (("a", "."), ("a2", "a/.."), ("a3", "a2/..")):
                info = tarfile.TarInfo(name)
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
            data = b"x"
            info = tarfile.TarInfo("a3/escaped.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def good_tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data, mode in (("model/weights.bin", b"w" * 10, 0o4755), ("notes.txt", b"hi", 0o644)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("latest")
        info.type, info.linkname = tarfile.SYMTYPE, "model/weights.bin"
        tar.addfile(info)
        info = tarfile.TarInfo("copy.bin")
        info.type, info.linkname = tarfile.LNKTYPE, "model/weights.bin"
        tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def python_without_tar_filters(monkeypatch):
    """tarfile as Python 3.11.2 has it: no filter= argument, no FilterError, no data_filter."""
    original = tarfile.TarFile.extractall

    def extractall(self, path=".", members=None, *, numeric_owner=False):
        return original(self, path, members, numeric_owner=numeric_owner, filter="fully_trusted")
    monkeypatch.setattr(tarfile.TarFile, "extractall", extractall)
    for name in ("FilterError", "data_filter", "AbsolutePathError", "OutsideDestinationError",
                 "SpecialFileError", "AbsoluteLinkError", "LinkOutsideDestinationError"):
        monkeypatch.delattr(tarfile, name, raising=False)


@pytest.mark.parametrize("case", sorted(ESCAPES) + ["device", "hardlink-out", "symlink-chain"])
def test_extract_refuses_escapes_without_tar_filters(tmp_path, python_without_tar_filters, case):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(tarball(ESCAPES[case]) if case in ESCAPES else special_tarball(case))
    out = tmp_path / "deep" / "er" / "out"
    with pytest.raises(ValueError, match="refused to extract"):
        sm_tutorial.extract(archive, out)
    assert not (tmp_path / "deep" / "er" / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/sm-tutorial-escaped.txt").exists() and not Path("/etc/escaped.txt").exists()
    assert not (out / "dev-null").exists()


def test_extract_without_tar_filters_keeps_good_members(tmp_path, python_without_tar_filters):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(good_tarball())
    names = sm_tutorial.extract(archive, tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(names) == ["copy.bin", "latest", "model/weights.bin", "notes.txt"]
    assert (out / "model" / "weights.bin").read_bytes() == b"w" * 10
    assert os.readlink(out / "latest") == "model/weights.bin" and (out / "copy.bin").read_bytes() == b"w" * 10
    assert not (out / "model" / "weights.bin").stat().st_mode & 0o7000  # no setuid, as "data" does


@pytest.mark.skipif(not OLD_PYTHON.exists(), reason="no /usr/bin/python3.11 on this machine")
def test_extract_runs_on_the_system_python(tmp_path):
    """The extraction modules import only the standard library: run them on Debian's 3.11.2."""
    (tmp_path / "good.tar.gz").write_bytes(good_tarball())
    (tmp_path / "bad.tar.gz").write_bytes(tarball(ESCAPES["dotdot"]))
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r})\nfrom sm_tutorial.client.results import extract\n"
            f"print(sys.version.split()[0], sorted(extract({str(tmp_path / 'good.tar.gz')!r}, "
            f"{str(tmp_path / 'good')!r})))\n"
            f"try:\n    extract({str(tmp_path / 'bad.tar.gz')!r}, {str(tmp_path / 'bad')!r})\n"
            f"except ValueError as error:\n    print('refused', error)\n")
    done = subprocess.run([str(OLD_PYTHON), "-I", "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0, done.stderr
    version, rest = done.stdout.split(" ", 1)
    assert "copy.bin" in rest and "refused to extract '../escaped.txt'" in rest, done.stdout
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.skipif(not OLD_PYTHON.exists() or sys.version_info[:2] != (3, 11),
                    reason="needs /usr/bin/python3.11 and a 3.11 venv whose packages it can load")
def test_a_job_runs_on_the_system_python(tmp_path):
    """A whole fit() on Debian's 3.11.2, borrowing this venv's packages (same ABI, cp311)."""
    import sysconfig
    venv = tmp_path / "py"
    subprocess.run([str(OLD_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = next((venv / "lib").glob("python3.11/site-packages"))
    (site / "borrowed.pth").write_text(f"{REPO}\n{REPO / 'tests'}\n{sysconfig.get_paths()['purelib']}\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(
        "import os, platform\nopen(os.path.join(os.environ['SM_MODEL_DIR'], 'v'), 'w')"
        ".write(platform.python_version())\n")
    code = (f"import sm_tutorial\nfrom conftest import estimator, s3_tar\n"
            f"sess = sm_tutorial.session()\nest = estimator(sess, {str(tmp_path / 'src')!r})\n"
            f"est.fit(logs=False)\nprint('model', s3_tar(sess, est.model_data)['v'].decode())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "SM_TUTORIAL_ENDPOINT")}
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          timeout=300, env=dict(env, SM_TUTORIAL_WORKSPACE=str(tmp_path / "ws")))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    version = subprocess.run([str(OLD_PYTHON), "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    assert f"model {version}" in done.stdout  # the script itself ran on the system Python


# -- job names: one per workspace, across processes, whatever the case (defects 3 and 6) ----
def test_job_names_that_differ_only_in_case_are_the_same_name(sess, source):
    """AWS's job names are unique ignoring case (the ARN is lower-cased): the twin is refused."""
    from botocore.exceptions import ClientError
    name = f"CaseTwin-{uuid.uuid4().hex[:8]}"
    first = estimator(sess, source("print('first')\n"))
    first.fit(job_name=name, logs=False)
    twin = estimator(sess, source("print('twin')\n"))
    with pytest.raises(ClientError) as caught:
        twin.fit(job_name=name.lower(), wait=False)
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceInUse" and "must be unique" in error["Message"], error
    assert name.lower() not in [j["TrainingJobName"] for j in
                                sess.sagemaker_client.list_training_jobs(NameContains=name.lower())
                                ["TrainingJobSummaries"]]
    assert sess.describe_training_job(name)["TrainingJobStatus"] == "Completed"


WAITING_SCRIPT = """
import os, time
print("pid", os.getpid(), flush=True)
release = {release!r}
deadline = time.time() + 120
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
open(os.path.join(os.environ["SM_MODEL_DIR"], "who.txt"), "w").write({who!r})
"""


def test_a_second_kernel_cannot_take_a_running_jobs_name(tmp_path):
    """Kernel A runs job N; kernel B on the same workspace asks for N too. B gets ResourceInUse,
    and A's folder, log, script and model are untouched (it used to be deleted under A)."""
    workspace, release = tmp_path / "ws", tmp_path / "release"
    for who in ("A", "B"):
        (tmp_path / who).mkdir()
        (tmp_path / who / "train.py").write_text(WAITING_SCRIPT.format(release=str(release), who=who))
    name = f"shared-{uuid.uuid4().hex[:8]}"
    launch = f"""
        import sm_tutorial, time
        from botocore.exceptions import ClientError
        from conftest import estimator
        sess = sm_tutorial.session()
        est = estimator(sess, {{src!r}})
        try:
            est.fit(job_name={name!r}, wait=False)
        except ClientError as error:
            print("refused", error.response["Error"]["Code"], flush=True)
        else:
            print("accepted", flush=True)
    """
    kernel_a = run_python(textwrap.dedent(launch).format(src=str(tmp_path / "A")) + textwrap.dedent(f"""
        while sess.describe_training_job({name!r})["TrainingJobStatus"] == "InProgress":
            time.sleep(0.05)
        print("final", sess.describe_training_job({name!r})["TrainingJobStatus"], flush=True)
    """), workspace, cwd=Path(__file__).parent)
    try:
        assert kernel_a.stdout.readline().strip() == "accepted"
        log = workspace / "jobs" / name / "algo-1.log"
        pid = wait_for(lambda: log.exists() and (lambda m: int(m.split()[1]) if m.startswith("pid") else None)(
            next((l for l in log.read_text().splitlines() if l.startswith("pid ")), "")), timeout=60)
        kernel_b = run_python(textwrap.dedent(launch).format(src=str(tmp_path / "B")), workspace,
                              cwd=Path(__file__).parent)
        out_b, _ = kernel_b.communicate(timeout=120)
        assert "refused ResourceInUse" in out_b, out_b
        assert alive(pid) and log.exists() and f"pid {pid}" in log.read_text()
        release.touch()
        out_a, _ = kernel_a.communicate(timeout=120)
        assert "final Completed" in out_a, out_a
    finally:
        release.touch()
        if kernel_a.poll() is None:
            kernel_a.kill()
            kernel_a.wait()
    with __import__("tarfile").open(workspace / "jobs" / name / "model.tar.gz") as tar:
        assert tar.extractfile("who.txt").read() == b"A"  # A's model holds A's file only
    assert "pid" in (workspace / "jobs" / name / "algo-1.log").read_text()


# -- a full or read-only disk (defect 2) ------------------------------------------------------
BROKEN_DISK: dict[str, int] = {}  # folder -> errno that every write under it fails with
WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _disk_hook(event, args):
    """Audit hook: in this process, writes under a folder of BROKEN_DISK fail as on a full or
    read-only disk (open for writing, mkdir, rename/replace, remove)."""
    if not BROKEN_DISK or event not in ("open", "os.mkdir", "os.rename", "os.remove"):
        return
    if event == "open" and not (isinstance(args[2], int) and args[2] & WRITES
                                or isinstance(args[1], str) and set(args[1]) & set("wax+")):
        return
    paths = [os.path.abspath(os.fsdecode(a)) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
    for folder, code in list(BROKEN_DISK.items()):
        if any(p == folder or p.startswith(folder + os.sep) for p in paths):
            raise OSError(code, os.strerror(code), paths[0])


sys.addaudithook(_disk_hook)  # cannot be removed: it does nothing while BROKEN_DISK is empty


@pytest.fixture
def job_thread_errors(monkeypatch):
    """Exceptions that escaped a job's thread (they print a traceback into the notebook)."""
    seen = []
    previous = threading.excepthook
    monkeypatch.setattr(threading, "excepthook", lambda args: (
        seen.append(args) if args.thread.name.startswith("job-") else previous(args)))
    yield seen
    BROKEN_DISK.clear()


def wait_until_ended(sess, name, timeout=60):
    seen = []
    def ended():
        d = sess.describe_training_job(name)
        seen.append(f"{d['TrainingJobStatus']}/{d['SecondaryStatus']}")
        return d if d["TrainingJobStatus"] in ("Completed", "Failed", "Stopped") else None
    try:
        return wait_for(ended, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{name} did not end within {timeout} s; last seen {seen[-1:]}") from None


@pytest.mark.parametrize("code, words, stop", [(errno.ENOSPC, "full", False),
                                               (errno.EROFS, "read-only", True)])
def test_a_full_or_read_only_disk_fails_the_job_without_hanging(sess, source, tmp_path,
                                                                  job_thread_errors, code, words, stop):
    """The disk under the job fills up (or turns read-only) while the script runs: the job
    ends Failed, saying so, instead of hanging InProgress (or Stopping) for ever."""
    release = tmp_path / "release"
    est = estimator(sess, source(WAITING_SCRIPT.format(release=str(release), who="x")))
    est.fit(wait=False)
    name = est.latest_training_job.name
    pid = wait_for(lambda: (lambda m: int(m.split()[1]) if m else None)(next(
        (l for l in sm_tutorial.job_logs(sess, name).splitlines() if l.startswith("pid ")), None)))
    BROKEN_DISK[str(sm_tutorial.job_root(name).parent.parent)] = code
    if stop:
        sess.sagemaker_client.stop_training_job(TrainingJobName=name)
    release.touch()
    d = wait_until_ended(sess, name)
    assert d["TrainingJobStatus"] == "Failed", d["TrainingJobStatus"]
    assert os.strerror(code) in d["FailureReason"] and words in d["FailureReason"], d["FailureReason"]
    assert "SM_TUTORIAL_WORKSPACE" in d["FailureReason"]  # how to fix it
    assert not alive(pid) and not job_thread_errors
    from sm_tutorial.client.sdk import local_endpoint
    assert local_endpoint().service._jobs[name].finished.is_set()  # cleanup_jobs may remove it


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


def test_a_job_filling_a_real_small_disk_ends_failed(tmp_path):
    """The issue's own case: a workspace on a 24 MB tmpfs, a script writing 64 MB of model."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "24m"):
        pytest.skip("mounting a tmpfs needs root and mount(8); the audit-hook test covers the rest")
    try:
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "train.py").write_text(
            "import os\nwith open(os.path.join(os.environ['SM_MODEL_DIR'], 'big'), 'wb') as f:\n"
            "    for _ in range(64):\n        f.write(os.urandom(1 << 20))\n")
        kernel = run_python(f"""
            import sm_tutorial
            from conftest import estimator
            sess = sm_tutorial.session()
            est = estimator(sess, {str(tmp_path / 'src')!r})
            try:
                est.fit(logs=False)
            except Exception:
                pass
            d = est.latest_training_job.describe()
            print("final", d["TrainingJobStatus"], repr(d.get("FailureReason")), flush=True)
        """, disk / "ws", cwd=Path(__file__).parent)
        try:
            out, _ = kernel.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            kernel.kill()
            out, _ = kernel.communicate()
            raise AssertionError(f"fit() on a full disk did not return within 180 s:\n{out[-2000:]}")
        assert "final Failed" in out and "No space left on device" in out, out[-3000:]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


# -- a script that deletes the folders the platform needs (defect 5) ----------------------------
@pytest.mark.parametrize("variable", ["SM_OUTPUT_DIR", "SAGEMAKER_BASE_DIR"])
def test_a_script_that_deletes_its_output_folder_gets_a_reason(sess, source, job_thread_errors, variable,
                                                               monkeypatch):
    from sagemaker.exceptions import UnexpectedStatusException
    if variable == "SAGEMAKER_BASE_DIR":  # set where /opt/ml is relocated (the fallback)
        monkeypatch.setenv("SM_TUTORIAL_NAMESPACES", "off")
    est = estimator(sess, source(f"import os, shutil\nshutil.rmtree(os.environ[{variable!r}])\n"))
    with pytest.raises(UnexpectedStatusException):
        est.fit(logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Failed" and variable in d.get("FailureReason", ""), d.get("FailureReason")
    assert "leave" in d["FailureReason"]  # what to do instead
    assert not job_thread_errors, job_thread_errors  # no traceback printed into the notebook


def test_a_script_that_deletes_its_model_folder_still_has_a_model_tar_gz(sess, source):
    """ModelArtifacts must name an object that exists: an empty model.tar.gz, as for a script
    that never saves a model, and a warning in the log."""
    est = estimator(sess, source("import os, shutil\nshutil.rmtree(os.environ['SM_MODEL_DIR'])\n"))
    est.fit(logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed"
    assert s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"]) == {}
    assert "deleted the model directory (SM_MODEL_DIR)" in sm_tutorial.job_logs(sess, d["TrainingJobName"])


def test_creating_a_job_on_a_full_disk_says_so(sess, source, job_thread_errors):
    """CreateTrainingJob when the workspace cannot take a new job folder: an error a client
    does not retry, naming the disk, and no half-made folder left holding the name."""
    from botocore.exceptions import ClientError
    from sm_tutorial.settings import workspace
    name = f"full-{uuid.uuid4().hex[:8]}"
    est = estimator(sess, source("print('hi')\n"))
    BROKEN_DISK[str(workspace() / "jobs")] = errno.ENOSPC
    try:
        with pytest.raises(ClientError) as caught:
            est.fit(job_name=name, wait=False)
    finally:
        BROKEN_DISK.clear()
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceLimitExceeded", error
    assert "full" in error["Message"] and "SM_TUTORIAL_WORKSPACE" in error["Message"], error
    assert not (workspace() / "jobs" / name).exists()
    est.fit(job_name=name, logs=False)  # once there is room, the name is free
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"


def test_a_disk_failure_names_the_container_path(sess, source, job_thread_errors):
    """disk.failure's path goes through the container mapping: the guard's folder is
    /usr/local/lib/sagemaker/bootstrap in the FailureReason, not the workspace path."""
    from sm_tutorial.settings import workspace
    name = f"disk-bootstrap-{uuid.uuid4().hex[:8]}"
    job_folder = workspace() / "jobs" / name
    BROKEN_DISK[str(job_folder / "opt" / "bootstrap")] = errno.ENOSPC
    est = estimator(sess, source("print('never runs')\n"))
    est.fit(job_name=name, wait=False)
    d = wait_until_ended(sess, name)
    assert d["TrainingJobStatus"] == "Failed" and "full" in d["FailureReason"], d
    assert "(/usr/local/lib/sagemaker/bootstrap" in d["FailureReason"], d["FailureReason"]
    log = (job_folder / "algo-1.log").read_text()
    for text in (d["FailureReason"], log):
        assert str(job_folder) not in text and os.path.realpath(job_folder) not in text
    assert not job_thread_errors
