"""``trainer_session()``: the session the SDK's ``ModelTrainer`` takes, set up for the course.

``sagemaker.modules.train.ModelTrainer`` (SDK v2.25x; ``sagemaker.train`` in v3) does not use
``sagemaker.Session`` but sagemaker-core's (``sagemaker.modules.Session``). Out of the box,
that one cannot work offline:
- it asks STS for the account and the caller's role at AWS's regional address
  (``endpoint_url=sts_regional_endpoint(region)``), which ``AWS_ENDPOINT_URL`` does not
  override: here every client of its boto3 session goes to the local endpoint instead;
- sagemaker-core keeps one SageMaker client and one CloudWatch Logs client per process
  (singletons made from whichever session came first): they are made again from this session,
  so a job never goes to the other mode's service;
- telemetry is opted out as ``session()`` does it (``sagemaker_config``), and a training job's
  waiting loop (a describe every 5 s) runs 25x faster against the local endpoint.

Its credentials are the course role's (an ``AssumeRole`` session of the simulated account,
as a SageMaker Studio notebook's are its execution role's), so ``ModelTrainer`` without
``role=`` finds ``sm_tutorial.role()`` through STS and IAM, as it does in Studio.

In AWS mode it is a plain sagemaker-core session on the same account, bucket and course prefix
as ``session(mode="aws")``, with the same guardrails on every CreateTrainingJob: announced,
``MaxRuntimeInSeconds`` capped, and launched only with the presenter's opt-in.
"""
from __future__ import annotations

import json
import os
import time as _time

import boto3
from botocore.config import Config

from .. import settings
from .local_settings import LocalBotoSession
from .sdk import TELEMETRY_OPT_OUT, session as _v2_session

import sagemaker.modules  # noqa: E402  (after sdk: it sets up the environment the SDK reads)
from sagemaker_core.main import logs as _core_logs, resources as _core_resources  # noqa: E402
from sagemaker_core.main.utils import SageMakerClient, SingletonMeta  # noqa: E402

WAIT_SPEEDUP = 25  # TrainingJob.wait's 5 s between describes become 0.2 s locally
TRUST_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


class _WaitClock:
    """Stands in for ``time`` inside sagemaker-core's resources: while the session in use is
    simulated, ``sleep(s)`` sleeps s/speedup and ``time()`` moves ahead by the full s, so the
    waiting loops and their timeouts see the intervals they expect."""

    def __init__(self):
        self.speedup, self.offset = 1.0, 0.0

    def sleep(self, seconds):
        real = seconds / self.speedup
        self.offset += seconds - real
        _time.sleep(real)

    def time(self):
        return _time.time() + self.offset

    def __getattr__(self, name):
        return getattr(_time, name)


if not isinstance(_core_resources.time, _WaitClock):
    _core_resources.time = _WaitClock()
_CLOCK: _WaitClock = _core_resources.time


class TrainerSession(sagemaker.modules.Session):
    """``sagemaker.modules.Session`` with the course's SDK config (telemetry opted out):
    ``ModelTrainer`` reads ``sagemaker_config`` when the session has one."""

    sagemaker_config = TELEMETRY_OPT_OUT


def trainer_session(mode: str | None = None, confirm_costs: bool | None = None) -> TrainerSession:
    """The session for ``ModelTrainer(..., sagemaker_session=...)``: simulated (default), or
    on your AWS account with ``mode="aws"``, as ``session()``."""
    v2 = _v2_session(mode, confirm_costs)  # the endpoint, environment, bucket and mode
    if (mode or settings.mode()).lower() == "aws":
        return _aws(v2)
    from .sdk import endpoint_url
    url = endpoint_url()
    boto_session = LocalBotoSession(url, region_name=settings.REGION, **_role_credentials(url))
    session = TrainerSession(boto_session=boto_session, default_bucket=settings.DEFAULT_BUCKET)
    _bind_singletons(boto_session)
    _CLOCK.speedup = WAIT_SPEEDUP
    return session


def _role_credentials(url: str) -> dict[str, str]:
    """Credentials of the course role in the simulated account (created there if missing)."""
    plain = LocalBotoSession(url, region_name=settings.REGION)  # the fake keys of the environment
    iam, name = plain.client("iam"), settings.ROLE_ARN.rsplit("/", 1)[-1]
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    granted = plain.client("sts").assume_role(RoleArn=settings.ROLE_ARN,
                                              RoleSessionName="sm-tutorial")["Credentials"]
    return {"aws_access_key_id": granted["AccessKeyId"],
            "aws_secret_access_key": granted["SecretAccessKey"],
            "aws_session_token": granted["SessionToken"]}


def _bind_singletons(boto_session: boto3.Session) -> None:
    """sagemaker-core's per-process clients, made again from this session."""
    for cls in (SageMakerClient, _core_logs.CloudWatchLogsClient):
        SingletonMeta._instances.pop(cls, None)
    SageMakerClient(session=boto_session, region_name=boto_session.region_name,
                    config=Config(retries={"max_attempts": 10, "mode": "standard"}))  # its default
    logs = _core_logs.CloudWatchLogsClient.__new__(_core_logs.CloudWatchLogsClient)
    logs.client = boto_session.client("logs", boto_session.region_name)
    SingletonMeta._instances[_core_logs.CloudWatchLogsClient] = logs


def _aws(v2) -> TrainerSession:
    """A real session on the account of ``session(mode="aws")``, with its guardrails."""
    from . import aws_mode
    boto_session = v2.boto_session
    boto_session.events.register("before-parameter-build.sagemaker.CreateTrainingJob",
                                 _guard(bool(v2.confirm_costs)))
    session = TrainerSession(boto_session=boto_session, default_bucket=v2.default_bucket(),
                             default_bucket_prefix=aws_mode.COURSE_PREFIX)
    _bind_singletons(boto_session)
    _CLOCK.speedup = 1.0
    return session


def _guard(confirm_costs: bool):
    """A botocore handler that does to each CreateTrainingJob what ``GuardedSession.train``
    does in AWS mode: cap MaxRuntime, announce the cost, refuse without opt-in."""
    from . import aws_mode, prices

    def check(params, **kwargs):
        stop = params.setdefault("StoppingCondition", {})
        cap = int(os.environ.get(aws_mode.MAX_RUN_ENV, aws_mode.DEFAULT_MAX_RUN))
        if stop.get("MaxRuntimeInSeconds", 86400) > cap:
            print(f"[sm-tutorial] max_run lowered to {cap} s (raise it with {aws_mode.MAX_RUN_ENV}).")
            stop["MaxRuntimeInSeconds"] = cap
        resources = params.get("ResourceConfig") or {}
        plan = prices.estimate(resources.get("InstanceType", "?"), resources.get("InstanceCount", 1),
                               stop["MaxRuntimeInSeconds"])
        print(f"[sm-tutorial] AWS training job {params.get('TrainingJobName')}: {plan}.")
        if not (confirm_costs or os.environ.get(aws_mode.CONFIRM_ENV) == "1"):
            raise aws_mode.CostNotConfirmed(
                "Not launched: this would start a billed job on your AWS account. Opt in with "
                f"{aws_mode.CONFIRM_ENV}=1 or sm_tutorial.trainer_session(mode='aws', "
                "confirm_costs=True).")
    return check
