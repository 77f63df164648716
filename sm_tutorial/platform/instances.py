"""Training instance types the simulation accepts, with the vCPU and GPU counts real jobs report
in SM_NUM_CPUS / SM_NUM_GPUS. The job itself runs on this machine, whatever the type says."""
from __future__ import annotations

from typing import NamedTuple


class InstanceType(NamedTuple):
    vcpus: int
    gpus: int
    memory_gib: int


INSTANCE_TYPES: dict[str, InstanceType] = {
    "ml.m4.xlarge": InstanceType(4, 0, 16),
    "ml.m5.large": InstanceType(2, 0, 8),
    "ml.m5.xlarge": InstanceType(4, 0, 16),
    "ml.m5.2xlarge": InstanceType(8, 0, 32),
    "ml.m5.4xlarge": InstanceType(16, 0, 64),
    "ml.m6i.large": InstanceType(2, 0, 8),
    "ml.m6i.xlarge": InstanceType(4, 0, 16),
    "ml.c4.xlarge": InstanceType(4, 0, 7),
    "ml.c5.xlarge": InstanceType(4, 0, 8),
    "ml.c5.2xlarge": InstanceType(8, 0, 16),
    "ml.c5.4xlarge": InstanceType(16, 0, 32),
    "ml.c6i.xlarge": InstanceType(4, 0, 8),
    "ml.r5.large": InstanceType(2, 0, 16),
    "ml.p3.2xlarge": InstanceType(8, 1, 61),
    "ml.g4dn.xlarge": InstanceType(4, 1, 16),
    "ml.g5.xlarge": InstanceType(4, 1, 16),
    "ml.trn1.2xlarge": InstanceType(8, 0, 32),
}
