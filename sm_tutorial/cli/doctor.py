"""`sm-tutorial doctor`: is this machine ready for the course? Each problem comes with its fix."""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from .. import python_support, settings
from ..container import mounts

INSTALL = "run `make setup` (or `pip install -c constraints.txt -e .`) in the repository"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{'ok ' if self.ok else 'FIX'}  {self.name}: {self.detail}"
        return text + (f"\n     -> {self.fix}" if not self.ok and self.fix else "")


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _major_minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:3] if p.isdigit())


def check_all(version_of: Callable[[str], str | None] = installed_version,
              python: tuple[int, int] = sys.version_info[:2],
              free_bytes: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free,
              environ: dict | None = None,
              namespaces: Callable[[], str | None] = mounts.unavailable,
              multi_instance: Callable[[], str | None] | None = None) -> list[Check]:
    env = os.environ if environ is None else environ
    why = python_support.why_not(python)
    found = [] if why is None else [command for command, _ in python_support.others(python)[0]]
    checks = [Check("Python", why is None, why or f"{python[0]}.{python[1]}", python_support.fix(found))]

    tf = version_of("tensorflow-cpu") or version_of("tensorflow")
    checks.append(Check("TensorFlow", tf is not None, tf or "not installed",
                        "pip install -c constraints.txt tensorflow-cpu  (on macOS/ARM: tensorflow); "
                        f"or {INSTALL}"))

    sm = version_of("sagemaker")
    if sm is None:
        checks.append(Check("SageMaker Python SDK", False, "not installed",
                            f"pip install 'sagemaker>=2.257,<3'; or {INSTALL}"))
    else:
        v2 = (2, 257) <= _major_minor(sm)[:2] and _major_minor(sm)[0] == 2
        checks.append(Check("SageMaker Python SDK", v2, f"{sm} (the course needs v2 >= 2.257)",
                            "pip install 'sagemaker>=2.257,<3'  (v3 removed the Estimator the "
                            "course teaches; v2 and v3 cannot be installed side by side)"))

    moto = version_of("moto")
    flask = version_of("flask")
    checks.append(Check("moto (local AWS stand-in)", bool(moto and moto.startswith("5.") and flask),
                        f"{moto or 'not installed'}{'' if flask else ', server extras missing'}",
                        "pip install 'moto[s3,sagemaker,logs,sts,iam,server]>=5.2,<6'"))

    for dist, why in (("jupyterlab", "to open the course"), ("ipywidgets", "for the lessons' widgets"),
                      ("nbval", "to test the notebooks")):
        version = version_of(dist)
        checks.append(Check(dist, version is not None, version or f"not installed ({why})",
                            f"pip install {dist}; or {INSTALL}"))

    try:
        data = settings.data_dir()
        checks.append(Check("course data", True, f"{data.name}/manifest.json found"))
    except FileNotFoundError as error:
        checks.append(Check("course data", False, "missing", str(error)))

    workspace = settings.workspace()
    free = free_bytes(workspace)
    checks.append(Check("free disk", free >= 2 * 1024**3, f"{free / 1024**3:.1f} GiB free for the workspace",
                        f"free at least 2 GiB, or set {settings.WORKSPACE_ENV} to a folder on a "
                        "disk with room"))

    problem = namespaces()  # not a FIX: the course runs either way, with the relocated root
    checks.append(Check("container", True, "each job gets its own /opt/ml (Linux user and mount "
                        "namespaces), as on AWS" if problem is None else
                        "/opt/ml relocated to the workspace (SAGEMAKER_BASE_DIR; scripts must use "
                        f"the SM_* variables, literal /opt/ml paths are refused) because {problem}"))

    from ..platform import cluster  # not a FIX: one-instance jobs run either way
    why_single = problem or (multi_instance or cluster.unavailable)()
    checks.append(Check("multi-instance", True, f"instance_count 2 to {cluster.max_hosts()}: each "
                        "host (algo-N) its own container on the job's own network"
                        if why_single is None else
                        f"instance_count=1 only (more is refused) because {why_single}"))

    from ..platform import frameworks  # not a FIX either: only TensorFlow < 2.16 jobs need it
    keras2 = frameworks._tf_keras_version() if frameworks.tf_keras_installed() else None
    checks.append(Check("Keras 2", True, f"tf-keras {keras2} for jobs asking for TensorFlow < 2.16"
                        if keras2 else "not installed: jobs asking for TensorFlow < 2.16 run with "
                        "Keras 3 (to add it: " + frameworks.KERAS2_INSTALL.format(
                            folder=frameworks.keras2_folder()) + ")"))

    real = env.get("AWS_ACCESS_KEY_ID") not in (None, "", "testing") or env.get("AWS_PROFILE") \
        or (Path.home() / ".aws" / "credentials").exists()
    try:
        mode = settings.mode()
        checks.append(Check("mode", True, f"{mode} ({settings.MODE_ENV}); real AWS credentials "
                            f"{'found' if real else 'not found'}"
                            + (" - simulated mode never uses them" if real and mode == "local" else "")))
    except ValueError as error:
        checks.append(Check("mode", False, str(error), f"unset {settings.MODE_ENV} or set it to local"))
    return checks


def report(checks: list[Check]) -> tuple[str, int]:
    lines = [c.line() for c in checks]
    bad = sum(not c.ok for c in checks)
    lines.append("All good: start the course with `make lab`." if not bad
                 else f"{bad} thing(s) to fix; see the lines marked FIX.")
    return "\n".join(lines), 1 if bad else 0
