"""What a dead endpoint leaves in the workspace: read-only FastFile folders, half-made job
folders, orphaned processes; the next endpoint or cleanup copes with each."""
from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
import time
import types

import pytest

from sm_tutorial.platform.service import TrainingService


def _enforce_write_bits(monkeypatch):
    """unlink/rmdir refused in a folder without u+w, as the kernel does for a non-root user
    (root ignores mode bits, so the test would prove nothing as root without this)."""
    def guarded(real):
        def call(path, *, dir_fd=None):
            parent = (os.fstat(dir_fd) if dir_fd is not None
                      else os.stat(os.path.dirname(os.path.abspath(path))))
            if not parent.st_mode & stat.S_IWUSR:
                raise PermissionError(errno.EACCES, "Permission denied", path)
            return real(path, dir_fd=dir_fd)
        call.__name__ = real.__name__
        return call
    monkeypatch.setattr(os, "unlink", guarded(os.unlink))
    monkeypatch.setattr(os, "rmdir", guarded(os.rmdir))


def _left_read_only(job_folder):
    """A FastFile channel as a killed endpoint leaves it: 0555 folders with files in them."""
    channel = job_folder / "opt" / "ml" / "input" / "data" / "train"
    (channel / "sub").mkdir(parents=True)
    (channel / "a.csv").write_text("1,2\n")
    (channel / "sub" / "b.csv").write_text("3,4\n")
    for folder in (channel / "sub", channel):
        folder.chmod(0o555)
    return channel


def _service_with_finished_job(tmp_path, job_folder):
    service = TrainingService(tmp_path, "http://127.0.0.1:1", "us-east-1", {}, None, None)
    done = threading.Event()
    done.set()
    service._jobs["leftover"] = types.SimpleNamespace(finished=done, folder=job_folder)
    return service


def test_cleanup_removes_read_only_fastfile_folders(tmp_path, monkeypatch):
    job_folder = tmp_path / "jobs" / "leftover"
    channel = _left_read_only(job_folder)
    assert stat.S_IMODE(channel.stat().st_mode) == 0o555
    _enforce_write_bits(monkeypatch)
    service = _service_with_finished_job(tmp_path, job_folder)
    assert service.remove_finished() == ["leftover"]
    assert not job_folder.exists()
    assert "leftover" not in service._jobs


def test_a_folder_that_cannot_be_removed_is_reported(tmp_path, monkeypatch):
    job_folder = tmp_path / "jobs" / "stuck"
    _left_read_only(job_folder)
    refused = os.unlink

    def never(path, *, dir_fd=None):
        raise PermissionError(errno.EPERM, "Operation not permitted", path)
    never.__name__ = refused.__name__
    monkeypatch.setattr(os, "unlink", never)  # e.g. an immutable file
    service = _service_with_finished_job(tmp_path, job_folder)
    with pytest.warns(RuntimeWarning, match=f"Could not delete the job folder {job_folder}"):
        assert service.remove_finished() == []
    monkeypatch.undo()
    assert job_folder.exists()
    assert "leftover" in service._jobs  # still listed, as its folder still is
    from sm_tutorial.platform.folders import remove_tree
    assert remove_tree(job_folder) is None  # and a later cleanup gets it
    assert not job_folder.exists()


def test_a_stale_reservation_is_reclaimed(tmp_path):
    """A kernel killed between reserving the name (mkdir) and writing request.json."""
    from sm_tutorial.platform import service as service_module
    jobs = tmp_path / "jobs"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a PID that is gone
    (jobs / "half-made").mkdir(parents=True)
    (jobs / "half-made" / ".reserved").write_text(json.dumps({"pid": dead.pid}))
    (jobs / "older-version").mkdir()  # no record at all, minutes old
    old = time.time() - 600
    os.utime(jobs / "older-version", (old, old))
    for name in ("half-made", "older-version"):
        assert service_module.reserve_name(jobs, name) is None, name
        assert os.listdir(jobs / name) == [".reserved"]


def test_a_reservation_in_progress_is_not_reclaimed(tmp_path):
    from sm_tutorial.platform import service as service_module
    jobs = tmp_path / "jobs"
    (jobs / "being-made").mkdir(parents=True)
    (jobs / "being-made" / ".reserved").write_text(
        json.dumps({"pid": os.getppid()}))  # a live process, reserving it just now
    (jobs / "being-made" / "owner.json").write_text("{}")
    assert service_module.reserve_name(jobs, "being-made") == "being-made"
    assert service_module.reserve_name(jobs, "BEING-made") == "being-made"
    assert (jobs / "being-made" / "owner.json").exists()  # nothing of it deleted


def _without_proc(monkeypatch):
    """As on macOS: no /proc to read a process's working directory or state from."""
    from sm_tutorial.platform import orphans
    real = os.readlink

    def readlink(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(os, "readlink", readlink)
    monkeypatch.setattr(orphans, "_proc_available", lambda: False, raising=False)


def _orphaned_launcher(tmp_path):
    """A job's launcher and script, running, as a dead endpoint left them."""
    from sm_tutorial.container import process
    from sm_tutorial.container.layout import ContainerRoot
    root = ContainerRoot(tmp_path / "job" / "opt" / "ml")
    root.code.mkdir(parents=True)
    ready = tmp_path / "ready"
    (root.code / "train.py").write_text(
        f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(300)\n")
    proc = process.start(root, process.command("train.py", []), {"PATH": os.environ["PATH"]}, 5.0)
    give_up = time.time() + 30
    while not ready.exists() and proc.poll() is None and time.time() < give_up:
        time.sleep(0.02)
    assert ready.exists(), "the script did not start"
    return proc, root


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="starts the real launcher")
def test_orphan_stopped_without_proc_through_ps(tmp_path, monkeypatch):
    from sm_tutorial.platform.orphans import stop_orphan
    proc, root = _orphaned_launcher(tmp_path)
    try:
        _without_proc(monkeypatch)
        job_folder = tmp_path / "job"
        record = job_folder / "process.json"
        record.write_text(json.dumps({"pid": proc.pid, "code": str(tmp_path / "other" / "code")}))
        assert stop_orphan(job_folder) is False  # its command line names another job's folder
        assert proc.poll() is None
        record.write_text(json.dumps({"pid": "not-a-pid", "code": str(root.code)}))
        assert stop_orphan(job_folder) is False  # a damaged record: nothing trusted, no error
        record.write_text(json.dumps({"pid": proc.pid, "code": str(root.code)}))
        assert stop_orphan(job_folder) is True
        assert proc.wait(timeout=10) is not None  # SIGUSR1: the launcher killed all and ended
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)
        proc.stdout.close()


def test_a_reservation_that_cannot_be_recorded_leaves_no_folder(tmp_path, monkeypatch):
    """The disk fills between the mkdir and the .reserved record: the error reaches the caller
    (ResourceLimitExceeded) and no folder is left holding the name."""
    from pathlib import Path
    from sm_tutorial.platform import service as service_module
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == ".reserved":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError):
        service_module.reserve_name(jobs, "no-room")
    assert not (jobs / "no-room").exists()


@pytest.mark.parametrize("chosen", [False, True], ids=["throwaway", "chosen-by-caller"])
def test_the_test_suite_removes_its_own_workspace(tmp_path, chosen):
    """conftest's per-process workspace (``$TMPDIR/sm-tutorial-tests-<pid>``) is gone after the
    session; one the caller chose with SM_TUTORIAL_WORKSPACE stays."""
    from conftest import REPO
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SM_TUTORIAL_", "PYTEST_", "AWS_ENDPOINT"))}
    env["TMPDIR"] = str(tmp_path)
    if chosen:
        env["SM_TUTORIAL_WORKSPACE"] = str(tmp_path / "mine")
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                          "--basetemp", str(tmp_path / "basetemp"),
                          "tests/test_validation.py::test_job_name_pattern"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0 and "1 passed" in ran.stdout, ran.stdout + ran.stderr
    left = sorted(p.name for p in tmp_path.glob("sm-tutorial-tests-*"))
    if chosen:
        assert not left and (tmp_path / "mine").is_dir(), "the session made no workspace"
    else:
        assert not left, f"the suite left its workspace behind: {left}\n{ran.stdout}"
        assert "could not remove" not in ran.stdout
