"""The course workspace as learners use it: find a job's container root, clean up old jobs."""
from __future__ import annotations

import json
from pathlib import Path

from ..platform.folders import remove_job_folder
from ..settings import workspace


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
    removed = []  # attached to `sm-tutorial serve`: only folders of jobs that have ended
    for saved in sorted((workspace() / "jobs").glob("*/description.json")):
        status = json.loads(saved.read_text()).get("TrainingJobStatus")
        if status in ("Completed", "Failed", "Stopped"):
            if remove_job_folder(saved.parent):  # else a warning names it
                removed.append(saved.parent.name)
    return removed
