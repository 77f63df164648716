"""Training instance types: every ``TrainingInstanceType`` of SageMaker's service model
(botocore's), with the vCPU, memory and GPU counts real jobs report in SM_NUM_CPUS /
SM_NUM_GPUS. The job itself runs on this machine, whatever the type says.

Nothing is retyped: ``ml.<x>`` is EC2's ``<x>``, described in the copy of EC2's
DescribeInstanceTypes that moto ships (VCpuInfo, MemoryInfo, GpuInfo). The few retired types
EC2 no longer describes (ml.p2.*, ml.p3.*) come from the SageMaker SDK's own tables: GPU counts
from ``image_uri_config/instance_gpu_info.json``, vCPUs from ``serve/utils/local_hardware.py``
(read as data: the SDK is not imported, which would take seconds).
"""
from __future__ import annotations

import ast
import functools
import gzip
import importlib.util
import json
import os
from pathlib import Path
from typing import NamedTuple

from . import shapes


class InstanceType(NamedTuple):
    vcpus: int
    gpus: int
    memory_gib: float | None  # None where no source gives it
    source: str  # where the numbers come from, for the job log


@functools.lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    """Every training instance type AWS's API accepts, in the model's order."""
    return tuple(shapes.model().shape_for("TrainingInstanceType").enum)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)  # finds the package without running its __init__
    locations = spec.submodule_search_locations if spec else None
    return Path(list(locations)[0]) if locations else None


@functools.lru_cache(maxsize=1)
def _ec2() -> dict:
    moto = _package_dir("moto")
    path = moto / "ec2" / "resources" / "instance_types.json.gz" if moto else None
    if path is None or not path.exists():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=1)
def _sdk_gpus() -> dict[str, int]:
    sdk = _package_dir("sagemaker")
    path = sdk / "image_uri_config" / "instance_gpu_info.json" if sdk else None
    if path is None or not path.exists():
        return {}
    gpus: dict[str, int] = {}
    for region in json.loads(path.read_text()).values():
        gpus.update({name: info["Count"] for name, info in region.items()})
    return gpus


@functools.lru_cache(maxsize=1)
def _sdk_vcpus() -> dict[str, int]:
    """``hardware_lookup`` of the SDK's local_hardware.py: {GPU model: {vCPUs: type}}."""
    sdk = _package_dir("sagemaker")
    path = sdk / "serve" / "utils" / "local_hardware.py" if sdk else None
    if path is None or not path.exists():
        return {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "hardware_lookup"
                                                 for t in node.targets):
            vcpus = {}
            for by_vcpus in ast.literal_eval(node.value).values():
                for count, name in by_vcpus.items():
                    if isinstance(name, str):
                        vcpus[name] = count
            return vcpus
    return {}


@functools.lru_cache(maxsize=None)
def lookup(name: str) -> InstanceType:
    """The hardware of a training instance type (one ``names()`` holds)."""
    ec2 = _ec2().get(name.removeprefix("ml."))
    if ec2:
        gpus = sum(g.get("Count", 0) for g in (ec2.get("GpuInfo") or {}).get("Gpus", []))
        return InstanceType(ec2["VCpuInfo"]["DefaultVCpus"], gpus,
                            ec2["MemoryInfo"]["SizeInMiB"] / 1024, "moto's EC2 table")
    vcpus, gpus = _sdk_vcpus().get(name), _sdk_gpus().get(name)
    if vcpus is not None:
        return InstanceType(vcpus, gpus or 0, None, "the SageMaker SDK's tables")
    return InstanceType(os.cpu_count() or 1, gpus or 0, None,
                        "no published table; SM_NUM_CPUS is this machine's")
