"""The course workspace as learners use it: find a job's container root, clean up old jobs."""
from __future__ import annotations

import json
from pathlib import Path

from ..platform.folders import remove_job_folder
from ..settings import workspace


def job_root(job_name: str, host: str = "algo-1") -> Path:
    """The folder that stood in for ``host``'s /opt/ml during ``job_name`` (kept after the job
    ends): ``jobs/<job>/opt/ml`` for algo-1, ``jobs/<job>/algo-N/opt/ml`` for the other hosts
    of a multi-instance job."""
    job = workspace() / "jobs" / job_name
    path = (job if host == "algo-1" else job / host) / "opt" / "ml"
    if not path.exists():
        raise FileNotFoundError(f"No local container root for job {job_name!r} under "
                                f"{workspace() / 'jobs'}; was it run in simulated mode?")
    return path


def endpoint_container(endpoint_name: str) -> tuple[Path, int]:
    """(the folder that stands in for an endpoint's /opt/ml, the 127.0.0.1 port its container
    answers GET /ping and POST /invocations on), while the endpoint is InService in this
    kernel's simulated AWS."""
    from .sdk import local_endpoint
    endpoint = local_endpoint()
    record = endpoint.service.hosting.endpoint(endpoint_name) if endpoint is not None else None
    container = getattr(record, "container", None)
    if container is None or not getattr(container, "port", None):
        raise FileNotFoundError(f"No serving container for endpoint {endpoint_name!r} in this "
                                "kernel's simulated AWS; is it InService (and not on `sm-tutorial serve`)?")
    return container.root.path, container.port


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
