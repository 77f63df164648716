"""Where the course keeps its state, and the fixed identity of the simulated account.

Everything the simulation writes lives under one workspace folder (``SM_TUTORIAL_WORKSPACE``,
default ``~/.sm-tutorial``), so a learner can inspect it and one call removes it.
"""
from __future__ import annotations

import os
from pathlib import Path

MODE_ENV = "SM_TUTORIAL_MODE"            # "local" (default) or "aws"
WORKSPACE_ENV = "SM_TUTORIAL_WORKSPACE"  # folder for job roots, logs, endpoint address
ENDPOINT_ENV = "SM_TUTORIAL_ENDPOINT"    # http://127.0.0.1:PORT of a running `sm-tutorial serve`

# moto's account: the only account ID that may appear in the course's outputs.
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/SageMakerTutorialRole"
DEFAULT_BUCKET = f"sagemaker-{REGION}-{ACCOUNT_ID}"
REPO_ROOT = Path(__file__).resolve().parent.parent


def mode() -> str:
    value = os.environ.get(MODE_ENV, "local").strip().lower() or "local"
    if value not in ("local", "aws"):
        raise ValueError(f"{MODE_ENV}={value!r} is not a mode: use 'local' (simulated) or 'aws'.")
    return value


def workspace() -> Path:
    """The folder that holds everything the simulation writes (created on first use)."""
    path = Path(os.environ.get(WORKSPACE_ENV) or Path.home() / ".sm-tutorial").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def data_dir() -> Path:
    """The course data shipped in the repository's data/ folder."""
    path = Path(os.environ.get("SM_TUTORIAL_DATA") or REPO_ROOT / "data" / "digits")
    if not (path / "manifest.json").exists():
        raise FileNotFoundError(
            f"Course data not found at {path}. Run the course from a clone of the repository "
            "(pip install -e .), or set SM_TUTORIAL_DATA to the folder holding manifest.json.")
    return path
