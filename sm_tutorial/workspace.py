"""The course workspace as learners use it: find a job's container root, clean up old jobs."""
from __future__ import annotations

import shutil
from pathlib import Path

from .settings import workspace


def job_root(job_name: str) -> Path:
    """The folder that stood in for /opt/ml during ``job_name`` (kept after the job ends)."""
    path = workspace() / "jobs" / job_name / "opt" / "ml"
    if not path.exists():
        raise FileNotFoundError(f"No local container root for job {job_name!r} under "
                                f"{workspace() / 'jobs'}; was it run in simulated mode?")
    return path


def cleanup_jobs() -> list[str]:
    """Delete the folders of finished jobs (running ones are left alone). Returns their names."""
    from .sdk import local_endpoint
    endpoint = local_endpoint()
    if endpoint is not None:
        return endpoint.service.remove_finished()
    removed = []
    for folder in sorted((workspace() / "jobs").glob("*")):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed
