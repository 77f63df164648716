"""The real SageMaker SDK v2, set up for the course: ``session()`` and ``role()``.

In simulated mode the SDK talks to the local endpoint through its normal seams (a boto3
session and ``AWS_ENDPOINT_URL``); nothing in the SDK is replaced. Three settings make it
offline, quiet and quick:
- telemetry is opted out through the SDK's own config key, and the v2 deprecation notice is off;
- that config is validated once, not on every lookup (the SDK re-validates it each time);
- ``SimulatedSession`` keeps the SDK's polling loops but runs their clock 25-100x faster: they
  sleep 5-30 s between checks because real jobs take minutes; a local job takes seconds.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time as _time

from .. import settings
from .local_settings import NO_PROFILE, LocalBotoSession, point_clients_at, set_env

# Set before import: the SDK only installs its INFO handler on loggers nobody configured, and
# one of its modules turns on INFO logging for everything (logging.basicConfig) when imported.
# The job name it would log is on estimator.latest_training_job.name.
for _name in ("sagemaker", "sagemaker.config", "botocore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# Simulated mode needs no profile; a stale AWS_PROFILE would fail the SDK's import-time
# boto3.Session() with ProfileNotFound. Set aside before the import, restored for mode="aws".
if os.environ.get(settings.MODE_ENV, "local").strip().lower() in ("", "local"):
    set_env(NO_PROFILE)

import sagemaker  # noqa: E402
import sagemaker.session  # noqa: E402
import sagemaker.utils  # noqa: E402

TELEMETRY_OPT_OUT = {"SchemaVersion": "1.0",
                     "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
LOGS_SPEEDUP = 100  # logs_for_job's sleeps of 5, 10 and 30 s become 0.05, 0.1 and 0.3 s
WAIT_SPEEDUP = 25   # wait_for_job prints a dot per poll: 5 s become 0.2 s
DEPLOY_SPEEDUP = 600  # deploy()'s wait_for_endpoint polls every 30 s: 0.05 s here


def _validate_once(validate):
    """Wrap the SDK's config validation so an unchanged config is validated only once."""
    seen: list = []

    def validate_sagemaker_config(config=None):
        if not any(config is c or config == c for c in seen):
            validate(config)
            seen.append(config)
    return validate_sagemaker_config


if not getattr(sagemaker.utils.validate_sagemaker_config, "_sm_tutorial", False):
    sagemaker.utils.validate_sagemaker_config = _validate_once(sagemaker.utils.validate_sagemaker_config)
    sagemaker.utils.validate_sagemaker_config._sm_tutorial = True


class _PollClock:
    """Stands in for the ``time`` module inside ``sagemaker.session``. In a thread that is
    waiting on a simulated job, ``sleep(s)`` sleeps s/speedup and ``time()`` moves ahead by
    the full s, so the SDK's own loops see the intervals they expect. Elsewhere it is ``time``."""

    def __init__(self):
        self._local = threading.local()

    @contextlib.contextmanager
    def fast(self, speedup: float):
        self._local.depth = getattr(self._local, "depth", 0) + 1
        self._local.offset = getattr(self._local, "offset", 0.0)
        self._local.speedup = speedup
        try:
            yield
        finally:
            self._local.depth -= 1

    def _active(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    def sleep(self, seconds):
        if self._active():
            real = seconds / self._local.speedup
            self._local.offset += seconds - real
            seconds = real
        _time.sleep(seconds)

    def time(self):
        return _time.time() + (getattr(self._local, "offset", 0.0) if self._active() else 0.0)

    def __getattr__(self, name):
        return getattr(_time, name)


if not isinstance(sagemaker.session.time, _PollClock):
    sagemaker.session.time = _PollClock()
_CLOCK: _PollClock = sagemaker.session.time


class SimulatedSession(sagemaker.Session):
    """A ``sagemaker.Session`` against the local endpoint; only its waiting is quicker."""

    def wait_for_job(self, job, poll=5):
        with _CLOCK.fast(WAIT_SPEEDUP):
            return super().wait_for_job(job, poll)

    def wait_for_tuning_job(self, job, poll=5):  # HyperparameterTuner.fit() and .wait()
        with _CLOCK.fast(WAIT_SPEEDUP):
            return super().wait_for_tuning_job(job, poll)

    def logs_for_job(self, job_name, wait=False, poll=10, log_type="All", timeout=None):
        with _CLOCK.fast(LOGS_SPEEDUP):
            return super().logs_for_job(job_name, wait, poll, log_type, timeout)

    def wait_for_endpoint(self, endpoint, poll=30, live_logging=False):
        with _CLOCK.fast(DEPLOY_SPEEDUP):
            return super().wait_for_endpoint(endpoint, poll, live_logging)


_endpoint = None
_endpoint_lock = threading.Lock()


def endpoint_url() -> str:
    """The local endpoint's address: a running ``sm-tutorial serve`` named by
    SM_TUTORIAL_ENDPOINT, or one started in this process on first use."""
    global _endpoint
    attached = os.environ.get(settings.ENDPOINT_ENV)
    if attached:
        from ..platform.endpoint import identify
        identity = identify(attached, timeout=5)
        if identity is None:
            raise ConnectionError(
                f"{settings.ENDPOINT_ENV}={attached} does not answer. Start it with "
                "`sm-tutorial serve`, or unset the variable to run the local AWS stand-in in this kernel.")
        _notice_restart(attached.rstrip("/"), identity)
        return attached.rstrip("/")
    with _endpoint_lock:
        if _endpoint is None:
            from ..platform.endpoint import Endpoint
            _endpoint = Endpoint().start()
        return _endpoint.url


def _notice_restart(url: str, identity: dict) -> None:
    """Say so when `sm-tutorial serve` was restarted since this workspace last used it."""
    import json
    seen_file = settings.workspace() / "endpoints-seen.json"
    seen = json.loads(seen_file.read_text()) if seen_file.exists() else {}
    if seen.get(url) not in (None, identity["id"]):
        print(f"Note: the local AWS stand-in at {url} was restarted since you last used it. Its S3 "
              "buckets and logs lived in memory and are gone (finished jobs' folders remain). "
              "Upload your data again, e.g. sm_tutorial.upload_digits(sess).")
    seen[url] = identity["id"]
    seen_file.write_text(json.dumps(seen))


def local_endpoint():
    """The in-process endpoint object (None when attached to `sm-tutorial serve`)."""
    endpoint_url()
    return _endpoint


def session(mode: str | None = None, confirm_costs: bool | None = None) -> sagemaker.Session:
    """A real ``sagemaker.Session``: simulated (default), or on the AWS account your
    credentials name with ``mode="aws"`` (see ``sm_tutorial.client.aws_mode`` for its guardrails)."""
    global _mode
    mode = (mode or settings.mode()).lower()
    if mode == "aws":
        from .aws_mode import aws_session
        _mode = "aws"
        return aws_session(confirm_costs, config=TELEMETRY_OPT_OUT)
    if mode != "local":
        raise ValueError(f"mode={mode!r}: use 'local' (simulated) or 'aws'.")
    url = endpoint_url()
    _mode = "local"
    point_clients_at(url)
    boto_session = LocalBotoSession(url, region_name=settings.REGION)  # account_id() asks STS at AWS's address
    s3 = boto_session.client("s3")
    try:
        s3.head_bucket(Bucket=settings.DEFAULT_BUCKET)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=settings.DEFAULT_BUCKET)
    return SimulatedSession(boto_session=boto_session,
                            sagemaker_client=boto_session.client("sagemaker"),
                            default_bucket=settings.DEFAULT_BUCKET,
                            sagemaker_config=TELEMETRY_OPT_OUT)


def role(session=None) -> str:
    """The execution role ARN the course's jobs run under (in AWS mode: SM_TUTORIAL_ROLE_ARN,
    or the Studio notebook's own role)."""
    if current_mode() == "aws":
        from .aws_mode import aws_role
        return aws_role(session)
    return settings.ROLE_ARN


_mode: str | None = None


def current_mode() -> str:
    """The mode of the last session() in this process, else SM_TUTORIAL_MODE."""
    return _mode or settings.mode()


def simulated() -> bool:
    """True in simulated mode: lessons use it to skip what exists only locally (job folders)."""
    return current_mode() == "local"
