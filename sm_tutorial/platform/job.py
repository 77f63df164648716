"""One training job's record: the request, and the status AWS reports for it."""
from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..settings import ACCOUNT_ID

TERMINAL = ("Completed", "Failed", "Stopped")
STATE_FIELDS = ("CreationTime", "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus",
                "SecondaryStatusTransitions", "TrainingStartTime", "TrainingEndTime",
                "TrainingTimeInSeconds", "BillableTimeInSeconds", "FailureReason",
                "FinalMetricDataList")
# SecondaryStatus -> (TrainingJobStatus, StatusMessage), worded as AWS words them.
SECONDARY = {
    "Starting": ("InProgress", "Preparing the instances for training"),
    "Downloading": ("InProgress", "Downloading input data"),
    "Training": ("InProgress", "Training image download completed. Training in progress."),
    "Uploading": ("InProgress", "Uploading generated training model"),
    "Completed": ("Completed", "Training job completed"),
    "Failed": ("Failed", "Training job failed"),
    "Stopping": ("Stopping", "Stopping the training job"),
    "Stopped": ("Stopped", "Training job stopped"),
    "MaxRuntimeExceeded": ("Stopped", "Job stopped because it exceeded the maximum allowed runtime"),
    "Interrupted": ("InProgress", "Spot capacity was reclaimed: waiting for capacity to resume "
                                  "training from the last checkpoint"),
    "MaxWaitTimeExceeded": ("Stopped", "Job stopped because it exceeded the maximum allowed "
                                       "wait time"),
}
# Managed spot: the share of the training seconds billed (AWS's savings vary with the instance
# type and the hour, up to 90 %; the simulation bills 30 %: savings of 70 %, above 1 s).
SPOT_BILLED = 0.3


class RunningElsewhere(Exception):
    """The job is still run by another live endpoint process."""


def job_arn(region: str, name: str) -> str:
    """AWS lower-cases the name in the ARN: names that differ only in case are one job."""
    return f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:training-job/{name.lower()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class TrainingJob:
    """Thread-safe job state; ``describe()`` is the DescribeTrainingJob response."""

    def __init__(self, request: dict[str, Any], region: str, folder: Path):
        self.request = copy.deepcopy(request)
        self.name: str = request["TrainingJobName"]
        self.arn = job_arn(region, self.name)
        self.folder = folder
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])
        self.stop_requested = threading.Event()
        self.finished = threading.Event()
        self.save_error: OSError | None = None  # the first save the disk refused
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # description.json: written by one thread at a time
        now = time.time()
        self._state: dict[str, Any] = {
            "CreationTime": now, "LastModifiedTime": now,
            "TrainingJobStatus": "InProgress", "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": now,
                                            "StatusMessage": SECONDARY["Starting"][1]}],
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "owner.json").write_text(json.dumps({"pid": os.getpid()}))  # the endpoint's
        (folder / "request.json").write_text(json.dumps(self.request, indent=1, default=str))
        self._save()

    @classmethod
    def restore(cls, folder: Path, region: str) -> "TrainingJob":
        """A job recorded by an earlier endpoint. One that was still running when that endpoint
        went away (kernel restarted or killed) is reported Failed, with the reason."""
        job = cls.__new__(cls)
        job.request = json.loads((folder / "request.json").read_text())
        job.name = job.request["TrainingJobName"]
        job.arn = job_arn(region, job.name)
        job.folder, job._lock, job._save_lock = folder, threading.Lock(), threading.Lock()
        tags = folder / "tags.json"  # AddTags/DeleteTags since the create
        job.tags = json.loads(tags.read_text()) if tags.exists() else list(job.request.get("Tags") or [])
        job.stop_requested, job.finished = threading.Event(), threading.Event()
        job.save_error = None
        saved = json.loads((folder / "description.json").read_text())
        job._state = {k: saved[k] for k in STATE_FIELDS if k in saved}
        if job._state.get("TrainingJobStatus") not in TERMINAL:
            owner = json.loads((folder / "owner.json").read_text())["pid"] \
                if (folder / "owner.json").exists() else None
            if owner and owner != os.getpid() and _alive(owner):
                raise RunningElsewhere(job.name)
            job._state["FailureReason"] = (
                "InternalServerError: the local AWS stand-in running this job stopped (kernel restart or "
                "sm-tutorial serve ended) before the job finished. Run the job again.")
            job.transition("Failed")
        job.finished.set()
        return job

    @property
    def status(self) -> str:
        with self._lock:
            return self._state["TrainingJobStatus"]

    def request_stop(self) -> bool:
        """StopTrainingJob: False if the job has already ended (checked and set atomically)."""
        with self._lock:
            if self._state["TrainingJobStatus"] in TERMINAL:
                return False
            first = not self.stop_requested.is_set()
            self.stop_requested.set()
        if first:
            self.transition("Stopping")
        return True

    def transition(self, secondary: str, message: str | None = None) -> None:
        """Move to a new SecondaryStatus, closing the previous transition as AWS does. A job
        that has ended stays ended; a stopping job only moves on to an end."""
        now = time.time()
        with self._lock:
            current = self._state["TrainingJobStatus"]
            if current in TERMINAL or (current == "Stopping" and SECONDARY[secondary][0] not in TERMINAL):
                return
            if current == "Stopping" and secondary == "Completed":
                secondary = "Stopped"  # the script finished while being stopped
            transitions = self._state["SecondaryStatusTransitions"]
            transitions[-1].setdefault("EndTime", now)
            primary, default_message = SECONDARY[secondary]
            entry = {"Status": secondary, "StartTime": now,
                     "StatusMessage": message or default_message}
            if primary in TERMINAL:
                entry["EndTime"] = now
            transitions.append(entry)
            self._state.update(SecondaryStatus=secondary, TrainingJobStatus=primary,
                               LastModifiedTime=now)
            if secondary == "Downloading":  # the first start: a spot restart does not move it
                self._state.setdefault("TrainingStartTime", now)
            if primary in TERMINAL:
                start = self._state.get("TrainingStartTime", now)
                seconds = max(1, int(round(now - start)))
                billed = seconds if not self.request.get("EnableManagedSpotTraining") or seconds < 2 \
                    else max(1, int(seconds * SPOT_BILLED))
                self._state.update(TrainingEndTime=now, TrainingTimeInSeconds=seconds,
                                   BillableTimeInSeconds=billed)
        try:
            self._save()
        finally:  # whatever saving does, an ended job is finished for wait_all and cleanup
            if primary in TERMINAL:
                self.finished.set()

    def update(self, **fields: Any) -> None:
        with self._lock:
            self._state.update(fields)
        self._save()

    def describe(self) -> dict[str, Any]:
        r = self.request
        with self._lock:
            state = copy.deepcopy(self._state)
        output_path = r["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        description = {
            "TrainingJobName": self.name,
            "TrainingJobArn": self.arn,
            "ModelArtifacts": {"S3ModelArtifacts": f"{output_path}/{self.name}/output/model.tar.gz"},
            "HyperParameters": r.get("HyperParameters", {}),
            "AlgorithmSpecification": {"TrainingInputMode": "File", **r["AlgorithmSpecification"]},
            "RoleArn": r["RoleArn"],
            "InputDataConfig": r.get("InputDataConfig", []),
            "OutputDataConfig": {"KmsKeyId": "", **r["OutputDataConfig"]},
            "ResourceConfig": {"VolumeSizeInGB": 30, **r["ResourceConfig"]},
            "StoppingCondition": r.get("StoppingCondition", {"MaxRuntimeInSeconds": 86400}),
            "EnableNetworkIsolation": r.get("EnableNetworkIsolation", False),
            "EnableInterContainerTrafficEncryption": r.get("EnableInterContainerTrafficEncryption", False),
            "EnableManagedSpotTraining": r.get("EnableManagedSpotTraining", False),
            **{k: r[k] for k in ("CheckpointConfig", "Environment", "DebugHookConfig",
                                 "ProfilerConfig", "VpcConfig", "RetryStrategy", "TuningJobArn") if k in r},
            **state,
        }
        if state["TrainingJobStatus"] not in ("Completed", "Stopped"):
            description.pop("ModelArtifacts")
        return description

    def summary(self) -> dict[str, Any]:
        d = self.describe()
        return {k: d[k] for k in ("TrainingJobName", "TrainingJobArn", "CreationTime",
                                  "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus",
                                  "TrainingEndTime") if k in d}

    def set_tags(self, tags: list[dict[str, str]]) -> None:
        """AddTags/DeleteTags: kept with the job's record, so a restarted endpoint has them."""
        tmp = self.folder / "tags.json.tmp"
        tmp.write_text(json.dumps(tags))
        tmp.replace(self.folder / "tags.json")
        self.tags = tags

    def _save(self) -> None:
        """Keep description.json beside the job's container root, for learners to inspect.
        A disk that is full or read-only must not stop the job: the state in memory (what
        DescribeTrainingJob answers) is already updated; the runner fails the job, saying why."""
        with self._save_lock:  # one writer at a time, each with the state as it is then
            tmp = self.folder / f"description.json.{os.getpid()}.{threading.get_ident()}.tmp"
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp.write_text(json.dumps(self.describe(), indent=1, default=str))
                os.replace(tmp, self.folder / "description.json")
            except OSError as error:
                if self.save_error is None:
                    self.save_error = error
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
