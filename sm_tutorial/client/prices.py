"""A small table of SageMaker training prices, for the cost line printed before an AWS job.

On-demand list prices per instance-hour for training in us-east-1, approximate, as published
on the SageMaker pricing page; other regions differ by up to ~30%. Update PRICES_AS_OF when
you refresh them. An estimate, not a bill: storage, data transfer and taxes are extra.
"""
from __future__ import annotations

PRICES_AS_OF = "2026-11"
REGION = "us-east-1"
USD_PER_HOUR = {
    "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
    "ml.m4.xlarge": 0.24, "ml.m6i.large": 0.115, "ml.m6i.xlarge": 0.23,
    "ml.c4.xlarge": 0.239, "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.c5.4xlarge": 0.816,
    "ml.c6i.xlarge": 0.204, "ml.r5.large": 0.151,
    "ml.p3.2xlarge": 3.825, "ml.g4dn.xlarge": 0.736, "ml.g5.xlarge": 1.408, "ml.trn1.2xlarge": 1.343,
}


def estimate(instance_type: str, instance_count: int, max_runtime_seconds: int) -> str:
    """The most the job can cost if it runs until max_run, as one line."""
    rate = USD_PER_HOUR.get(instance_type)
    if rate is None:
        return f"{instance_type}: no price in the course's table; look it up before launching"
    worst = rate * instance_count * max_runtime_seconds / 3600
    return (f"{instance_count} x {instance_type} at about ${rate:.3f}/hour ({REGION}, {PRICES_AS_OF}): "
            f"at most ${worst:.2f} if it runs the full {max_runtime_seconds} s")
