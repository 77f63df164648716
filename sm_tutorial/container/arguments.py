"""Hyperparameters as the script receives them, rendered as the AWS toolkit renders them.

On the wire every value is a string (framework estimators JSON-encode them). The toolkit
``json.loads`` each value, drops the ``sagemaker_*`` keys, sorts the rest and renders each with
``str()``; a dict becomes ``k=v,k=v``; a one-letter key gets one dash.
"""
from __future__ import annotations

import json
from typing import Any, Mapping


def decode(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """JSON-decode each value; a value that is not JSON stays the string it was."""
    decoded = {}
    for key, value in hyperparameters.items():
        try:
            decoded[key] = json.loads(value)
        except (TypeError, ValueError):
            decoded[key] = value
    return decoded


def user_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """The decoded hyperparameters without the SDK's own ``sagemaker_*`` keys."""
    return {k: v for k, v in decode(hyperparameters).items() if not k.startswith("sagemaker_")}


def sagemaker_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """The decoded ``sagemaker_*`` keys (program, submit directory, log level, ...)."""
    return {k: v for k, v in decode(hyperparameters).items() if k.startswith("sagemaker_")}


def _render(value: Any) -> str:
    if hasattr(value, "items"):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def to_cmd_args(user_hps: Mapping[str, Any]) -> list[str]:
    """``{"epochs": 3, "lr": 0.1, "k": True}`` -> ``["--epochs", "3", "-k", "True", "--lr", "0.1"]``."""
    args: list[str] = []
    for key in sorted(user_hps):
        name = str(key)
        args += ["-" + name if len(name) == 1 else "--" + name, _render(user_hps[key])]
    return args
