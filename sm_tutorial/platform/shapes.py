"""Requests checked against SageMaker's own service model (botocore's), as AWS checks them:
types, required members, patterns (whole-value matches), enums, min/max lengths and values.

A value of the wrong type is a ``SerializationException``; a value of the right type that
breaks a constraint is a ``ValidationException`` in AWS's wording ("1 validation error
detected: Value 'x' at 'trainingJobName' failed to satisfy constraint: ..."), followed by a
sentence on what to change (``HINTS``). Nothing here is retyped from AWS's documentation: the
limits, patterns and enums are read from the model botocore ships.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any

import botocore.session

from .errors import ApiError, field_error

# Java character classes in the model's patterns, in Python's ``re`` (inside [...]).
_JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Alnum}": "a-zA-Z0-9",
                 r"\p{Z}": " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"}
_TYPES = {"string": (str,), "list": (list,), "structure": (dict,), "map": (dict,),
          "boolean": (bool,), "integer": (int,), "long": (int,), "float": (int, float),
          "double": (int, float), "timestamp": (int, float), "blob": (str,)}
_TYPE_WORDS = {"string": "a string", "list": "a list", "structure": "an object", "map": "an object",
               "boolean": "true or false", "integer": "a whole number", "long": "a whole number",
               "float": "a number", "double": "a number", "blob": "base64 text",
               "timestamp": "a number of seconds since 1970 (botocore sends datetimes that way)"}

# What to change, by field (list positions written as '*'); formatted with the constraint's
# min and max. Fields without an entry get AWS's sentence alone.
HINTS = {
    "trainingJobName": "Use 1-63 letters, digits and hyphens, starting with a letter or digit "
                       "(base_job_name='digits' lets the SDK add a unique timestamp).",
    "roleArn": "Pass role=sm_tutorial.role() (an IAM role ARN).",
    "resourceConfig.instanceType": "Pick a training instance type such as ml.m5.xlarge.",
    "resourceConfig.instanceCount": "Set instance_count=1.",
    "inputDataConfig": "A job reads at most {max} channels; merge data under fewer prefixes.",
    "inputDataConfig.*.member.channelName": "Use 1-64 letters, digits, '.', '-' or '_' "
                                            "(e.g. 'train').",
    "inputDataConfig.*.member.inputMode": "Use input_mode='File', 'FastFile' or 'Pipe'.",
    "hyperParameters": "The maximum is {max} hyperparameters; pass large configurations as a "
                       "file in source_dir or a data channel instead.",
    "hyperParameters.key": "The maximum is {max} characters; use a shorter name.",
    "hyperParameters.value": "The maximum is {max} characters on one line; put large values in "
                             "a file in source_dir or a data channel and pass its name instead.",
    "tags": "A resource has at most {max} tags; remove some.",
    "tags.*.member.key": "Tag keys are 1-128 letters, digits, spaces and _.:/=+-@.",
    "tags.*.member.value": "Tag values are up to 256 letters, digits, spaces and _.:/=+-@.",
    "stoppingCondition.maxRuntimeInSeconds": "Set max_run to a number of seconds, at least 1.",
    "maxResults": "Ask for {min} to {max} results per page and follow NextToken for more.",
    "nameContains": "Use letters, digits and hyphens, as in job names.",
}


@functools.lru_cache(maxsize=1)
def model():
    return botocore.session.get_session().get_service_model("sagemaker")


@functools.lru_cache(maxsize=1)
def operation_names() -> frozenset[str]:
    return frozenset(model().operation_names)


def check_request(action: str, request: Any) -> None:
    """Raise ApiError for the first thing AWS would refuse in this action's request."""
    if not isinstance(request, dict):
        raise ApiError("SerializationException",
                       f"The {action} request body must be a JSON object ({{...}}), not "
                       f"{type(request).__name__}. Send the parameters as a JSON object.")
    _check(model().operation_model(action).input_shape, request, "")


@functools.lru_cache(maxsize=None)
def _pattern(java: str) -> re.Pattern:
    for java_class, python in _JAVA_CLASSES.items():
        java = java.replace(java_class, python)
    return re.compile(java)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _hint(path: str, where: str, shape) -> str:
    key = re.sub(r"\.\d+\.member", ".*.member", path) + where
    return HINTS.get(key, "").format(min=shape.metadata.get("min"), max=shape.metadata.get("max"))


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.encode("unicode_escape").decode("ascii")  # a newline or NUL shows as \n, \x00
    return text if len(text) <= 80 else text[:77] + "..."


def _refuse(value, path: str, constraint: str, shape, where: str = "", prefix: str = "") -> ApiError:
    constraint = f"{prefix}[{constraint}]" if prefix else constraint
    return field_error(_shown(value), path, constraint, _hint(path, where, shape))


def _check(shape, value: Any, path: str, where: str = "", prefix: str = "") -> None:
    kind = shape.type_name
    if not isinstance(value, _TYPES[kind]) or (kind != "boolean" and isinstance(value, bool)):
        raise ApiError("SerializationException",
                       f"Value {_shown(value)!r} at '{path or 'body'}' is "
                       f"{type(value).__name__}; it must be {_TYPE_WORDS[kind]}. Send "
                       f"{_TYPE_WORDS[kind]} there.")
    meta = shape.metadata
    if kind == "structure":
        for name in shape.required_members:
            if value.get(name) is None:
                raise _refuse("null", _join(path, _camel(name)), "Member must not be null", shape)
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], _join(path, _camel(name)))
        return
    if kind == "string" and shape.enum and value not in shape.enum:
        raise _refuse(value, path, "Member must satisfy enum value set: [" +
                      ", ".join(shape.enum) + "]", shape, where, prefix)
    size = value if kind in ("integer", "long", "float", "double") else \
        len(value) if kind in ("string", "list", "map") else None
    what = "value" if kind in ("integer", "long", "float", "double") else "length"
    if size is not None and "min" in meta and size < meta["min"]:
        raise _refuse(value, path, f"Member must have {what} greater than or equal to "
                      f"{meta['min']}", shape, where, prefix)
    if size is not None and "max" in meta and size > meta["max"]:
        raise _refuse(value, path, f"Member must have {what} less than or equal to "
                      f"{meta['max']}", shape, where, prefix)
    if kind == "string" and "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
        raise _refuse(value, path, f"Member must satisfy regular expression pattern: "
                      f"{meta['pattern']}", shape, where, prefix)
    if kind == "list":
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}.{i + 1}.member")
    elif kind == "map":
        for key, item in value.items():
            _check(shape.key, key, path, ".key", "Map keys must satisfy constraint: ")
            _check(shape.value, item, path, ".value", "Map value must satisfy constraint: ")
