"""Managed spot training: a simulated interruption, and the wait for capacity to come back.

``sm_tutorial.interrupt_spot(job)`` writes ``spot-interruption.json`` in the job's folder;
the host's supervisor (``host.py``) sees it, sends the script SIGTERM and saves the
checkpoints to S3. ``resume`` then does what AWS does: SecondaryStatus ``Interrupted``, a wait
for capacity, and ``Starting`` again on a fresh container whose /opt/ml/checkpoints is
restored from ``CheckpointConfig.S3Uri`` (Downloading). When the wait would go past
``MaxWaitTimeInSeconds`` (counted from the job's creation) the job ends
``MaxWaitTimeExceeded``.
"""
from __future__ import annotations

import json
import shutil
import time
from typing import Any, Mapping

from .host import SPOT_INTERRUPTION


def resume(runner, request: Mapping[str, Any]) -> bool:
    """After an interruption: True when the job starts again, False when MaxWait ran out."""
    job = runner.job
    flag = job.folder / SPOT_INTERRUPTION
    try:
        capacity_after = float(json.loads(flag.read_text()).get("capacity_after", 1.0))
    except (OSError, ValueError, AttributeError):
        capacity_after = 1.0
    flag.unlink(missing_ok=True)
    job.transition("Interrupted")
    created = job.describe()["CreationTime"]
    max_wait = (request.get("StoppingCondition") or {}).get("MaxWaitTimeInSeconds", 0)
    give_up = created + max_wait
    back = time.time() + capacity_after
    runner._say(f"Interrupted: waiting {capacity_after:g} s for spot capacity (MaxWaitTimeInSeconds "
                f"{max_wait} s from the job's creation).")
    while time.time() < min(back, give_up):
        if job.stop_requested.is_set():
            return False
        time.sleep(0.05)
    if back > give_up:
        runner._say("MaxWaitTimeInSeconds exceeded while waiting for spot capacity: the job stops. "
                    "Raise max_wait, or checkpoint more often so a restart has less to redo.")
        return False
    job.transition("Starting")
    runner._say("Spot capacity is back: a new instance starts, and /opt/ml/checkpoints is "
                "restored from the checkpoint S3 URI.")
    for host in runner.hosts:  # a fresh instance: nothing of the old container is left
        shutil.rmtree(host.root.path, ignore_errors=True)
        host.root.create()
    return True
