"""The checks on CreateTrainingJob that AWS's service model cannot express (those it can,
``shapes`` makes for every action first): what AWS checks beyond the model, and what this
simulation cannot run. Each raises AWS's exception type with a sentence on how to fix it."""
from __future__ import annotations

import os
import posixpath
import re
from typing import Any, Mapping

from . import cluster, shapes
from .errors import ApiError, field_error, validation

S3_URI = re.compile(r"(https|s3)://([^/]+)/?(.*)")


def _check_instance(resources: Mapping[str, Any]) -> None:
    # The instance type was checked by shapes.check_request against the model's
    # TrainingInstanceType enum: every type AWS accepts is accepted, in AWS's words.
    count = resources.get("InstanceCount", 1)
    if count < 1:
        raise field_error(count, "resourceConfig.instanceCount",
                          "Member must have value greater than or equal to 1",
                          "Set instance_count=1.")
    if count > 1:
        limit = cluster.max_hosts()
        if count > limit:
            raise validation(
                f"InstanceCount={count}: this machine runs at most {limit} hosts in one job "
                f"({os.cpu_count()} CPU cores: two hosts per core, at least 4, and 0.5 GB of "
                f"memory per host); every host is a process tree on this machine. Use "
                f"instance_count between 1 and {limit}.")
        problem = cluster.unavailable()
        if problem:
            raise validation(
                f"InstanceCount={count}: multi-instance jobs need each host in its own Linux "
                f"network namespace, which this machine does not give: {problem}. Use "
                "instance_count=1, which runs here.")


def parse_s3_uri(uri: str, field: str) -> tuple[str, str]:
    match = S3_URI.fullmatch(uri or "")
    if not match:
        raise field_error(uri, field, "Member must satisfy regular expression pattern: "
                          "(https|s3)://([^/]+)/?(.*)", "Give an S3 URI such as s3://bucket/prefix.")
    return match.group(2), match.group(3)


def _check_channels(request: Mapping[str, Any]) -> None:
    seen = set()
    for i, channel in enumerate(request.get("InputDataConfig") or []):
        name = channel["ChannelName"]
        if name in seen:
            raise validation(f"Channel names must be unique; '{name}' appears twice in "
                             "InputDataConfig. Give each channel its own name.")
        seen.add(name)
        s3 = (channel.get("DataSource") or {}).get("S3DataSource")
        if not s3:
            raise validation(f"Channel '{name}' has no S3DataSource; this simulation reads "
                             "channels from S3 only. Pass an s3:// URI or a TrainingInput.")
        if s3.get("S3DataType", "S3Prefix") not in ("S3Prefix", "ManifestFile"):
            raise validation(f"Channel '{name}': S3DataType {s3.get('S3DataType')!r} is not "
                             "simulated; use 'S3Prefix' or 'ManifestFile'.")


def check_tags(tags: list[dict[str, str]]) -> None:
    """AWS's rules on a resource's tags that the model's TagList shape does not carry."""
    keys = [t["Key"] for t in tags]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise validation(f"1 validation error detected: Value at 'tags' failed to satisfy "
                         f"constraint: Tag keys must be unique; '{twice[0]}' appears more than "
                         "once. Give each tag one value.")
    limit = shapes.model().shape_for("TagList").metadata["max"]
    if len(tags) > limit:
        raise validation(f"A resource can have at most {limit} tags; these changes would give it "
                         f"{len(tags)}. Remove some with delete_tags first.")


def check_create_training_job(request: Mapping[str, Any]) -> None:
    """Raise ApiError for the first problem AWS would reject the request for (the request has
    passed ``shapes.check_request``: its types, patterns and limits are AWS's)."""
    algorithm = request.get("AlgorithmSpecification") or {}
    if not algorithm.get("TrainingImage") and not algorithm.get("AlgorithmName"):
        raise validation("AlgorithmSpecification needs a TrainingImage (image_uri=...) or an "
                         "AlgorithmName. Framework estimators such as TensorFlow fill it in.")
    _check_channels(request)
    check_tags(request.get("Tags") or [])
    _check_instance(request.get("ResourceConfig") or {})
    _check_spot(request)
    _check_distribution(request)
    checkpoint = request.get("CheckpointConfig")
    if checkpoint:
        local = posixpath.normpath(checkpoint.get("LocalPath", "/opt/ml/checkpoints"))
        if not local.startswith("/opt/ml/"):
            raise validation(f"checkpoint_local_path={local!r}: in this simulation checkpoints "
                             "must live under /opt/ml (default /opt/ml/checkpoints).")


# distribution= flags -> the framework images whose toolkit acts on them
_DISTRIBUTION = {"sagemaker_torch_distributed_enabled": ("torch_distributed", "pytorch"),
                 "sagemaker_multi_worker_mirrored_strategy_enabled":
                     ("multi_worker_mirrored_strategy", "tensorflow"),
                 "sagemaker_parameter_server_enabled": ("parameter_server", "tensorflow")}


def _check_distribution(request: Mapping[str, Any]) -> None:
    """A distribution= flag for a framework whose image would ignore it, or two at once."""
    hps = request.get("HyperParameters") or {}
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage", "")
    on = [key for key in _DISTRIBUTION if str(hps.get(key, "")).strip('"').lower() == "true"]
    if len(on) > 1:
        raise validation(f"distribution= asks for {' and '.join(_DISTRIBUTION[k][0] for k in on)} "
                         "at once; a job uses one strategy: keep one key in distribution=.")
    for key in on:
        strategy, framework = _DISTRIBUTION[key]
        if framework not in image:
            raise validation(f"distribution={{'{strategy}': ...}} is acted on by the {framework} "
                             f"images' toolkit, and this job's image ({image}) would ignore it: "
                             f"use the {framework} estimator, or drop the key.")


def _check_spot(request: Mapping[str, Any]) -> None:
    """Managed spot: MaxWaitTimeInSeconds is required, and at least MaxRuntimeInSeconds."""
    stopping = request.get("StoppingCondition") or {}
    wait, runtime = stopping.get("MaxWaitTimeInSeconds"), stopping.get("MaxRuntimeInSeconds", 86400)
    if request.get("EnableManagedSpotTraining") and (wait is None or wait < runtime):
        raise validation(
            "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
            f"MaxRuntimeInSeconds (max_run={runtime}, max_wait={wait}). Give the estimator "
            "max_wait=... (the run time plus the time you accept to wait for spot capacity), "
            "at least max_run.")
    if wait is not None and not request.get("EnableManagedSpotTraining"):
        raise validation("MaxWaitTimeInSeconds is only for managed spot training: add "
                         "use_spot_instances=True, or drop max_wait.")


def name_in_use(name: str, arn: str) -> ApiError:
    return ApiError("ResourceInUse",
                    "Training job names must be unique within an AWS account and region, and a "
                    f"training job with this name already exists ({arn}). Pick a new job_name, or "
                    "leave it out and let the SDK make one from base_job_name.")


def not_found(name: str) -> ApiError:
    return validation(f"Requested resource not found: no training job named '{name}'. "
                      "Check the name with sm-tutorial jobs (or list_training_jobs).")
