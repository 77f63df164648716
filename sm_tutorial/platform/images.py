"""Bring your own image: a folder registered as a training image, kept in the workspace.

``sm-tutorial image add NAME FOLDER`` copies FOLDER (an executable ``train``, optionally a
``requirements.txt``) to ``<workspace>/images/NAME/program``, installs the requirements once into
``<workspace>/images/NAME/packages``, and gives the image an ECR-style URI in the simulated
account. A job whose TrainingImage is that URI runs ``train`` as ``docker run IMAGE train`` does
on AWS. moto's ECR (behind the endpoint) shows one repository per registered image.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ..container import process
from ..settings import ACCOUNT_ID, REGION
from .errors import validation

TAG = "latest"
# ECR's repository-name rule (one path segment here: the image's folder name)
NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_URI = re.compile(r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                  r"(?P<repo>[^:@]+)(?::(?P<tag>[^@]+))?")


class ImageError(Exception):
    """``image add`` / ``image remove`` refused, with the fix in the message."""


def registry(region: str = REGION) -> str:
    return f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com"


def uri(name: str, region: str = REGION) -> str:
    return f"{registry(region)}/{name}:{TAG}"


def images_dir(workspace: Path) -> Path:
    return workspace / "images"


def names(workspace: Path) -> list[str]:
    folder = images_dir(workspace)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if NAME.fullmatch(p.name) and (p / "program" / "train").is_file())


def parse(image: str) -> dict[str, str] | None:
    """The parts of an ECR image URI, or None for anything else."""
    match = _URI.fullmatch(image or "")
    return match.groupdict() if match else None


def lookup(workspace: Path, image: str) -> Path | None:
    """The registered image's folder (holding program/ and packages/) for this URI, or None."""
    parts = parse(image)
    if not parts or parts["account"] != ACCOUNT_ID or parts["tag"] not in (None, TAG):
        return None
    folder = images_dir(workspace) / parts["repo"]
    return folder if parts["repo"] in names(workspace) else None


def check_request(workspace: Path, request: Mapping[str, Any]) -> None:
    """CreateTrainingJob with an image of the simulated account's ECR that is not registered:
    AWS refuses it at create time (ValidationException: Cannot find repository)."""
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage") or ""
    parts = parse(image)
    if not parts or parts["account"] != ACCOUNT_ID or lookup(workspace, image):
        return  # not ours to pull: framework images run as today
    if parts["repo"] in names(workspace):
        raise validation(f"Requested image {image} not found: the repository {parts['repo']} has "
                         f"only the tag '{TAG}'. Use {uri(parts['repo'], parts['region'])}.")
    raise validation(
        f"Cannot find repository: {parts['repo']} in registry ID: {ACCOUNT_ID} Please check if "
        f"your ECR repository exists and role {request.get('RoleArn')} has proper pull "
        "permissions for SageMaker: ecr:BatchCheckLayerAvailability, ecr:BatchGetImage, "
        f"ecr:GetDownloadUrlForLayer. In this simulation, register the image first: "
        f"sm-tutorial image add {parts['repo']} FOLDER (sm-tutorial image list shows those "
        "registered).")


def _check_train(program: Path) -> None:
    if not program.is_file():
        raise ImageError(f"{program.parent} has no file named 'train'. An image runs "
                         "'train' (as docker run IMAGE train does): add an executable file "
                         "named train to the folder.")
    with open(program, "rb") as handle:
        head = handle.read(4)
    if not os.access(program, os.X_OK):
        raise ImageError(f"{program} is not executable. Run: chmod +x {program}")
    if not head.startswith(b"#!") and head != b"\x7fELF":
        raise ImageError(f"{program} has no shebang line, so it cannot be run as a program. "
                         "Make its first line name its interpreter, e.g. #!/usr/bin/env python3 "
                         "(or #!/bin/bash).")


def add(workspace: Path, name: str, folder: Path) -> str:
    """Register FOLDER as image NAME (replacing an image of that name); returns its URI."""
    if not NAME.fullmatch(name) or len(name) > 256:
        raise ImageError(f"{name!r} is not a repository name ECR accepts: use lower-case letters, "
                         "digits and '.', '_' or '-' between them, e.g. my-trainer.")
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ImageError(f"{folder} is not a folder. Give the folder that holds train.")
    _check_train(folder / "train")
    images_dir(workspace).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=images_dir(workspace)))
    try:
        shutil.copytree(folder, staging / "program", symlinks=True)
        requirements = staging / "program" / "requirements.txt"
        if requirements.is_file():
            _install(requirements, staging / "packages", folder)
        final = images_dir(workspace) / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return uri(name)


def _install(requirements: Path, target: Path, folder: Path) -> None:
    wheels = any(folder.glob("*.whl")) or any(folder.glob("*.tar.gz"))
    env = {k: v for k, v in os.environ.items() if k in process.HOST_VARIABLES}
    try:
        process.pip_install(requirements, target, env, find_links=folder if wheels else None)
    except subprocess.CalledProcessError as error:
        last = " ".join((error.stderr or error.stdout or "").strip().splitlines()[-3:])
        how = ("pip looked only at the wheels in the folder (offline, --no-index): add the missing "
               "ones" if wheels else "pip could not reach a package index: ship the wheels in the "
               "folder (pip download -r requirements.txt -d FOLDER on a machine online)")
        raise ImageError(f"requirements.txt could not be installed: {last} Fix: {how}, or "
                         "correct the names and versions in requirements.txt.")


def remove(workspace: Path, name: str) -> None:
    if name not in names(workspace):
        raise ImageError(f"No image named {name!r}. sm-tutorial image list shows the registered "
                         "images.")
    shutil.rmtree(images_dir(workspace) / name)


_SYNCED: set[tuple[str, str]] = set()  # (region, name) repositories this module created


def sync_ecr(workspace: Path, region: str) -> None:
    """moto's ECR (the simulated account's) gets a repository per registered image, and loses
    those of removed images; repositories a learner created through the API stay."""
    from moto.ecr.models import ecr_backends
    backend = ecr_backends[ACCOUNT_ID][region]
    wanted = set(names(workspace))
    for name in sorted(wanted - set(backend.repositories)):
        backend.create_repository(repository_name=name, registry_id=None, encryption_config=None,
                                  image_scan_config=None, image_tag_mutability="MUTABLE", tags=[])
        _SYNCED.add((region, name))
    for gone in [n for r, n in _SYNCED if r == region and n not in wanted]:
        if gone in backend.repositories:
            backend.delete_repository(gone, force=True)
        _SYNCED.discard((region, gone))


def is_ecr_request(target: str) -> bool:
    return target.startswith("AmazonEC2ContainerRegistry_V20150921.")

