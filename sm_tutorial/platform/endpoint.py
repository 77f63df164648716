"""The local AWS endpoint: one HTTP server on 127.0.0.1 that answers the training-job
actions (and their tags) itself and hands every other request (S3, CloudWatch Logs, IAM, STS, the rest of
SageMaker) to moto's server application. Any AWS client reaches it with ``--endpoint-url``
or ``AWS_ENDPOINT_URL``."""
from __future__ import annotations

import io
import json
import threading
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                           create_backend_app)
from werkzeug.serving import make_server

from .. import settings
from . import api, images, runtime, shapes
from .hosting import HostingService
from .service import TrainingService

LOOPBACK = "127.0.0.1"
HEALTH_PATH = "/sm-tutorial/health"
HTTP_REASONS = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would drown the notebook
        pass


class Endpoint:
    """``Endpoint(workspace).start()`` serves until ``stop()``; ``url`` is its address."""

    def __init__(self, workspace: Path | None = None, port: int = 0,
                 region: str = settings.REGION):
        self.workspace = workspace or settings.workspace()
        self.region = region
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(LOOPBACK, port, self._app, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_address[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._thread: threading.Thread | None = None
        self.service: TrainingService | None = None
        self.id, self.started = uuid.uuid4().hex, time.time()

    def client(self, service: str, attempts: int = 2):
        """A boto3 client for this endpoint, with the simulated account's credentials."""
        return boto3.client(service, endpoint_url=self.url, region_name=self.region,
                            config=Config(retries={"max_attempts": attempts}),
                            **{k.lower(): v for k, v in settings.FAKE_CREDENTIALS.items()})

    def _app(self, environ, start_response):
        if environ.get("PATH_INFO") == HEALTH_PATH:  # who am I: lets clients notice a restart
            payload = json.dumps({"id": self.id, "started": self.started}).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(payload)))])
            return [payload]
        invoked = runtime.is_invocation(environ) if self.service is not None else None
        if invoked:  # sagemaker-runtime's InvokeEndpoint, to the endpoint's container
            status, headers, payload = runtime.invoke(self.service.hosting, invoked, environ)
            start_response(f"{status} {HTTP_REASONS.get(status, 'Error')}",
                           headers + [("Content-Length", str(len(payload)))])
            return [payload]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if self.service is not None and target.startswith("SageMaker."):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            if api.handles(target, body):
                status, headers, payload = api.dispatch(self.service, target, body)
                start_response(f"{status} {HTTP_REASONS.get(status, 'Error')}",
                               list(headers.items()) + [("Content-Length", str(len(payload)))])
                return [payload]
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it next
        if images.is_ecr_request(target):  # moto's ECR shows the images registered on disk
            images.sync_ecr(self.workspace, self.region)
        return self._moto(environ, start_response)

    def start(self) -> "Endpoint":
        # The service first: no request may reach moto's own (fake) CreateTrainingJob.
        self.service = TrainingService(self.workspace, self.url, self.region,
                                       dict(settings.FAKE_CREDENTIALS),
                                       self.client("s3"),
                                       self.client("logs", attempts=1))  # LogStream retries
        self.service.cloudwatch = self.client("cloudwatch")  # metric definitions' values
        self.service.hosting = HostingService(self.workspace, self.url, self.region,
                                              dict(settings.FAKE_CREDENTIALS), self.client("s3"),
                                              self.client("logs", attempts=1))
        self.service.on_job_start.append(self.service.hosting.training_started)  # a warm spare
        self._thread = threading.Thread(target=self._server.serve_forever, name="sm-endpoint",
                                        daemon=True)
        self._thread.start()
        self._warm()
        return self

    def _warm(self) -> None:
        """moto loads a service's model on its first request; pay that once, here (and ours:
        the SageMaker model requests are checked against)."""
        shapes.model()
        self.client("s3").list_buckets()
        self.client("logs").describe_log_groups(limit=1)

    def stop(self) -> None:
        if self.service:
            self.service.hosting.stop_all()  # endpoints end with their simulated AWS
            self.service.stop_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def identify(url: str, timeout: float = 10.0) -> dict | None:
    """The identity ({"id", "started"}) of the endpoint at ``url`` once it answers, else None."""
    import urllib.request
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url.rstrip("/") + HEALTH_PATH, timeout=1) as answer:
                return json.loads(answer.read())
        except Exception:
            time.sleep(0.1)
    return None
