"""A job whose endpoint died (kernel killed, `serve` ended) may still have processes running:
the next endpoint on the workspace ends them, through the job's launcher."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path


def stop_orphan(job_folder: Path) -> bool:
    """End the processes of a job whose endpoint died (kernel killed) if they still run.
    The PID (the launcher's) is trusted only if that process still works in this job's code/
    folder (without /proc, as on macOS: if ``ps`` shows it as the launcher of that folder). SIGUSR1 makes the launcher SIGKILL everything under it; its group gets SIGKILL
    too if it has not ended within 5 s."""
    pid_file = job_folder / "process.json"
    if not pid_file.exists():
        return False
    try:
        record = json.loads(pid_file.read_text())
        pid_file.unlink()
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)  # unreadable: no PID can be trusted
        return False
    try:
        if not _our_launcher(record["pid"], record["code"]):
            return False
        os.kill(record["pid"], signal.SIGUSR1)
        give_up = time.time() + 5
        while _running(record["pid"]) and time.time() < give_up:
            time.sleep(0.02)
        if _running(record["pid"]):
            os.killpg(record["pid"], signal.SIGKILL)
        return True
    except (OSError, KeyError, TypeError, ValueError):
        return False  # gone already, or not ours: nothing to do


def _proc_available() -> bool:
    return os.path.isdir("/proc/self")  # Linux; not macOS


def _ps(pid: int, field: str) -> str:
    """``ps``'s ``field`` for ``pid`` ("" if it is gone); -ww: never cut to a terminal's width."""
    try:
        done = subprocess.run(["ps", "-ww", "-p", str(int(pid)), "-o", f"{field}="],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _our_launcher(pid: int, code: str) -> bool:
    """``pid`` is still this job's launcher, not a process that got its PID since: its
    command line is ``... launcher.py GRACE CODE_DIR [--opt-ml ROOT] -- ...`` (container/
    process.py puts the job's code folder there; its working directory is no proof: in the
    job's own mount namespace it is /opt/ml/code)."""
    if _proc_available():
        args = Path(f"/proc/{int(pid)}/cmdline").read_bytes().split(b"\0")
        return any(a.endswith(b"launcher.py") for a in args) and os.fsencode(code) in args
    command = _ps(pid, "command")
    return "launcher.py" in command and (f" {code} -- " in command or f" {code} --opt-ml " in command)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever adopted it)."""
    if not _proc_available():
        state = _ps(pid, "stat")
        return bool(state) and not state.startswith("Z")
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
