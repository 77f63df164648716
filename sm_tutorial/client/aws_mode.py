"""Real-AWS mode for live demos: the same SDK calls on the presenter's account, with guardrails.

- every job is announced first (instances, max runtime, worst-case cost) and launched only
  with opt-in (``SM_TUTORIAL_AWS_CONFIRM=1`` or ``session(mode="aws", confirm_costs=True)``);
- every job's ``max_run`` is capped (``SM_TUTORIAL_MAX_RUN``, default 1800 s);
- all data and artifacts go under one prefix of the default bucket, ``sm-tutorial/``, which
  ``cleanup()`` empties after listing it, once it has stopped the course's running jobs.
"""
from __future__ import annotations

import os
import time

import boto3
import sagemaker
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from . import prices
from .local_settings import forget_local_settings

COURSE_PREFIX = "sm-tutorial"
CONFIRM_ENV = "SM_TUTORIAL_AWS_CONFIRM"
MAX_RUN_ENV = "SM_TUTORIAL_MAX_RUN"
ROLE_ENV = "SM_TUTORIAL_ROLE_ARN"
DEFAULT_MAX_RUN = 1800


class CostNotConfirmed(RuntimeError):
    """Raised instead of launching a job on AWS without the presenter's opt-in."""


class AwsSetupError(RuntimeError):
    """Something the presenter must fix before the demo; the message says what."""


class GuardedSession(sagemaker.Session):
    """A ``sagemaker.Session`` that announces, caps and gates every training job."""

    confirm_costs = False

    def train(self, *args, **kwargs):  # noqa: D401 - the SDK's signature, keyword-called
        resources = kwargs.get("resource_config") or {}
        stop = dict(kwargs.get("stop_condition") or {})
        cap = int(os.environ.get(MAX_RUN_ENV, DEFAULT_MAX_RUN))
        if stop.get("MaxRuntimeInSeconds", 86400) > cap:
            print(f"[sm-tutorial] max_run lowered to {cap} s (raise it with {MAX_RUN_ENV}).")
            stop["MaxRuntimeInSeconds"] = cap
            kwargs["stop_condition"] = stop
        plan = prices.estimate(resources.get("InstanceType", "?"), resources.get("InstanceCount", 1),
                               stop["MaxRuntimeInSeconds"])
        print(f"[sm-tutorial] AWS training job {kwargs.get('job_name')}: {plan}.")
        if not (self.confirm_costs or os.environ.get(CONFIRM_ENV) == "1"):
            raise CostNotConfirmed(
                "Not launched: this would start a billed job on your AWS account. Opt in with "
                f"{CONFIRM_ENV}=1 or sm_tutorial.session(mode='aws', confirm_costs=True).")
        return super().train(*args, **kwargs)


def aws_session(confirm_costs: bool | None = None, config: dict | None = None) -> GuardedSession:
    forget_local_settings()  # a simulated session earlier in this kernel pointed boto3 at itself
    boto_session = boto3.Session()
    if boto_session.get_credentials() is None:
        raise AwsSetupError(
            "No AWS credentials found. Run `aws configure` (or `aws sso login --profile NAME` and "
            "set AWS_PROFILE), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then retry.")
    if not boto_session.region_name:
        raise AwsSetupError("No AWS region set. Set AWS_DEFAULT_REGION (e.g. us-east-1) or run "
                            "`aws configure`.")
    session = GuardedSession(boto_session=boto_session, default_bucket=_default_bucket(boto_session),
                             default_bucket_prefix=COURSE_PREFIX, sagemaker_config=config)
    session.confirm_costs = bool(confirm_costs)
    return session


def _default_bucket(boto_session) -> str:
    """The SDK's default bucket name, ``sagemaker-<region>-<account>``, worked out here because
    the SDK asks STS at a fixed regional address that ignores AWS_ENDPOINT_URL. Like the SDK, it
    refuses a bucket of that name owned by another account."""
    try:
        account = boto_session.client("sts").get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as error:
        raise AwsSetupError(f"Your AWS credentials were rejected ({error}). Refresh them "
                            "(aws sso login, aws configure) and retry.")
    region = boto_session.region_name
    bucket = f"sagemaker-{region}-{account}"
    s3 = boto_session.client("s3")
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("403", "AccessDenied"):
            raise AwsSetupError(f"The bucket {bucket} exists but is not your account's, or you "
                                "may not use it: pass a bucket you own to the session.")
        if code not in ("404", "NoSuchBucket"):
            raise
        # The SDK cannot create it when a bucket prefix is set (it lists the prefix first).
        s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else
                                           {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    return bucket


def in_sagemaker_notebook() -> bool:
    return os.path.exists("/opt/ml/metadata/resource-metadata.json")


def aws_role(session=None) -> str:
    """The execution role: SM_TUTORIAL_ROLE_ARN, or the notebook's own role inside Studio."""
    if os.environ.get(ROLE_ENV):
        return os.environ[ROLE_ENV]
    try:
        if not in_sagemaker_notebook():  # elsewhere the SDK's lookup can only fail
            raise ValueError("not in SageMaker Studio or a notebook instance")
        return sagemaker.get_execution_role(sagemaker_session=session)
    except (ValueError, ClientError, BotoCoreError):
        raise AwsSetupError(
            f"No execution role: set {ROLE_ENV} to the ARN of an IAM role that SageMaker can "
            "assume (trust policy for sagemaker.amazonaws.com, with AmazonSageMakerFullAccess "
            "and access to your bucket). Inside SageMaker Studio the notebook's role is used.")


LESSON_INSTANCE_TYPES = ("ml.m5.xlarge",)


def preflight(session=None) -> list[tuple[bool, str]]:
    """(ok, line) for each thing a live demo needs, each problem with its fix."""
    results = []
    try:
        session = session or aws_session()
    except AwsSetupError as error:
        return [(False, str(error))]
    boto = session.boto_session
    try:
        identity = boto.client("sts").get_caller_identity()
        results.append((True, f"credentials: {identity['Arn']} in {boto.region_name}"))
    except (ClientError, NoCredentialsError, BotoCoreError) as error:
        return [(False, f"credentials rejected ({error}); refresh them (aws sso login, aws configure).")]
    try:
        role = aws_role(session)
        name = role.rsplit("/", 1)[-1]
        boto.client("iam").get_role(RoleName=name)
        results.append((True, f"role: {role}"))
    except AwsSetupError as error:
        results.append((False, str(error)))
    except ClientError as error:
        results.append((False, f"role {role} cannot be read ({error.response['Error']['Code']}): "
                               f"check the ARN in {ROLE_ENV}."))
    try:
        bucket = session.default_bucket()
        boto.client("s3").head_bucket(Bucket=bucket)
        results.append((True, f"bucket: s3://{bucket}/{COURSE_PREFIX}/"))
    except (ClientError, BotoCoreError) as error:
        results.append((False, f"no usable default bucket ({error}); the role needs s3:CreateBucket "
                               "or pass default_bucket= to an existing bucket you can write."))
    results.append((True, "instance types the lessons use: " + ", ".join(LESSON_INSTANCE_TYPES)
                    + ". If a job fails with ResourceLimitExceeded, request a quota increase: "
                    "Service Quotas > Amazon SageMaker > '<type> for training job usage'."))
    return results


def course_jobs_running(session) -> list[str]:
    client = session.sagemaker_client
    prefix = f"s3://{session.default_bucket()}/{COURSE_PREFIX}"
    running = []
    for page in client.get_paginator("list_training_jobs").paginate(StatusEquals="InProgress"):
        for summary in page["TrainingJobSummaries"]:
            d = client.describe_training_job(TrainingJobName=summary["TrainingJobName"])
            if d["OutputDataConfig"]["S3OutputPath"].startswith(prefix):
                running.append(summary["TrainingJobName"])
    return running


def cleanup(session, dry_run: bool = False) -> dict:
    """Stop the course's running jobs, then delete every object under the course prefix
    (and nothing else). Prints what it removes first; returns {"stopped": [...], "deleted": [...]}."""
    stopped = course_jobs_running(session)
    bucket = session.default_bucket()
    s3 = session.boto_session.client("s3")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=COURSE_PREFIX + "/"):
        keys += [o["Key"] for o in page.get("Contents", [])]
    print(f"Stopping {len(stopped)} course job(s): {', '.join(stopped) or '-'}")
    print(f"Deleting {len(keys)} object(s) under s3://{bucket}/{COURSE_PREFIX}/:")
    for key in keys[:20]:
        print("  ", key)
    if len(keys) > 20:
        print(f"   ... and {len(keys) - 20} more")
    if dry_run:
        return {"stopped": stopped, "deleted": keys}
    for name in stopped:
        session.sagemaker_client.stop_training_job(TrainingJobName=name)
    for name in stopped:  # a stopping job still uploads its artifacts: wait, then list again
        while session.sagemaker_client.describe_training_job(
                TrainingJobName=name)["TrainingJobStatus"] in ("InProgress", "Stopping"):
            time.sleep(5)
    if stopped:
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=COURSE_PREFIX + "/") for o in page.get("Contents", [])]
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]]})
    return {"stopped": stopped, "deleted": keys}
