"""Start the user's script the way the toolkit does: requirements.txt first, then
``python <entry point> ARGS`` with ``code/`` as the working directory and a clean environment.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Mapping

from .layout import ContainerRoot

GUARD = Path(__file__).with_name("guard.py")
LAUNCHER = Path(__file__).with_name("launcher.py")
# Passed through from the host so Python, pip and TensorFlow behave; nothing else leaks in.
HOST_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "OPENBLAS_CORETYPE",
                  "OPENBLAS_L2_SIZE", "SSL_CERT_FILE", "PIP_CONFIG_FILE", "PIP_INDEX_URL",
                  "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT")
# pip's variables that hold URLs (space-separated lists): passed without their user:password@
# part, which any script could print. An index that needs credentials needs them in the job.
URL_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT")


def without_credentials(value: str) -> str:
    """``https://user:token@host/simple`` -> ``https://host/simple``, for each URL in a list."""
    def strip(item: str) -> str:
        parts = urllib.parse.urlsplit(item)
        if "@" not in parts.netloc:
            return item
        return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return " ".join(strip(item) for item in value.split())


def bootstrap(root: ContainerRoot) -> Path:
    """A folder on the script's PYTHONPATH holding the /opt/ml guard as sitecustomize."""
    folder = root.path.parent / "bootstrap"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(GUARD, folder / "sitecustomize.py")
    return folder


def base_environment(root: ContainerRoot, extra: Mapping[str, str],
                     relocated: bool = True) -> dict[str, str]:
    """The process environment: host basics, then the contract's and the platform's variables
    (and ``SAGEMAKER_BASE_DIR`` where /opt/ml is ``relocated`` to ``root``)."""
    env = {k: os.environ[k] for k in HOST_VARIABLES if k in os.environ}
    env.update({k: without_credentials(env[k]) for k in URL_VARIABLES if k in env})
    env["HOME"] = str(root.path.parent / "home")
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if relocated:
        env["SAGEMAKER_BASE_DIR"] = str(root.path)
    env.update(extra)
    return env


def unpassable(argv: list[str], env: Mapping[str, str]) -> str | None:
    """Why no process could be started with this command line and environment (a hyperparameter
    key with '=' becomes an SM_HP_ variable name no environment can hold; a NUL fits nowhere),
    or None. The toolkit on AWS fails the same way, in the container."""
    for name, value in env.items():
        if not name or "=" in name or "\0" in name:
            shown = name.replace("\0", "\\x00")
            return (f"the environment variable name {shown!r} (from a hyperparameter key or the "
                    "job's Environment) contains '=' or NUL, which no environment can hold. "
                    "Rename the key with letters, digits, '_' or '-'.")
        if "\0" in value:
            return (f"the value of {name} contains a NUL character (\\x00), which no process "
                    "environment or command line can carry. Remove it from the hyperparameter or "
                    "Environment value.")
    for arg in argv:
        if "\0" in arg:
            return (f"the command-line argument {arg.replace(chr(0), chr(92) + 'x00')[:60]!r} contains a "
                    "NUL character, which no command line can carry. Remove it from the "
                    "hyperparameter.")
    return None


def install_requirements(root: ContainerRoot, env: Mapping[str, str]) -> Path | None:
    """``pip install -r code/requirements.txt`` into the job's own folder (never the host's
    environment). Returns that folder, or None without a requirements.txt; raises
    CalledProcessError (with pip's output) on failure."""
    requirements = root.code / "requirements.txt"
    if not requirements.exists():
        return None
    return pip_install(requirements, root.path.parent / "packages", env)


def pip_install(requirements: Path, target: Path, env: Mapping[str, str],
                find_links: Path | None = None) -> Path:
    """``pip install -r requirements --target target`` (with ``find_links``: offline, from the
    wheels in that folder only). Returns ``target``; raises CalledProcessError with pip's output."""
    offline = ["--no-index", "--find-links", str(find_links)] if find_links else []
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         *offline, "--target", str(target), "-r", requirements.name],
        cwd=requirements.parent, env=dict(env), capture_output=True, text=True)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)
    return target


def command(entry_point: str, args: list[str]) -> list[str]:
    return [sys.executable, entry_point, *args]


def start(root: ContainerRoot, argv: list[str], env: Mapping[str, str],
          stop_grace_seconds: float, own_opt_ml: bool = False) -> subprocess.Popen:
    """Run the script under the launcher (which ends everything the script starts, with it),
    stdout and stderr merged as CloudWatch shows them. The Popen is the launcher's: SIGTERM
    it to stop the job (the launcher passes it on and SIGKILLs after the grace). With
    ``own_opt_ml`` the launcher first makes ``root`` the job's /opt/ml (``mounts.py``)."""
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER), str(stop_grace_seconds),
                str(root.code)]  # the code folder: platform/orphans.py's check via ps
    launcher += ["--opt-ml", str(root.path), "--"] if own_opt_ml else ["--"]
    return subprocess.Popen(launcher + argv, cwd=root.code, env=dict(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
