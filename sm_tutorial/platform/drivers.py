"""Jobs made by the SDK's ``ModelTrainer`` (``sagemaker.modules.train``; ``sagemaker.train`` in
SDK v3), which bring their own driver instead of relying on the image's toolkit.

Such a job's container runs ``/bin/bash -c "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh
&& /opt/ml/input/data/sm_drivers/sm_train.sh"``. The driver arrives as the ``sm_drivers``
channel (``sm_train.sh``, ``sourcecode.json``, ``distributed.json`` and Python helpers), the
learner's files as the ``code`` channel. ``sm_train.sh`` finds ``python3`` and ``pip`` on PATH,
writes the ``SM_*`` variables to ``/opt/ml/input/sm_training.env`` (from the three config files)
and sources it, ``cd``s to ``/opt/ml/input/data/code`` and runs the entry script with
``--key value`` arguments. Every one of those paths is a literal ``/opt/ml`` path, so it runs
only where the job has its own /opt/ml (``container/mounts.py``).

This module says, before the container starts, why such a job cannot run, in AWS's terms and
with the fix; the entrypoint kind of ``commands`` runs it otherwise, unchanged, but for where
its pip installs (``environment``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

DRIVERS = "sm_drivers"
CODE = "code"
DRIVERS_PATH = "/opt/ml/input/data/sm_drivers/"
DRIVER = DRIVERS_PATH + "sm_train.sh"


def is_model_trainer(request: Mapping[str, Any]) -> bool:
    """A container command that runs ModelTrainer's driver (from its sm_drivers channel)."""
    algorithm = request.get("AlgorithmSpecification") or {}
    words = list(algorithm.get("ContainerEntrypoint") or []) + \
        list(algorithm.get("ContainerArguments") or [])
    return any(DRIVERS_PATH in str(word) for word in words)


def problem(request: Mapping[str, Any], data: Path, no_own_opt_ml: str | None) -> str | None:
    """The FailureReason of a ModelTrainer job that cannot run here, or None. ``data`` is the
    job's input/data folder (channels downloaded); ``no_own_opt_ml`` is None when the job gets
    its own /opt/ml, else why not (``mounts.unavailable()``)."""
    if not is_model_trainer(request):
        return None
    names = [c["ChannelName"] for c in request.get("InputDataConfig") or []]
    if DRIVERS not in names:
        return (f"AlgorithmError: the container's command runs ModelTrainer's driver {DRIVER}, but "
                f"the job has no {DRIVERS} channel (its channels: {', '.join(names) or 'none'}), so "
                f"the file does not exist and the command fails (chmod: cannot access '{DRIVER}': "
                "No such file or directory). ModelTrainer uploads its driver as that channel when "
                "it is given source_code: create the job with ModelTrainer(..., source_code="
                "SourceCode(source_dir=..., entry_script=...)).train(), or pass a channel named "
                f"{DRIVERS} holding sm_train.sh and the files it uses.")
    source = _source_code(data / DRIVERS / "sourcecode.json")
    if source.get("source_dir") and CODE not in names:
        return (f"AlgorithmError: ModelTrainer's driver changes to /opt/ml/input/data/{CODE}, but "
                f"the job has no {CODE} channel (its channels: {', '.join(names)}), so it fails "
                f"(cd: /opt/ml/input/data/{CODE}: No such file or directory). Let ModelTrainer "
                f"create the job: it uploads source_dir as the {CODE} channel.")
    if no_own_opt_ml:
        return ("AlgorithmError: this job runs ModelTrainer's driver (sm_train.sh), which reads "
                "and writes literal /opt/ml paths (/opt/ml/input/data/sm_drivers, "
                "/opt/ml/input/data/code, /opt/ml/model, /opt/ml/output/failure). It needs the "
                "simulation's namespace mode, in which each job has its own /opt/ml, and that "
                f"mode is off on this machine: {no_own_opt_ml}. Run `sm-tutorial doctor` to see "
                "why and how to switch it on. Until then, train the same script with an "
                "Estimator (entry_point=..., source_dir=...), which runs without it.")
    return None


def environment(packages: Path, env: Mapping[str, str]) -> dict[str, str]:
    """What the driver's process gets on top of the entrypoint kind's environment: its
    ``pip install -r`` (``SourceCode(requirements=...)``) goes into the job's own ``packages``
    folder, on PYTHONPATH, as the script mode's requirements do: never into the course's
    environment, which is the image's Python here."""
    path = [p for p in (env.get("PYTHONPATH"), str(packages)) if p]
    return {"PIP_TARGET": str(packages), "PYTHONPATH": os.pathsep.join(path)}


def _source_code(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
