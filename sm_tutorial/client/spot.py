"""``interrupt_spot(job_name)``: AWS reclaims spot capacity when it needs it; the simulation
does it when you ask, so a learner can watch a managed spot job survive an interruption."""
from __future__ import annotations

import json
import os

from .. import settings
from ..platform.host import SPOT_INTERRUPTION  # what the job's supervisor watches for


def interrupt_spot(job_name: str, session=None, capacity_after: float = 1.0) -> None:
    """Interrupt a running managed spot training job: SIGTERM to its script, checkpoints saved
    to S3, SecondaryStatus ``Interrupted``; after ``capacity_after`` seconds (if the job's
    MaxWaitTimeInSeconds allows) it starts again with its checkpoints restored."""
    from .sdk import current_mode, session as make_session
    if current_mode() == "aws":
        raise ValueError("interrupt_spot simulates what AWS does by itself: on a real account "
                         "spot interruptions come when AWS needs the capacity back.")
    client = (session or make_session()).sagemaker_client
    described = client.describe_training_job(TrainingJobName=job_name)
    if not described.get("EnableManagedSpotTraining"):
        raise ValueError(f"{job_name} is not a managed spot job, so it cannot be interrupted. "
                         "Train with use_spot_instances=True, max_wait=... and a "
                         "checkpoint_s3_uri to see a spot interruption.")
    status = (described["TrainingJobStatus"], described.get("SecondaryStatus"))
    if status != ("InProgress", "Training"):
        raise ValueError(f"{job_name} is {status[0]} ({status[1]}), not training: only a running "
                         "spot job can be interrupted. Start it with fit(wait=False) and "
                         "interrupt it once its SecondaryStatus is Training.")
    if described["ResourceConfig"].get("InstanceCount", 1) > 1:
        raise ValueError("this simulation interrupts one-instance spot jobs only.")
    folder = settings.workspace() / "jobs" / job_name
    tmp = folder / (SPOT_INTERRUPTION + ".tmp")
    tmp.write_text(json.dumps({"capacity_after": float(capacity_after)}))
    os.replace(tmp, folder / SPOT_INTERRUPTION)  # whole, or not at all
