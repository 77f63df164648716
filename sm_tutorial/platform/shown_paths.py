"""The job's folders as its log and FailureReason show them: where they are in AWS's container,
never where they are in the course workspace (a learner's home folder and user name)."""
from __future__ import annotations

import os
from pathlib import Path

# jobs/<name>/opt/<folder> -> the container path shown for it. /opt/ml is the contract's. The
# others have no fixed place on AWS; these are where a framework image keeps the same things:
# the guard installed as sitecustomize (container/guard.py) sits with the platform's own
# bootstrap code, and the packages pip installs from code/requirements.txt are in the image's
# site-packages (the toolkit runs `pip install -r requirements.txt` into it); HOME is root's.
CONTAINER = {"ml": "/opt/ml",
             "bootstrap": "/usr/local/lib/sagemaker/bootstrap",
             "packages": "/usr/local/lib/python3/site-packages",
             "home": "/root"}  # HOME: AWS's containers run as root


def replacements(job_folder: Path) -> list[tuple[str, str]]:
    """(host path, container path), longest host path first; symlinked workspaces both ways."""
    pairs = {(name, shown) for folder, shown in CONTAINER.items()
             for name in (str(job_folder / "opt" / folder),
                          os.path.realpath(job_folder / "opt" / folder))}
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def as_container(text: str, pairs: list[tuple[str, str]]) -> str:
    for name, shown in pairs:
        text = text.replace(name, shown)
    return text
