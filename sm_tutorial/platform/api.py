"""The wire format: SageMaker's JSON 1.1 protocol for the training-job actions and their tags.

A request is ``POST /`` with ``X-Amz-Target: SageMaker.<Action>`` and a JSON body; a reply is
JSON with timestamps as epoch seconds; an error is ``{"__type": ..., "message": ...}``, which
botocore raises as ``ClientError`` with that code, exactly as it does for AWS.
"""
from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from . import hosting, images, shapes
from .errors import ApiError
from .service import TrainingService
from .tuning_service import ACTIONS as TUNING_ACTIONS, TAGGED as TUNING_TAGGED

ACTIONS = ("CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs", "StopTrainingJob")
TAG_ACTIONS = ("ListTags", "AddTags", "DeleteTags")  # ours for our resources' ARNs


def handles(target: str, body: bytes) -> bool:
    if not target.startswith("SageMaker."):
        return False
    action = target.split(".", 1)[1]
    if action in TAG_ACTIONS:
        return b":training-job/" in body or hosting.tagged(body) or TUNING_TAGGED in body
    return (action in ACTIONS + TUNING_ACTIONS or action in hosting.ACTIONS
            or action not in shapes.operation_names())  # unknown: refused here


def _snake(action: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")


def dispatch(service: TrainingService, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Run one action; returns (HTTP status, headers, body)."""
    action = target.split(".", 1)[1]
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
    try:
        if action not in shapes.operation_names():
            raise ApiError("UnknownOperationException",
                           f"SageMaker has no operation {action!r}. Check the X-Amz-Target "
                           "header: SageMaker.<Operation>, e.g. SageMaker.ListTrainingJobs.")
        try:
            request: Any = json.loads(body or b"{}")
        except ValueError:
            raise ApiError("SerializationException", "The request body is not valid JSON.")
        shapes.check_request(action, request)  # types, patterns, enums, limits: AWS's model
        if action == "CreateTrainingJob":  # an image of our ECR that is not registered
            images.check_request(service.jobs_dir.parent, request)
        ours = action in hosting.ACTIONS or (action in TAG_ACTIONS and hosting.tagged(body))
        tuning = action in TUNING_ACTIONS or (action in TAG_ACTIONS and TUNING_TAGGED in body)
        owner = service.hosting if ours else \
            service.tuning if tuning else service  # endpoint.py sets service.hosting
        result = getattr(owner, _snake(action))(request)
        return 200, headers, json.dumps(result).encode()
    except ApiError as error:
        return error.status, headers, json.dumps({"__type": error.code,
                                                  "message": error.message}).encode()
    except Exception as error:  # a bug of ours: say so, as AWS says InternalFailure
        logging.getLogger(__name__).exception("%s failed", action)
        return 500, headers, json.dumps({"__type": "InternalFailure",
                                         "message": f"The simulated service failed: {error!r}"}).encode()
