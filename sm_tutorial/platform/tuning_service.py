"""The tuning actions: CreateHyperParameterTuningJob, DescribeHyperParameterTuningJob,
ListHyperParameterTuningJobs, ListTrainingJobsForHyperParameterTuningJob and
StopHyperParameterTuningJob, with each tuning job's trials run by the training service."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

from . import images
from .errors import ApiError, validation
from .job import RunningElsewhere
from .listing import sorted_page, time_filtered
from .tuning import TuningJob
from .tags import TagActions
from .validation import check_create_training_job

ACTIONS = ("CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob",
           "ListHyperParameterTuningJobs", "ListTrainingJobsForHyperParameterTuningJob",
           "StopHyperParameterTuningJob", "DeleteHyperParameterTuningJob")
TAGGED = b":hyper-parameter-tuning-job/"  # ListTags/AddTags/DeleteTags on a tuning job's ARN
TRIAL_SORT = {"Name": "TrainingJobName", "CreationTime": "CreationTime",
              "Status": "TrainingJobStatus", "FinalObjectiveMetricValue": "objective"}
TUNING_SORT = {"Name": "HyperParameterTuningJobName", "CreationTime": "CreationTime",
               "Status": "HyperParameterTuningJobStatus"}
class TuningService(TagActions):
    def __init__(self, training):
        self.training = training
        self.folder: Path = training.jobs_dir.parent / "tuning"
        self._jobs: dict[str, TuningJob] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        for saved in sorted(self.folder.glob("*/state.json")):
            try:
                job = TuningJob.restore(saved.parent, training.region)
            except RunningElsewhere:
                continue  # another live endpoint (kernel, `serve`) runs it
            except (OSError, ValueError, KeyError):
                continue  # half-written: not a tuning job AWS would know either
            job.training = training
            self._jobs[job.name.lower()] = job

    def _get(self, name: str) -> TuningJob:
        job = self._jobs.get((name or "").lower())
        if job is None:
            raise validation(f"Amazon SageMaker can't find a tuning job with name {name}. Check "
                             "the name with list_hyper_parameter_tuning_jobs.")
        return job

    def create_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("TrainingJobDefinitions"):
            raise validation("TrainingJobDefinitions (several estimators in one tuning job) is "
                             "not simulated. Tune one estimator: HyperparameterTuner(estimator, ...).")
        if not request.get("TrainingJobDefinition"):
            raise validation("A tuning job needs a TrainingJobDefinition: the training jobs it "
                             "runs. HyperparameterTuner(estimator, ...) sends it.")
        if request.get("WarmStartConfig"):
            raise validation("WarmStartConfig is not simulated. Start the tuning job without "
                             "warm_start_config.")
        config = request["HyperParameterTuningJobConfig"]
        objective = config.get("HyperParameterTuningJobObjective")
        if not objective:
            raise validation("HyperParameterTuningJobObjective is required: the metric to "
                             "optimise and whether to Minimize or Maximize it "
                             "(objective_metric_name=..., objective_type=...).")
        names = [m["Name"] for m in request["TrainingJobDefinition"]["AlgorithmSpecification"]
                 .get("MetricDefinitions") or []]
        if objective["MetricName"] not in names:
            raise validation(f"The objective metric '{objective['MetricName']}' is not defined "
                             f"in MetricDefinitions ({', '.join(names) or 'none'}). Pass "
                             f"metric_definitions=[{{'Name': '{objective['MetricName']}', "
                             "'Regex': '...'}] with a regex that finds its value in the log.")
        name = request["HyperParameterTuningJobName"]
        with self._lock:
            if name.lower() in self._jobs or (self.folder / name.lower()).exists():
                raise ApiError("ResourceInUse", f"Tuning job names must be unique within an AWS "
                               f"account and region, and a tuning job named {name} already "
                               "exists. Pick a new name, or let the SDK make one.")
            job = TuningJob(request, self.training.region, None, self.training)
            first = job.first_trial_request()  # what AWS would refuse in every trial: now
            if "ResourceConfig" not in first:
                raise validation("The TrainingJobDefinition needs a ResourceConfig or a "
                                 "HyperParameterTuningResourceConfig: the instance type and count "
                                 "of each training job. The SDK sends it from the estimator.")
            check_create_training_job(first)
            images.check_request(self.training.jobs_dir.parent, first)
            job.folder = self.folder / name.lower()
            try:
                job.folder.mkdir(parents=True)
                (job.folder / "request.json").write_text(json.dumps(job.request, indent=1))
                job._save()
            except OSError as error:
                shutil.rmtree(job.folder, ignore_errors=True)
                raise ApiError("ResourceLimitExceeded", f"The tuning job's folder could not be "
                               f"created ({error.strerror}). Free space in the workspace "
                               "(sm_tutorial.cleanup_jobs()).") from None
            self._jobs[name.lower()] = job
        thread = threading.Thread(target=job.run, name=f"tuning-{name}", daemon=True)
        self._threads[name.lower()] = thread
        thread.start()
        return {"HyperParameterTuningJobArn": job.arn}

    def describe_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._get(request["HyperParameterTuningJobName"]).describe()

    def stop_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job = self._get(request["HyperParameterTuningJobName"])
        if not job.request_stop():
            raise validation(f"The request was rejected because the tuning job is in status "
                             f"{job.status}. Only a tuning job that is InProgress can be stopped.")
        return {}

    def delete_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> dict[str, Any]:
        """Deletes the tuning job's entry only: its training jobs and artifacts stay."""
        name = request["HyperParameterTuningJobName"]
        with self._lock:
            job = self._get(name)
            if job.status in ("InProgress", "Stopping"):
                raise validation(f"The tuning job {name} is {job.status}. Only a tuning job that "
                                 "has ended can be deleted: stop it first "
                                 "(stop_hyper_parameter_tuning_job) and wait until it is Stopped.")
            self._jobs.pop(name.lower(), None)
            self._threads.pop(name.lower(), None)
        shutil.rmtree(job.folder, ignore_errors=True)
        return {}

    def _by_arn(self, arn: str) -> TuningJob:
        return self._get(arn.rsplit("/", 1)[-1])  # the name, lower-cased in the ARN as on AWS

    def list_training_jobs_for_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job = self._get(request["HyperParameterTuningJobName"])
        trials = job.summaries()
        if request.get("StatusEquals"):
            trials = [t for t in trials if t["TrainingJobStatus"] == request["StatusEquals"]]
        sort_by = request.get("SortBy", "Name")
        if sort_by == "FinalObjectiveMetricValue":  # AWS leaves out trials without one
            trials = [t for t in trials if "FinalHyperParameterTuningJobObjectiveMetric" in t]
            sort_key = lambda t: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        else:
            sort_key = lambda t: t[TRIAL_SORT[sort_by]]
        return sorted_page(trials, request, sort_key, "TrainingJobName", "TrainingJobSummaries",
                           "ListTrainingJobsForHyperParameterTuningJob", 10)

    def list_hyper_parameter_tuning_jobs(self, request: dict[str, Any]) -> dict[str, Any]:
        jobs = [j.summary() for j in list(self._jobs.values())]
        if request.get("NameContains"):
            jobs = [j for j in jobs if request["NameContains"] in j["HyperParameterTuningJobName"]]
        if request.get("StatusEquals"):
            jobs = [j for j in jobs if j["HyperParameterTuningJobStatus"] == request["StatusEquals"]]
        field = TUNING_SORT[request.get("SortBy", "Name")]
        return sorted_page(time_filtered(jobs, request), request, lambda j: j[field],
                           "HyperParameterTuningJobName", "HyperParameterTuningJobSummaries",
                           "ListHyperParameterTuningJobs", 10)

    # -- for the course helpers and tests ------------------------------------------------
    def wait_all(self, timeout: float | None = None) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def stop_all(self) -> None:
        for job in list(self._jobs.values()):
            job.request_stop()
