"""The serving container's web server: ``docker run IMAGE serve`` as AWS's inference images
answer it, ``GET /ping`` and ``POST /invocations``, here with the standard library's
http.server.

    python serve.py        (under launcher.py, as a job's script is)

Run by file path, never importing sm_tutorial: its siblings ``serve_tensorflow`` (the
TensorFlow Serving container's REST contract) and ``serve_handlers`` (the inference toolkit's
model_fn / input_fn / predict_fn / output_fn) are imported from this folder. The model is
loaded first, then the port is bound on 127.0.0.1 only (``SAGEMAKER_BIND_TO_PORT``, AWS's
variable; 8080 by default, as on AWS) and one line says so. A model that fails to load ends
the process with the error: the endpoint is Failed with it. It also ends when the platform
process that started it (``SM_TUTORIAL_PLATFORM_PID``) has gone: no endpoint outlives its
simulated AWS.
"""
import importlib
import json
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

READY = "sm-tutorial: serving on 127.0.0.1:"  # the platform pings once it sees this line


class ModelServer(ThreadingHTTPServer):
    allow_reuse_address = False  # never share a port another process holds
    daemon_threads = True

    def __init__(self, port, model):
        super().__init__(("127.0.0.1", port), Handler)
        self.model = model


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # one line per request would fill the endpoint's log
        pass

    def _reply(self, status, body, content_type="application/json"):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/ping":
            return self._reply(200, b"\n")
        self._reply(404, json.dumps({"error": f"No route for GET {self.path}"}))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        content_type = self.headers.get("Content-Type") or ""
        accept = self.headers.get("Accept") or ""
        try:
            if path == "/invocations":
                status, payload, reply_type = self.server.model.invoke(body, content_type, accept)
            elif path.startswith("/v1/models/") and hasattr(self.server.model, "rest"):
                status, payload, reply_type = self.server.model.rest(path, body)
            else:
                status, payload, reply_type = 404, json.dumps({"error": f"No route for POST {path}"}), \
                    "application/json"
        except Exception as error:  # a handler that raised: the caller gets ModelError
            traceback.print_exc()
            status = getattr(error, "status", 500)
            payload, reply_type = str(error) or type(error).__name__, "text/plain"
        self._reply(status, payload, reply_type)


def _watch_platform():
    """End the server when the simulated AWS that started it has ended (kernel killed)."""
    pid = int(os.environ.get("SM_TUTORIAL_PLATFORM_PID") or 0)
    if not pid:
        return
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            try:  # the platform read our output: the pipe is likely broken now
                print("sm-tutorial: the local AWS stand-in has ended: this endpoint ends too",
                      flush=True)
            except OSError:
                pass
            os._exit(0)
        except PermissionError:
            pass  # alive, someone else's: cannot be ours, but a PID reused is still a process


def stand_by():
    """A spare container: import what models need now, then wait for the platform's go.json
    (the model's environment); the model's files are in /opt/ml by then."""
    go = os.environ.get("SM_TUTORIAL_GO")
    if not go:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("numpy", "tensorflow", "sklearn"):
        try:
            importlib.import_module(name)
        except Exception:
            pass  # not installed: the model that needs it says so when it loads
    print("sm-tutorial: standing by", flush=True)
    while not os.path.exists(go):
        time.sleep(0.01)
    with open(go) as f:
        os.environ.update(json.load(f)["env"])


def load():
    base = os.environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml"
    kind = os.environ.get("SM_TUTORIAL_SERVING", "handlers")
    if kind == "tensorflow":
        import serve_tensorflow
        return serve_tensorflow.TensorFlowModel(os.path.join(base, "model"))
    import serve_handlers
    return serve_handlers.HandlerModel(base)


def main():
    threading.Thread(target=_watch_platform, daemon=True).start()
    stand_by()
    if os.environ.get("SM_TUTORIAL_PACKAGES"):  # what code/requirements.txt installed
        sys.path.insert(0, os.environ["SM_TUTORIAL_PACKAGES"])
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or 8080)
    try:
        model = load()
        server = ModelServer(port, model)
        model.port = server.server_address[1]  # inference.py's context.rest_uri
    except Exception as error:
        traceback.print_exc()
        print(f"sm-tutorial: the model server could not start: {type(error).__name__}: {error}",
              flush=True)
        sys.exit(1)
    print(READY + str(server.server_address[1]), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
