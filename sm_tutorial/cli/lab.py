"""`sm-tutorial lab`: JupyterLab set up for the course.

The notebooks folder is the root, it listens on 127.0.0.1 only, the light theme is the default
and news/update checks are off (settings overrides in this environment, which a learner can
still change).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Light"},
    # No news or update checks: nothing leaves the machine, and no pop-up mid-lesson.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def install_overrides(prefix: Path = Path(sys.prefix)) -> Path:
    """Write JupyterLab's overrides.json for this environment (idempotent, keeps other keys)."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    merged = {**current, **{k: {**current.get(k, {}), **v} for k, v in OVERRIDES.items()}}
    if merged != current:
        path.write_text(json.dumps(merged, indent=2) + "\n")
    return path


def lab_command(notebook_dir: Path, port: int = 8888, open_browser: bool = True,
                expose_app: bool = False) -> list[str]:
    install_overrides()
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={notebook_dir}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}"]
    if not open_browser:
        argv.append("--no-browser")
    if expose_app:
        argv.append("--LabApp.expose_app_in_browser=True")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root; a laptop does not need it
    return argv
