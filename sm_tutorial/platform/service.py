"""The training-job service: CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs,
StopTrainingJob and the tag actions for jobs, with jobs run for real by ``runner.JobRunner``."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from . import disk, listing
from .errors import ApiError, validation
from .folders import remove_job_folder, remove_tree
from .job import RunningElsewhere, TrainingJob, _alive, job_arn
from .orphans import stop_orphan
from .runner import JobRunner
from .storage import Storage
from .tuning_service import TuningService
from .tags import TagActions
from .validation import check_create_training_job, name_in_use, not_found


RESERVED = ".reserved"  # {"pid": ...}: the endpoint process that made the folder


@contextlib.contextmanager
def _names_locked(jobs_dir: Path):
    """Held while a name is checked and taken, by every endpoint process on this workspace."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    with open(jobs_dir / ".names.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


STALE_RESERVATION_SECONDS = 5.0  # mkdir to request.json takes milliseconds


def _abandoned(folder: Path) -> bool:
    """A job folder that holds no job: no readable request.json, and the endpoint that
    reserved it is gone, or reserved it over STALE_RESERVATION_SECONDS ago (killed between
    the mkdir and the first write). AWS knows no such job, so its name is free again."""
    try:
        json.loads((folder / "request.json").read_text())
        return False  # a job (DescribeTrainingJob finds it)
    except (OSError, ValueError):
        pass  # none, or half-written: the process that reserved the name is judged below
    marker = folder / RESERVED
    try:
        pid = int(json.loads(marker.read_text())["pid"])
        since = marker.stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        pid = None  # no record (an older version made the folder): its age alone
        try:
            since = folder.stat().st_mtime
        except OSError:
            return True  # gone meanwhile: nothing holds the name, mkdir decides
    if pid is not None and pid != os.getpid() and not _alive(pid):
        return True
    return time.time() - since > STALE_RESERVATION_SECONDS


def reserve_name(jobs_dir: Path, name: str) -> str | None:
    """Create jobs/<name> for a new job, atomically across processes (kernels, `serve`).
    Returns the name that holds it already (in any case), or None once it is ours. A folder
    left by a reservation that never became a job (see ``_abandoned``) is deleted and reused."""
    with _names_locked(jobs_dir):
        taken = next((p.name for p in jobs_dir.iterdir()
                      if p.name.lower() == name.lower() and p.is_dir()), None)
        if taken is not None:
            if not _abandoned(jobs_dir / taken) or remove_tree(jobs_dir / taken) is not None:
                return taken
        try:
            (jobs_dir / name).mkdir()  # mkdir is the atomic test even without the lock
        except FileExistsError:
            return name
        try:  # who reserved it, for the next create to judge a folder that never became a job
            (jobs_dir / name / RESERVED).write_text(json.dumps({"pid": os.getpid()}))
        except OSError:  # a full disk: no folder of ours left holding the name
            remove_tree(jobs_dir / name)
            raise
    return None


class TrainingService(TagActions):
    def __init__(self, workspace: Path, endpoint_url: str, region: str,
                 credentials: dict[str, str], s3_client, logs_client):
        self.jobs_dir = workspace / "jobs"
        self.endpoint_url, self.region, self.credentials = endpoint_url, region, credentials
        self.storage, self.logs_client = Storage(s3_client), logs_client
        self._jobs: dict[str, TrainingJob] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self.stop_grace_seconds = 10.0   # SIGTERM to SIGKILL (AWS waits 120 s)
        self.fastfile_prefetch = True    # off: FastFile objects arrive only when opened
        self.on_job_start: list = []     # callables(job), as a job's thread starts
        for saved in sorted(self.jobs_dir.glob("*/request.json")):
            try:
                job = TrainingJob.restore(saved.parent, region)
            except RunningElsewhere:
                continue  # another live endpoint (kernel, `serve`) runs it: leave it alone
            except (OSError, ValueError, KeyError):
                continue  # a half-written folder: not a job AWS would know either
            self._jobs[job.name] = job
            stop_orphan(saved.parent)
        self.cloudwatch = None  # CloudWatch Metrics, for MetricDefinitions (set by the endpoint)
        self.tuning = TuningService(self)  # the tuning actions; its trials are jobs of this one

    def create_training_job(self, request: dict[str, Any]) -> dict[str, Any]:
        check_create_training_job(request)
        name = request["TrainingJobName"]
        folder = self.jobs_dir / name
        with self._lock:
            twin = next((j for j in self._jobs.values() if j.name.lower() == name.lower()), None)
            if twin is not None:
                raise name_in_use(name, twin.arn)
            try:
                taken = reserve_name(self.jobs_dir, name)  # other kernels' jobs are on disk only
                if taken is not None:
                    raise name_in_use(name, job_arn(self.region, taken))
                try:
                    job = TrainingJob(request, self.region, folder)
                    (folder / RESERVED).unlink(missing_ok=True)  # a job now: request.json
                except BaseException:
                    shutil.rmtree(folder, ignore_errors=True)  # the folder we made, nobody else's
                    raise
            except OSError as error:  # a full or read-only workspace: say so, and no retries
                reason = disk.failure(error, "The job's folder could not be created.")
                if reason is None:
                    raise
                raise ApiError("ResourceLimitExceeded", reason) from None
            self._jobs[name] = job
        runner = JobRunner(job, self.storage, self.logs_client, self.endpoint_url, self.region,
                           self.credentials, self.stop_grace_seconds, self.fastfile_prefetch)
        runner.cloudwatch = self.cloudwatch
        thread = threading.Thread(target=self._run, args=(runner,), name=f"job-{name}", daemon=True)
        self._threads[name] = thread
        thread.start()
        return {"TrainingJobArn": job.arn}

    def _run(self, runner: JobRunner) -> None:
        for callback in self.on_job_start:
            try:
                callback(runner.job)
            except Exception:
                pass  # a side task (a warm serving container) never stops the job
        runner.run()

    def _get(self, name: str) -> TrainingJob:  # a valid name: shapes.check_request checked it
        job = self._jobs.get(name)
        if job is None:
            raise not_found(name)
        return job

    def describe_training_job(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._get(request.get("TrainingJobName")).describe()

    def stop_training_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job = self._get(request.get("TrainingJobName"))
        if not job.request_stop():
            raise validation(f"The request was rejected because the training job is in status "
                             f"{job.status}. Only a job that is InProgress can be stopped.")
        return {}

    def list_training_jobs(self, request: dict[str, Any]) -> dict[str, Any]:
        return listing.page((j.summary() for j in list(self._jobs.values())), request)

    def _by_arn(self, arn: str) -> TrainingJob:
        name = arn.rsplit("/", 1)[-1]
        job = next((j for j in self._jobs.values() if j.arn == arn or j.name.lower() == name), None)
        if job is None:
            raise not_found(name)
        return job

    # -- for the course helpers, not part of the AWS API ----------------------------------
    def wait_all(self, timeout: float | None = None) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def stop_all(self) -> None:
        self.tuning.stop_all()
        for job in list(self._jobs.values()):
            job.request_stop()  # False for jobs that have ended: nothing to do
        self.wait_all(timeout=30)

    def remove_finished(self) -> list[str]:
        """Forget finished jobs and delete their folders; running jobs are left alone."""
        removed = []
        with self._lock:
            for name, job in list(self._jobs.items()):
                if job.finished.is_set():  # ended and its last description saved
                    if not remove_job_folder(job.folder):
                        continue  # said in a warning; kept, as its folder is
                    del self._jobs[name]
                    self._threads.pop(name, None)
                    removed.append(name)
        return removed
