"""Hints added to a FailureReason for the mistakes every learner makes once.

AWS's own text comes first, unchanged; the hint follows on its own line, marked as ours.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..container.layout import channel_mode
from . import frameworks

PREFIX = "\nHint (sm-tutorial): "

EMPTY_CHANNEL = (PREFIX + "upload the data first (sm_tutorial.upload_digits(sess) or "
                 "sess.upload_data(...)) and pass the S3 URI it returns. If you restarted "
                 "`sm-tutorial serve` or the kernel, the local AWS stand-in's buckets were in memory "
                 "and are gone: upload again.")


def _channels(request: Mapping[str, Any]) -> dict[str, str]:
    return {c["ChannelName"]: channel_mode(c, request) for c in request.get("InputDataConfig") or []}


def for_script_error(error_line: str, request: Mapping[str, Any], tail: str = "") -> str:
    """A hint for the script's last error line (and its last lines of output), or ''."""
    channels = _channels(request)
    missing = re.search(r"KeyError: '(SM_CHANNEL_[^']+)'", error_line)
    if missing:
        have = ", ".join(f"SM_CHANNEL_{c.upper()}" for c in channels) or "none (fit() had no inputs)"
        return (PREFIX + f"the script reads {missing.group(1)}, but this job's channels give "
                f"{have}. The keys of the dict passed to fit() name the channels.")
    piped = [c for c, mode in channels.items() if mode == "Pipe" and f"/input/data/{c}" in error_line]
    if piped and "NotFoundError" in error_line:  # FileNotFoundError, or TensorFlow's NotFoundError
        return (PREFIX + f"channel '{piped[0]}' is in Pipe mode: there is no folder of files, only "
                f"the FIFOs {piped[0]}_0, {piped[0]}_1, ... Read them (PipeModeDataset), or use "
                "input_mode='File'.")
    keras = frameworks.keras3_hint(request, tail or error_line)
    if keras:
        return PREFIX + keras
    if "ModuleNotFoundError" in error_line:
        return (PREFIX + "the job's container has its own packages: list what the script imports "
                "in requirements.txt inside source_dir.")
    return ""
