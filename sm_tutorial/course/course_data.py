"""The course's digits data: where it is, and putting it in S3 for a job's channels."""
from __future__ import annotations

from pathlib import Path

from .. import settings

PREFIX = "sm-tutorial/data/digits"


def upload_digits(sagemaker_session, prefix: str = PREFIX) -> dict[str, str]:
    """Upload train/ and validation/ TFRecords and csv/ to the session's default bucket.
    Returns the S3 URI of each folder: ``{"train": "s3://.../train", ...}``."""
    root = settings.data_dir()
    uris = {}
    for folder in ("train", "validation", "csv"):
        uris[folder] = sagemaker_session.upload_data(
            str(root / folder), bucket=sagemaker_session.default_bucket(),
            key_prefix=f"{prefix}/{folder}")
    return uris


def local_path(name: str = "") -> Path:
    """A path inside the shipped data (``local_path("csv/train.csv")``)."""
    return settings.data_dir() / name
