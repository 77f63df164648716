"""A job whose endpoint died (kernel killed, `serve` ended) may still have processes running:
the next endpoint on the workspace ends them, through the job's launcher."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path


def stop_orphan(job_folder: Path) -> bool:
    """End the processes of a job whose endpoint died (kernel killed) if they still run.
    The PID (the launcher's) is trusted only if that process still works in this job's code/
    folder. SIGUSR1 makes the launcher SIGKILL everything under it; its group gets SIGKILL
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
        if os.readlink(f"/proc/{record['pid']}/cwd") != record["code"]:
            return False
        os.kill(record["pid"], signal.SIGUSR1)
        give_up = time.time() + 5
        while _running(record["pid"]) and time.time() < give_up:
            time.sleep(0.02)
        if _running(record["pid"]):
            os.killpg(record["pid"], signal.SIGKILL)
        return True
    except (OSError, KeyError, TypeError):
        return False  # gone already, or not ours, or no /proc (macOS): nothing to do


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever adopted it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
