"""The checks AWS makes on CreateTrainingJob that moto does not, each with AWS's exception type
and a sentence on how to fix it."""
from __future__ import annotations

import posixpath
import re
from typing import Any, Mapping

from ..container.layout import channel_mode
from .errors import ApiError, field_error, validation
from .instances import INSTANCE_TYPES

JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9\.\-_]+$")
S3_URI = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
INPUT_MODES = ("File", "Pipe", "FastFile")
MAX_HYPERPARAMETERS, MAX_KEY, MAX_VALUE = 100, 256, 2500


def check_job_name(name: Any) -> str:
    if not isinstance(name, str) or not JOB_NAME.match(name):
        raise field_error(name, "trainingJobName",
                          "Member must satisfy regular expression pattern: "
                          "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
                          "Use 1-63 letters, digits and hyphens, starting with a letter or digit "
                          "(base_job_name='digits' lets the SDK add a unique timestamp).")
    return name


def _check_instance(resources: Mapping[str, Any]) -> None:
    instance_type = resources.get("InstanceType")
    if instance_type not in INSTANCE_TYPES:
        examples = ", ".join(list(INSTANCE_TYPES)[:4])
        raise field_error(instance_type, "resourceConfig.instanceType",
                          "Member must satisfy enum value set: [" + ", ".join(INSTANCE_TYPES) + "]",
                          f"Pick a training instance type such as {examples}.")
    count = resources.get("InstanceCount", 1)
    if not isinstance(count, int) or count < 1:
        raise field_error(count, "resourceConfig.instanceCount",
                          "Member must have value greater than or equal to 1",
                          "Set instance_count=1.")
    if count > 1:
        raise validation(f"InstanceCount={count}: this simulation runs single-instance jobs only. "
                         "Set instance_count=1 (distributed training needs a real AWS account).")


def _check_hyperparameters(hps: Mapping[str, Any]) -> None:
    if len(hps) > MAX_HYPERPARAMETERS:
        raise validation(f"The hyperparameter map has {len(hps)} entries; the maximum is "
                         f"{MAX_HYPERPARAMETERS}. Pass large configurations as a file in "
                         "source_dir or a data channel instead.")
    for key, value in hps.items():
        if len(key) > MAX_KEY:
            raise validation(f"Hyperparameter key '{key[:40]}...' is {len(key)} characters; "
                             f"the maximum is {MAX_KEY}. Use a shorter name.")
        if not isinstance(value, str):
            raise validation(f"Hyperparameter '{key}' has a {type(value).__name__} value; every "
                             "value must be a string. Convert it with str() or json.dumps().")
        if len(value) > MAX_VALUE:
            raise validation(f"Hyperparameter '{key}' is {len(value)} characters long; the maximum "
                             f"is {MAX_VALUE}. Put large values in a file in source_dir or a "
                             "data channel and pass its name instead.")


def parse_s3_uri(uri: str, field: str) -> tuple[str, str]:
    match = S3_URI.match(uri or "")
    if not match:
        raise field_error(uri, field, "Member must satisfy regular expression pattern: "
                          "^(https|s3)://([^/]+)/?(.*)$", "Give an S3 URI such as s3://bucket/prefix.")
    return match.group(2), match.group(3)


def _check_channels(request: Mapping[str, Any]) -> None:
    seen = set()
    for i, channel in enumerate(request.get("InputDataConfig") or []):
        name = channel.get("ChannelName", "")
        if not CHANNEL_NAME.match(name) or len(name) > 64:
            raise field_error(name, f"inputDataConfig.{i + 1}.member.channelName",
                              "Member must satisfy regular expression pattern: [A-Za-z0-9\\.\\-_]+",
                              "Use letters, digits, '.', '-' or '_' (e.g. 'train').")
        if name in seen:
            raise validation(f"Channel names must be unique; '{name}' appears twice in "
                             "InputDataConfig. Give each channel its own name.")
        seen.add(name)
        s3 = (channel.get("DataSource") or {}).get("S3DataSource")
        if not s3:
            raise validation(f"Channel '{name}' has no S3DataSource; this simulation reads "
                             "channels from S3 only. Pass an s3:// URI or a TrainingInput.")
        parse_s3_uri(s3.get("S3Uri"), f"inputDataConfig.{i + 1}.member.dataSource.s3DataSource.s3Uri")
        mode = channel_mode(channel, request)
        if mode not in INPUT_MODES:
            raise field_error(mode, f"inputDataConfig.{i + 1}.member.inputMode",
                              "Member must satisfy enum value set: [Pipe, File, FastFile]",
                              "Use input_mode='File', 'FastFile' or 'Pipe'.")
        if s3.get("S3DataType", "S3Prefix") not in ("S3Prefix", "ManifestFile"):
            raise validation(f"Channel '{name}': S3DataType {s3.get('S3DataType')!r} is not "
                             "simulated; use 'S3Prefix' or 'ManifestFile'.")
        if s3.get("S3DataDistributionType") == "ShardedByS3Key":
            count = (request.get("ResourceConfig") or {}).get("InstanceCount", 1)
            if count > 1:
                raise validation(f"Channel '{name}' is ShardedByS3Key across {count} instances; "
                                 "this simulation runs one instance per job, so there is nothing "
                                 "to shard. Use instance_count=1 (FullyReplicated and "
                                 "ShardedByS3Key are the same on one instance).")


def check_create_training_job(request: Mapping[str, Any]) -> None:
    """Raise ApiError for the first problem AWS would reject the request for."""
    check_job_name(request.get("TrainingJobName"))
    role = request.get("RoleArn", "")
    if not ROLE_ARN.match(role or ""):
        raise field_error(role, "roleArn", "Member must satisfy regular expression pattern: "
                          "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$",
                          "Pass role=sm_tutorial.role() (an IAM role ARN).")
    algorithm = request.get("AlgorithmSpecification") or {}
    if not algorithm.get("TrainingImage") and not algorithm.get("AlgorithmName"):
        raise validation("AlgorithmSpecification needs a TrainingImage (image_uri=...) or an "
                         "AlgorithmName. Framework estimators such as TensorFlow fill it in.")
    _check_channels(request)
    _check_instance(request.get("ResourceConfig") or {})
    _check_hyperparameters(request.get("HyperParameters") or {})
    output = (request.get("OutputDataConfig") or {}).get("S3OutputPath")
    parse_s3_uri(output, "outputDataConfig.s3OutputPath")
    stopping = request.get("StoppingCondition") or {}
    runtime = stopping.get("MaxRuntimeInSeconds", 86400)
    if not isinstance(runtime, int) or runtime < 1:
        raise field_error(runtime, "stoppingCondition.maxRuntimeInSeconds",
                          "Member must have value greater than or equal to 1",
                          "Set max_run to a number of seconds, at least 1.")
    checkpoint = request.get("CheckpointConfig")
    if checkpoint:
        parse_s3_uri(checkpoint.get("S3Uri"), "checkpointConfig.s3Uri")
        local = posixpath.normpath(checkpoint.get("LocalPath", "/opt/ml/checkpoints"))
        if not local.startswith("/opt/ml/"):
            raise validation(f"checkpoint_local_path={local!r}: in this simulation checkpoints "
                             "must live under /opt/ml (default /opt/ml/checkpoints).")


def name_in_use(name: str, arn: str) -> ApiError:
    return ApiError("ResourceInUse",
                    "Training job names must be unique within an AWS account and region, and a "
                    f"training job with this name already exists ({arn}). Pick a new job_name, or "
                    "leave it out and let the SDK make one from base_job_name.")


def not_found(name: str) -> ApiError:
    return validation(f"Requested resource not found: no training job named '{name}'. "
                      "Check the name with sm-tutorial jobs (or list_training_jobs).")
