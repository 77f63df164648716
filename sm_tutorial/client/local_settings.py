"""The environment variables simulated mode sets in this process, and undoing them.

``sdk`` points every boto3 client at the local endpoint through ``os.environ``; ``aws_mode``
undoes that before a real-AWS session. Both use this module, so neither imports the other
for it.
"""
from __future__ import annotations

import os

import boto3

from .. import settings

class LocalBotoSession(boto3.Session):
    """A boto3 session whose every client and resource goes to the local endpoint, even when
    the caller names AWS's own address (the SDK's
    ``Session.account_id()`` and sagemaker-core ask STS at its regional address)."""

    def __init__(self, endpoint_url: str, **kwargs):
        super().__init__(**kwargs)
        self.local_endpoint_url = endpoint_url

    def client(self, *args, **kwargs):
        kwargs["endpoint_url"] = self.local_endpoint_url
        return super().client(*args, **kwargs)

    def resource(self, *args, **kwargs):
        kwargs["endpoint_url"] = self.local_endpoint_url
        return super().resource(*args, **kwargs)


# Variables simulated mode sets or removes: the learner's values, to restore for AWS mode,
# and ours (a variable the learner has changed since is theirs: left as it is).
_SAVED_ENV: dict[str, str | None] = {}
_OURS: dict[str, str | None] = {}
# Simulated mode needs no profile; a stale AWS_PROFILE would fail the SDK's import-time
# boto3.Session() with ProfileNotFound.
NO_PROFILE = {"AWS_PROFILE": None, "AWS_DEFAULT_PROFILE": None}


def set_env(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        _SAVED_ENV.setdefault(name, os.environ.get(name))
        _OURS[name] = value
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def point_clients_at(url: str) -> None:
    """Every boto3 client made in this process (the learner's too) goes to the endpoint."""
    set_env({"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": settings.REGION,
             "AWS_REGION": settings.REGION, **settings.FAKE_CREDENTIALS, **NO_PROFILE})


def forget_local_settings() -> None:
    """Undo ``point_clients_at`` (before a real-AWS session), and let boto3 use the instance
    metadata credentials again, which simulated mode switches off."""
    for name, value in _SAVED_ENV.items():
        if os.environ.get(name) != _OURS.get(name):
            continue  # set by the learner since: theirs, not ours to undo
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _SAVED_ENV.clear()
    _OURS.clear()
    import sm_tutorial
    if sm_tutorial._IMDS_OFF_BY_US:
        os.environ.pop("AWS_EC2_METADATA_DISABLED", None)
        sm_tutorial._IMDS_OFF_BY_US = False
