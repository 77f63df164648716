"""The SageMaker Runtime API's InvokeEndpoint: ``POST /endpoints/<name>/invocations``
(REST-JSON; what ``predictor.predict()``, boto3's ``sagemaker-runtime`` client and
``aws sagemaker-runtime invoke-endpoint`` send), passed to the endpoint's serving container.

The body goes through unchanged with its Content-Type, Accept and custom attributes; the
container's reply comes back with its Content-Type and ``x-Amzn-Invoked-Production-Variant``.
A container that answers anything but 200 gives ``ModelError`` (HTTP 424) carrying its status
and message, as AWS words it; an unknown endpoint gives ``ValidationError``.
"""
from __future__ import annotations

import json
import re
import socket
import uuid

from ..settings import ACCOUNT_ID

PATH = re.compile(r"/endpoints/([^/]+)/invocations")
FORWARDED = ("Content-Type", "Accept", "X-Amzn-SageMaker-Custom-Attributes",
             "X-Amzn-SageMaker-Inference-Id")
INVOCATION_TIMEOUT = 60.0  # AWS: a container must answer within 60 s
MAX_BODY = 6 * 1024 * 1024  # AWS: 6 MB per request


def is_invocation(environ) -> str | None:
    """The endpoint name when this request is InvokeEndpoint (signed for SageMaker, not an S3
    object that happens to be called endpoints/x/invocations), else None."""
    match = PATH.fullmatch(environ.get("PATH_INFO", ""))
    if not match or environ.get("REQUEST_METHOD") != "POST":
        return None
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth and "/sagemaker/aws4_request" not in auth:
        return None
    return match.group(1)


def _error(status: int, code: str, message: str, **extra) -> tuple[int, list, bytes]:
    body = json.dumps({"message": message, **extra}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                    ("x-amzn-RequestId", str(uuid.uuid4()))], body


def _log_group(region: str, name: str) -> str:
    return f"/aws/sagemaker/Endpoints/{name}"


def invoke(hosting, name: str, environ) -> tuple[int, list, bytes]:
    """(status, headers, body) of one InvokeEndpoint."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    endpoint = hosting.endpoint(name)
    if endpoint is None:
        return _error(400, "ValidationError", f"Endpoint {name} of account {ACCOUNT_ID} not found.")
    container = endpoint.container
    if container is not None and not container.running:  # it ended after its start
        return _model_error(hosting.region, name, container.variant, 0,
                            f"The serving container exited (code {container.proc.poll()}); its "
                            "last lines are in the endpoint's CloudWatch log. Delete the endpoint "
                            "and deploy again.")
    if container is None:
        return _error(400, "ValidationError",
                      f"Endpoint {name} of account {ACCOUNT_ID} is {endpoint.status}, not "
                      "InService: it cannot take invocations. Wait for deploy() to finish, or "
                      "read its FailureReason with describe_endpoint().")
    if len(body) > MAX_BODY:
        return _error(413, "ValidationError", "Request payload exceeds the 6 MB limit of "
                      "InvokeEndpoint; send fewer records per request.")
    headers = {}
    for header in FORWARDED:  # WSGI: CONTENT_TYPE, HTTP_ACCEPT, HTTP_X_AMZN_...
        key = header.upper().replace("-", "_")
        value = environ.get(key if key == "CONTENT_TYPE" else "HTTP_" + key)
        if value:
            headers[header] = value
    region = hosting.region
    try:
        status, reply_headers, reply = container.request("POST", "/invocations", body, headers,
                                                         INVOCATION_TIMEOUT)
    except socket.timeout:
        return _model_error(region, name, container.variant, 0,
                            "Your invocation timed out while waiting for a response from "
                            "container primary. Review the latency metrics for each container "
                            "in Amazon CloudWatch, resolve the issue, and try again.")
    except OSError as error:
        return _model_error(region, name, container.variant, 0,
                            f"The container did not answer: {error}")
    if status != 200:
        return _model_error(region, name, container.variant, status,
                            reply.decode("utf-8", errors="replace"))
    out = [("Content-Type", reply_headers.get("content-type", "application/json")),
           ("x-Amzn-Invoked-Production-Variant", container.variant),
           ("x-amzn-RequestId", str(uuid.uuid4()))]
    if "x-amzn-sagemaker-custom-attributes" in reply_headers:
        out.append(("X-Amzn-SageMaker-Custom-Attributes",
                    reply_headers["x-amzn-sagemaker-custom-attributes"]))
    return 200, out, reply


def _model_error(region: str, name: str, variant: str, status: int, message: str):
    kind = "client" if 400 <= status < 500 else "server"
    group = _log_group(region, name)
    return _error(
        424, "ModelError",
        f'Received {kind} error ({status}) from primary with message "{message}". See '
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:"
        f"group={group} in account {ACCOUNT_ID} for more information.",
        OriginalStatusCode=status, OriginalMessage=message, ErrorCode=
        "CLIENT_ERROR_FROM_MODEL" if kind == "client" else "SERVER_ERROR_FROM_MODEL",
        LogStreamArn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}")
