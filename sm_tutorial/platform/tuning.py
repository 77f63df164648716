"""One hyperparameter tuning job: its record, and the thread that runs its trials.

Each trial is a real training job, created through the training service as CreateTrainingJob
would create it, named as AWS names them (``<tuning job>-NNN-<8 hex>``, e.g.
``xgboost-190407-1532-005-0e830ada``), with ``TuningJobArn`` in its description and the
objective's name in its hyperparameters (``_tuning_objective_metric``, as AWS adds it). At most
MaxParallelTrainingJobs run at once; the strategy hears each finished trial's objective (the
last value its MetricDefinitions' regex found in the log) before it picks more.
"""
from __future__ import annotations

import copy
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from ..settings import ACCOUNT_ID
from . import strategies
from .errors import ApiError
from .job import RunningElsewhere, _alive
from .metrics import final_value

TERMINAL = ("Completed", "Failed", "Stopped")
POLL_SECONDS = 0.05
# The parts of a TrainingJobDefinition that a CreateTrainingJob request carries as they are.
COPIED = ("RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition",
          "VpcConfig", "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
          "EnableManagedSpotTraining", "CheckpointConfig", "Environment", "RetryStrategy")


def tuning_arn(region: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:hyper-parameter-tuning-job/{name.lower()}"


def objective_hyperparameter(definition: dict[str, Any], metric: str) -> str:
    """``_tuning_objective_metric``'s value: JSON-quoted beside a framework estimator's
    JSON-encoded hyperparameters (``'"loss"'``), as AWS shows it; the name itself otherwise."""
    static = definition.get("StaticHyperParameters") or {}
    return json.dumps(metric) if "sagemaker_program" in static or \
        "sagemaker_estimator_class_name" in static else metric


class TuningJob:
    def __init__(self, request: dict[str, Any], region: str, folder: Path, training=None):
        self.request = copy.deepcopy(request)
        self.name: str = request["HyperParameterTuningJobName"]
        self.arn = tuning_arn(region, self.name)
        self.folder, self.training = folder, training
        config = self.request["HyperParameterTuningJobConfig"]
        self.total = strategies.check(config)
        config.setdefault("ResourceLimits", {})["MaxNumberOfTrainingJobs"] = self.total
        objective = config["HyperParameterTuningJobObjective"]
        self.metric, self.minimize = objective["MetricName"], objective["Type"] == "Minimize"
        definition = self.request["TrainingJobDefinition"]
        definition.setdefault("StaticHyperParameters", {})["_tuning_objective_metric"] = \
            objective_hyperparameter(definition, self.metric)
        hpo = definition.get("HyperParameterTuningResourceConfig")  # what the SDK sends
        if hpo and "ResourceConfig" not in definition:  # described too: the SDK's attach reads it
            first = (hpo.get("InstanceConfigs") or [hpo])[0]  # several types: the first
            definition["ResourceConfig"] = {k: first[k] for k in ("InstanceType", "InstanceCount",
                                                                   "VolumeSizeInGB") if k in first}
        self.stop_requested, self.finished = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        now = time.time()
        self._state: dict[str, Any] = {"HyperParameterTuningJobStatus": "InProgress",
                                       "CreationTime": now, "LastModifiedTime": now}
        self.trials: list[dict[str, Any]] = []  # {"name", "tuned", "summary"}
        self.tags: list[dict[str, str]] = list(self.request.get("Tags") or [])
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "request.json").write_text(json.dumps(self.request, indent=1))
            self._save()

    @classmethod
    def restore(cls, folder: Path, region: str) -> "TuningJob":
        """A tuning job an earlier endpoint ran; one still running then is Failed now."""
        job = cls.__new__(cls)
        job.request = json.loads((folder / "request.json").read_text())
        job.name = job.request["HyperParameterTuningJobName"]
        job.arn, job.folder, job.training = tuning_arn(region, job.name), folder, None
        config = job.request["HyperParameterTuningJobConfig"]
        job.total = config["ResourceLimits"]["MaxNumberOfTrainingJobs"]
        objective = config["HyperParameterTuningJobObjective"]
        job.metric, job.minimize = objective["MetricName"], objective["Type"] == "Minimize"
        job.stop_requested, job.finished, job._lock = threading.Event(), threading.Event(), threading.Lock()
        saved = json.loads((folder / "state.json").read_text())
        job._state, job.trials = saved["state"], saved["trials"]
        job.tags = saved.get("tags", job.request.get("Tags") or [])
        if job._state["HyperParameterTuningJobStatus"] not in TERMINAL:
            owner = saved.get("owner")
            if owner and owner != os.getpid() and _alive(owner):
                raise RunningElsewhere(job.name)  # another live endpoint runs it: leave it alone
            job._end("Failed", "InternalServerError: the local AWS stand-in running this tuning "
                     "job stopped (kernel restart or sm-tutorial serve ended) before it finished. "
                     "Run the tuning job again.")
        job.finished.set()
        return job

    @property
    def status(self) -> str:
        with self._lock:
            return self._state["HyperParameterTuningJobStatus"]

    # -- the trials ----------------------------------------------------------------------
    def _trial_request(self, name: str, tuned: dict[str, str]) -> dict[str, Any]:
        definition = self.request["TrainingJobDefinition"]
        algorithm = {k: v for k, v in definition["AlgorithmSpecification"].items()}
        request = {"TrainingJobName": name, "AlgorithmSpecification": algorithm,
                   "HyperParameters": {**definition.get("StaticHyperParameters", {}), **tuned},
                   "TuningJobArn": self.arn}
        request.update({k: copy.deepcopy(definition[k]) for k in COPIED if k in definition})
        with self._lock:  # the tuning job's tags as they are now go to each trial it launches
            if self.tags:
                request["Tags"] = copy.deepcopy(self.tags)
        return request

    def first_trial_request(self) -> dict[str, Any]:
        """What the first trial's CreateTrainingJob will be (checked at create, as AWS does)."""
        space = strategies.Space(self.request["HyperParameterTuningJobConfig"].get("ParameterRanges") or {})
        return self._trial_request(f"{self.name}-001-00000000", {n: "0" for n in space.names})

    def _summary(self, trial: dict[str, Any]) -> dict[str, Any]:
        """A HyperParameterTrainingJobSummary, from the trial's DescribeTrainingJob."""
        if self.training is None or trial.get("summary", {}).get("TrainingJobStatus") in TERMINAL:
            return trial["summary"]  # ended: its summary no longer changes
        try:
            d = self.training.describe_training_job({"TrainingJobName": trial["name"]})
        except ApiError:
            return trial["summary"]
        summary = {"TrainingJobName": d["TrainingJobName"], "TrainingJobArn": d["TrainingJobArn"],
                   "TuningJobName": self.name, "CreationTime": d["CreationTime"],
                   "TrainingJobStatus": d["TrainingJobStatus"],
                   "TunedHyperParameters": dict(trial["tuned"]), "ObjectiveStatus": "Pending"}
        for key in ("TrainingStartTime", "TrainingEndTime", "FailureReason"):
            if key in d:
                summary[key] = d[key]
        value = final_value(d, self.metric)
        if value is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": "Minimize" if self.minimize else "Maximize",
                "MetricName": self.metric, "Value": value}
        if d["TrainingJobStatus"] in TERMINAL:
            summary["ObjectiveStatus"] = "Succeeded" if value is not None else "Failed"
            if value is None and d["TrainingJobStatus"] == "Completed":
                summary["FailureReason"] = self._no_objective_reason()
        trial["summary"] = summary
        return summary

    def _no_objective_reason(self) -> str:
        regex = next((m["Regex"] for m in self.request["TrainingJobDefinition"]
                      ["AlgorithmSpecification"].get("MetricDefinitions", [])
                      if m["Name"] == self.metric), "")
        return (f"No objective metrics found after running the training job: the regex "
                f"{regex!r} of the objective metric '{self.metric}' matched no line of its log. "
                "Make the regex match what the script prints (e.g. the script prints "
                f"'{self.metric}: 0.25' and the regex is '{self.metric}: ([0-9.eE+-]+)'); check "
                "it with re.search on a line of the job's log (sm-tutorial logs JOB).")

    def summaries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._summary(t)) for t in self.trials]

    def _best(self, summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
        scored = [s for s in summaries if s["ObjectiveStatus"] == "Succeeded"]
        if not scored:
            return None
        pick = min if self.minimize else max
        return pick(scored, key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])

    # -- the lifecycle -------------------------------------------------------------------
    def run(self) -> None:
        """Launch trials until MaxNumberOfTrainingJobs, at most MaxParallelTrainingJobs at once."""
        try:
            self._run()
        except Exception as error:  # a bug of ours must still end the tuning job
            self._stop_trials()
            self._end("Failed", f"InternalServerError: the simulated platform failed: {error!r}")

    def _run(self) -> None:
        config = self.request["HyperParameterTuningJobConfig"]
        limits = config["ResourceLimits"]
        parallel = limits.get("MaxParallelTrainingJobs", 1)
        deadline = time.time() + limits.get("MaxRuntimeInSeconds", 30 * 24 * 3600)
        target = (config.get("TuningJobCompletionCriteria") or {}).get("TargetObjectiveMetricValue")
        strategy = strategies.make(config)
        told: set[str] = set()
        launched, exhausted = 0, False
        while True:
            summaries = self.summaries()
            for trial, summary in zip(list(self.trials), summaries):
                if summary["TrainingJobStatus"] in TERMINAL and trial["name"] not in told:
                    told.add(trial["name"])
                    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric")
                    strategy.tell(trial["tuned"], metric["Value"] if metric else None)
            best = self._best(summaries)
            reached = target is not None and best is not None and (
                best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] <= target if self.minimize
                else best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] >= target)
            running = sum(s["TrainingJobStatus"] not in TERMINAL for s in summaries)
            if self.stop_requested.is_set() or time.time() > deadline:
                self._stop_trials()
                if running == 0:
                    return self._end("Stopped")
            elif launched >= self.total or exhausted or reached:
                if running == 0:
                    return self._finish(summaries)
            elif running < parallel:
                tuned = strategy.ask()
                if tuned is None:
                    exhausted = True
                    continue
                launched += 1
                self._launch(launched, tuned)
                continue  # fill every free slot before waiting
            time.sleep(POLL_SECONDS)

    def _launch(self, number: int, tuned: dict[str, str]) -> None:
        name = f"{self.name}-{number:03d}-{secrets.token_hex(4)}"
        trial = {"name": name, "tuned": tuned, "summary": {
            "TrainingJobName": name, "TuningJobName": self.name, "TrainingJobStatus": "InProgress",
            "CreationTime": time.time(), "TunedHyperParameters": tuned, "ObjectiveStatus": "Pending"}}
        try:
            arn = self.training.create_training_job(self._trial_request(name, tuned))["TrainingJobArn"]
            trial["summary"]["TrainingJobArn"] = arn
        except ApiError as error:  # e.g. a full disk: this trial fails, the next may not
            trial["summary"].update(TrainingJobStatus="Failed", ObjectiveStatus="Failed",
                                    FailureReason=f"{error.code}: {error.message}")
        with self._lock:
            self.trials.append(trial)
            self._state["LastModifiedTime"] = time.time()
        self._save()

    def _stop_trials(self) -> None:
        for trial in list(self.trials):
            try:
                self.training.stop_training_job({"TrainingJobName": trial["name"]})
            except ApiError:
                pass  # ended already (or never created)

    def _finish(self, summaries: list[dict[str, Any]]) -> None:
        if self._best(summaries) is not None:
            return self._end("Completed")
        completed = [s for s in summaries if s["TrainingJobStatus"] == "Completed"]
        if completed:
            reason = ("No training job reported the objective metric. " +
                      self._no_objective_reason().split(": ", 1)[1])
        else:
            reason = ("All training jobs failed. See each one's FailureReason "
                      "(list_training_jobs_for_hyper_parameter_tuning_job) and its log.")
        self._end("Failed", reason)

    def set_tags(self, tags: list[dict[str, str]]) -> None:
        with self._lock:
            self.tags = tags
        self._save()

    def request_stop(self) -> bool:
        with self._lock:
            if self._state["HyperParameterTuningJobStatus"] != "InProgress":
                return False
            self._state.update(HyperParameterTuningJobStatus="Stopping", LastModifiedTime=time.time())
        self.stop_requested.set()
        self._save()
        return True

    def _end(self, status: str, reason: str | None = None) -> None:
        now = time.time()
        with self._lock:
            self._state.update(HyperParameterTuningJobStatus=status, LastModifiedTime=now,
                               HyperParameterTuningEndTime=now)
            if reason:
                self._state["FailureReason"] = reason[:1024]
        self._save()
        self.finished.set()

    # -- what the API answers ------------------------------------------------------------
    def counters(self, summaries: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
        jobs = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0,
                "Stopped": 0}
        objectives = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        for s in summaries:
            status = s["TrainingJobStatus"]
            jobs["NonRetryableError" if status == "Failed" else
                 "InProgress" if status == "Stopping" else status] += 1
            objectives[s["ObjectiveStatus"]] += 1
        return jobs, objectives

    def describe(self) -> dict[str, Any]:
        summaries = self.summaries()
        with self._lock:
            state = copy.deepcopy(self._state)
        jobs, objectives = self.counters(summaries)
        end = state.get("HyperParameterTuningEndTime", time.time())
        description = {"HyperParameterTuningJobName": self.name,
                       "HyperParameterTuningJobArn": self.arn,
                       "HyperParameterTuningJobConfig": self.request["HyperParameterTuningJobConfig"],
                       "TrainingJobDefinition": self.request["TrainingJobDefinition"],
                       **state, "TrainingJobStatusCounters": jobs,
                       "ObjectiveStatusCounters": objectives,
                       "ConsumedResources": {"RuntimeInSeconds": int(end - state["CreationTime"])}}
        best = self._best(summaries)
        if best is not None:
            description["BestTrainingJob"] = best
        return description

    def summary(self) -> dict[str, Any]:
        d = self.describe()
        return {"HyperParameterTuningJobName": self.name, "HyperParameterTuningJobArn": self.arn,
                "HyperParameterTuningJobStatus": d["HyperParameterTuningJobStatus"],
                "Strategy": d["HyperParameterTuningJobConfig"].get("Strategy", "Bayesian"),
                "ResourceLimits": d["HyperParameterTuningJobConfig"]["ResourceLimits"],
                **{k: d[k] for k in ("CreationTime", "HyperParameterTuningEndTime",
                                     "LastModifiedTime", "TrainingJobStatusCounters",
                                     "ObjectiveStatusCounters") if k in d}}

    def _save(self) -> None:
        """state.json beside request.json: what a restarted endpoint answers for this job."""
        if self.folder is None:
            return
        with self._lock:
            saved = {"state": self._state, "trials": self.trials, "tags": self.tags, "owner": os.getpid()}
            text = json.dumps(saved, indent=1, default=str)
        tmp = self.folder / f"state.json.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            tmp.write_text(text)
            os.replace(tmp, self.folder / "state.json")
        except OSError:
            pass  # the answer in memory stays right; a restart would lose this job
