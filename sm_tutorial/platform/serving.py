"""One serving container: an endpoint's model in its own /opt/ml, answering ``GET /ping`` and
``POST /invocations`` on a loopback port, under the container contract AWS documents.

The container's folder gets ``model/`` (``model.tar.gz`` unpacked) and ``code/`` (the
``sourcedir.tar.gz`` that ``SAGEMAKER_SUBMIT_DIRECTORY`` names, for script-mode frameworks).
``container/serve.py`` runs under the launcher, as a job's script does: in its own user and
mount namespace where /opt/ml is that folder (or relocated, ``SAGEMAKER_BASE_DIR``), and
everything it starts ends with it. The port is a free one of 127.0.0.1, passed as
``SAGEMAKER_BIND_TO_PORT``; the server binds it without address reuse, so a port taken
meanwhile fails the bind, and the start is tried again on another.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from ..container import mounts, process
from ..container.layout import ContainerRoot
from . import artifacts
from .cloudwatch import LogStream
from .storage import Storage

SERVE = Path(process.__file__).with_name("serve.py")
READY = "sm-tutorial: serving on 127.0.0.1:"  # container/serve.py's lines (it cannot import us)
STANDING_BY = "sm-tutorial: standing by"
TENSORFLOW_IMAGES = ("tensorflow-inference", "tensorflow-serving")
PING_FAILED = ("The primary container for production variant {variant} did not pass the ping "
               "health check. Please check CloudWatch logs for this endpoint.")


class StartFailed(Exception):
    """The container did not become healthy; the message is the FailureReason."""


def serving_kind(image: str) -> str:
    """"tensorflow" for TensorFlow Serving images, else the inference toolkit's handlers."""
    return "tensorflow" if any(t in image for t in TENSORFLOW_IMAGES) else "handlers"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServingContainer:
    """``ServingContainer(folder, ...)``, then ``assign(model's container, variant, endpoint)``,
    ``prepare`` and ``start``. ``standby()`` before ``assign`` starts the process at once, with
    Python and the frameworks imported, to be given its model later: the spare that makes a
    deploy take a second rather than TensorFlow's import time."""

    def __init__(self, folder: Path, region: str, endpoint_url: str, credentials: dict[str, str]):
        self.folder, self.region = folder, region
        self.endpoint_url, self.credentials = endpoint_url, credentials
        self.container: dict = {}
        self.variant, self.endpoint_name = "AllTraffic", folder.name
        self.root = ContainerRoot(folder / "opt-ml")
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.tail: list[str] = []
        self._ready = threading.Event()
        self.standing_by = threading.Event()  # a standby process with its imports done
        self.grace = 5.0
        self.own_opt_ml = mounts.unavailable() is None
        self.waiting = False  # a standby process, not yet given its model
        self.stream: LogStream | None = None
        self.packages: Path | None = None  # code/requirements.txt installed here

    def assign(self, container: dict, variant: str, endpoint_name: str,
               logs_client=None) -> "ServingContainer":
        """The model this container serves; its output goes to CloudWatch Logs from now on,
        group /aws/sagemaker/Endpoints/<endpoint>, stream <variant>/i-<id> (as AWS names them)."""
        self.container, self.variant, self.endpoint_name = container, variant, endpoint_name
        if logs_client is not None:
            try:
                self.stream = LogStream(logs_client, variant, host="i-" + uuid.uuid4().hex[:17],
                                        group=f"/aws/sagemaker/Endpoints/{endpoint_name}")
            except Exception:  # CloudWatch is a convenience here: the copy on disk remains
                self.stream = None
        return self

    # -- start -----------------------------------------------------------------------------
    def prepare(self, storage: Storage, kept: Path | None = None) -> None:
        """model.tar.gz into model/, sourcedir.tar.gz into code/ (AWS: the toolkit's download).
        ``kept``: where a copy of each archive stays (``kept/<bucket>/<key>``), to put it back
        into S3 for a restored endpoint: the stand-in's S3 lives in memory, AWS's does not."""
        for folder in (self.root.model, self.root.code):
            folder.mkdir(parents=True, exist_ok=True)
        model_data = self.container.get("ModelDataUrl")
        if model_data:
            self._unpack(storage, model_data, self.root.model, "ModelDataUrl", kept)
        submit = (self.container.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        if submit.startswith("s3://"):
            self._unpack(storage, submit, self.root.code, "SAGEMAKER_SUBMIT_DIRECTORY", kept)
        self.packages = None
        for code in (self.root.code, self.root.model / "code"):  # the toolkit installs it first
            if (code / "requirements.txt").exists():
                try:
                    self.packages = process.pip_install(code / "requirements.txt", self.folder / "packages",
                                                        process.base_environment(self.root, {}))
                except subprocess.CalledProcessError as error:
                    last = " ".join((error.stderr or error.stdout or "").strip().splitlines()[-3:])
                    raise StartFailed(f"pip could not install {code.name}/requirements.txt: {last} "
                                      "Check the package names and versions in requirements.txt.")
                break

    def _unpack(self, storage: Storage, uri: str, target: Path, what: str, kept: Path | None) -> None:
        archive = self.folder / (target.name + ".tar.gz")
        copy = kept / uri[len("s3://"):] if kept is not None and uri.startswith("s3://") else None
        try:
            storage.download(uri, archive)
        except Exception as error:
            if copy is None or not copy.is_file():
                raise StartFailed(f"Failed to download model data ({what} {uri}): {error}. Check "
                                  "that the object exists and the role can read it.")
            storage.restore(copy, uri)  # the object the endpoint was made from, back in S3
            shutil.copyfile(copy, archive)
        else:
            if copy is not None:
                try:
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(archive, copy)
                except OSError:
                    pass  # (a full disk) only a restored endpoint would miss it
        try:
            artifacts.unpack(archive, target)
        except Exception as error:
            raise StartFailed(f"Failed to extract model data archive from URL {uri}: {error}. "
                              "Please ensure that the object located at the URL is a valid tar.gz "
                              "archive.")
        finally:
            archive.unlink(missing_ok=True)

    def _model_environment(self, port: int) -> dict[str, str]:
        """What the model adds: its Environment, the port, the kind of server."""
        env = dict(self.container.get("Environment") or {})
        env.update({"SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_SAFE_PORT_RANGE": f"{port}-{port}",
                    "SM_TUTORIAL_SERVING": serving_kind(self.container.get("Image", ""))})
        if self.packages:  # requirements.txt's, first on the server's sys.path
            env["SM_TUTORIAL_PACKAGES"] = str(self.packages)
        return env

    def _launch(self, extra: dict[str, str]) -> None:
        env = {"SM_TUTORIAL_PLATFORM_PID": str(os.getpid()), "AWS_REGION": self.region,
               "AWS_DEFAULT_REGION": self.region, "AWS_ENDPOINT_URL": self.endpoint_url,
               **self.credentials, **extra}
        for folder in (self.root.model, self.root.code):
            folder.mkdir(parents=True, exist_ok=True)
        self._ready.clear()
        self.proc = process.start(self.root, [sys.executable, str(SERVE)],
                                  process.base_environment(self.root, env,
                                                           relocated=not self.own_opt_ml),
                                  self.grace, own_opt_ml=self.own_opt_ml)
        record = self.folder / "process.json"  # platform/orphans.py ends it if we die
        record.write_text(json.dumps({"pid": self.proc.pid, "code": str(self.root.code)}))
        threading.Thread(target=self._pump, name=f"serve-{self.folder.name}", daemon=True).start()

    def standby(self, grace: float) -> "ServingContainer":
        """Start the process now; it imports the frameworks and waits for ``go.json``."""
        self.grace, self.waiting = grace, True
        self._launch({"SM_TUTORIAL_GO": str(self.folder / "go.json")})
        return self

    def start(self, limit: float, grace: float) -> None:
        """Start the server (or give the standby process its model) and wait for its first
        ping within ``limit`` seconds; StartFailed (the FailureReason) when it does not
        answer, ends, or cannot bind its port."""
        self.grace = grace
        for attempt in range(3):  # a port another process took between our probe and its bind
            self.port = free_port()
            if self.waiting and self.running:
                go = self.folder / "go.json.tmp"
                go.write_text(json.dumps({"env": self._model_environment(self.port)}))
                os.replace(go, self.folder / "go.json")  # the process sees it whole or not at all
            else:
                self._launch(self._model_environment(self.port))
            self.waiting = False
            if self._healthy(time.time() + limit):
                return
            self.stop()
            if "Address already in use" not in "\n".join(self.tail):
                break
        raise StartFailed(PING_FAILED.format(variant=self.variant) + self._reason())

    def _reason(self) -> str:
        lines = [l for l in self.tail if l.strip()]
        errors = [l for l in lines if "Error" in l or "Exception" in l]
        last = (errors or lines or [""])[-1].strip()
        return f" The container said: {last}" if last else ""

    def _pump(self) -> None:
        log = (self.folder / "container.log").open("a", encoding="utf-8")
        with log:
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", errors="replace")
                self.tail = (self.tail + [line.rstrip()])[-20:]
                if line.startswith(READY):
                    self._ready.set()
                elif line.startswith(STANDING_BY):
                    self.standing_by.set()
                log.write(line)
                log.flush()
                stream = self.stream
                if stream is not None:
                    stream.write(line)
        self.proc.stdout.close()

    def _healthy(self, deadline: float) -> bool:
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            if self._ready.wait(0.02) and self.ping():
                return True
        return False

    def ping(self) -> bool:
        try:
            status, _, _ = self.request("GET", "/ping", b"", {}, timeout=2)
            return status == 200
        except OSError:
            return False

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str],
                timeout: float) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            connection.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- end -------------------------------------------------------------------------------
    def stop(self) -> None:
        """SIGTERM to the launcher (it passes it on, SIGKILLs after the grace), then its group
        gets SIGKILL if it has not ended: AWS's shutdown of a serving container."""
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                os.kill(proc.pid, 15)
                try:
                    proc.wait(timeout=self.grace + 5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
        except ProcessLookupError:
            proc.wait()
        (self.folder / "process.json").unlink(missing_ok=True)
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()
