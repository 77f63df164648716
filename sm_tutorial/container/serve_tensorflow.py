"""The TensorFlow Serving container's contract (sagemaker-tensorflow-serving-container), served
by TensorFlow in Python instead of the tensorflow_model_server binary.

- The model: the highest numeric version folder holding a ``saved_model.pb`` under
  /opt/ml/model (``1/`` at the archive's root, or ``<name>/1/``), as TF Serving finds it;
  its ``serving_default`` signature answers.
- Requests: TF Serving's REST API. JSON with "instances" (row format) gets
  ``{"predictions": [...]}``; with "inputs" (columnar) ``{"outputs": ...}``; other JSON is
  wrapped as ``{"instances": [...]}``. ``text/csv`` is one instance per line and
  ``application/jsonlines`` one JSON instance per line, as the container's proxy accepts them.
  A bad request is answered 400 ``{"error": ...}``, as TF Serving answers it.
- ``code/inference.py`` in the model (the SDK's ``entry_point``, repacked there) may define
  ``input_handler(data, context)`` and ``output_handler(response, context)``, or ``handler``;
  ``context.rest_uri`` is this server's own ``/v1/models/<name>:predict``.
"""
import importlib.util
import io
import json
import os
import re


class BadRequest(Exception):
    status = 400

    def __str__(self):
        return json.dumps({"error": self.args[0]})


def find_saved_model(model_dir):
    """(model name, version folder) of the newest SavedModel, or raise with what to change."""
    found = []
    for current, dirs, files in os.walk(model_dir):
        dirs.sort()
        name = os.path.basename(current)
        if "saved_model.pb" in files and re.fullmatch(r"\d+", name):
            parent = os.path.dirname(current)
            model = "model" if os.path.samefile(parent, model_dir) else os.path.basename(parent)
            found.append((int(name), model, current))
    if not found:
        raise FileNotFoundError(
            "No SavedModel found under /opt/ml/model: TensorFlow Serving needs "
            "<version>/saved_model.pb, a numeric version folder such as 1/. Save the model with "
            "model.export(os.path.join(os.environ['SM_MODEL_DIR'], '1')) in the training script "
            "(a .keras or .h5 file alone cannot be served).")
    version, model, folder = max(found)
    return model, folder


class Context:
    """What the container passes to inference.py's handlers."""

    def __init__(self, model_name, port, content_type, accept):
        self.model_name, self.model_version = model_name, None
        self.method = "predict"
        self.rest_uri = f"http://127.0.0.1:{port}/v1/models/{model_name}:predict"
        self.grpc_port, self.rest_port = None, port
        self.request_content_type, self.accept_header = content_type, accept
        self.custom_attributes, self.content_length = None, None


class Response:
    """TF Serving's reply as ``requests.Response`` shows it to an output_handler."""

    def __init__(self, status_code, content):
        self.status_code, self.content = status_code, content
        self.text = content.decode("utf-8")

    def json(self):
        return json.loads(self.content)


class TensorFlowModel:
    def __init__(self, model_dir):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        self.tf = tf
        self.name, folder = find_saved_model(model_dir)
        print(f"sm-tutorial: loading SavedModel {folder} as model {self.name!r}", flush=True)
        self.loaded = tf.saved_model.load(folder)
        self.fn = self.loaded.signatures["serving_default"]
        self.inputs = self.fn.structured_input_signature[1]  # {name: TensorSpec}
        self.handlers = self._handlers(os.path.join(model_dir, "code", "inference.py"))

    @staticmethod
    def _handlers(path):
        if not os.path.isfile(path):
            return None
        spec = importlib.util.spec_from_file_location("inference", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if hasattr(module, "handler"):
            return module.handler
        if hasattr(module, "input_handler") and hasattr(module, "output_handler"):
            return (module.input_handler, module.output_handler)
        raise NotImplementedError("Handlers are not implemented correctly in user script.")

    # -- TF Serving's REST predict -------------------------------------------------------
    def _tensor(self, name, value):
        spec = self.inputs[name]
        try:
            tensor = self.tf.constant(value, dtype=spec.dtype)
        except (ValueError, TypeError) as error:
            raise BadRequest(f"Input {name!r} does not fit {spec}: {error}")
        if not spec.shape.is_compatible_with(tensor.shape):  # TF Serving checks the signature
            raise BadRequest(f"Input {name!r} has shape {tensor.shape.as_list()}; the model's "
                             f"signature expects {spec.shape.as_list()} (None: any size).")
        return tensor

    def _feed(self, value, rows):
        if isinstance(value, dict) and set(value) <= set(self.inputs):
            return {name: self._tensor(name, value[name]) for name in value}
        if rows and value and all(isinstance(v, dict) for v in value):
            return {name: self._tensor(name, [v[name] for v in value]) for name in value[0]}
        if len(self.inputs) != 1:
            raise BadRequest(f"The model has inputs {sorted(self.inputs)}: name each of them.")
        return {next(iter(self.inputs)): self._tensor(next(iter(self.inputs)), value)}

    def predict(self, request):
        if not isinstance(request, dict) or not ({"instances", "inputs"} & set(request)):
            raise BadRequest("Missing 'inputs' or 'instances' key")
        rows = "instances" in request
        try:
            outputs = self.fn(**self._feed(request["instances" if rows else "inputs"], rows))
        except BadRequest:
            raise
        except Exception as error:  # shapes and types: TF Serving says 400 with the reason
            raise BadRequest(str(error).strip().splitlines()[0] if str(error).strip() else repr(error))
        values = {k: v.numpy().tolist() for k, v in outputs.items()}
        if not rows:
            return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
        if len(values) == 1:
            return {"predictions": next(iter(values.values()))}
        count = len(next(iter(values.values())))
        return {"predictions": [{k: v[i] for k, v in values.items()} for i in range(count)]}

    def rest(self, path, body):
        """POST /v1/models/<name>[/versions/N]:predict on this server, as TF Serving's port."""
        if not path.endswith(":predict"):
            return 400, json.dumps({"error": "Only :predict is served here."}), "application/json"
        try:
            request = json.loads(body or b"{}")
        except ValueError as error:
            return 400, json.dumps({"error": f"JSON Parse error: {error}"}), "application/json"
        try:
            return 200, json.dumps(self.predict(request)), "application/json"
        except BadRequest as error:
            return 400, str(error), "application/json"

    # -- the container's /invocations ----------------------------------------------------
    def to_request(self, body, content_type):
        kind = (content_type or "application/json").split(";")[0].strip().lower()
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            if kind == "text/csv":
                return {"instances": [json.loads("[" + line + "]") for line in text.splitlines()
                                      if line.strip()]}
            if kind in ("application/jsonlines", "application/jsonl", "application/x-jsonlines"):
                return {"instances": [json.loads(line) for line in text.splitlines() if line.strip()]}
            if kind != "application/json":
                raise BadRequest(f"Unsupported content type {content_type}: send "
                                 "application/json, text/csv or application/jsonlines.")
            data = json.loads(text)
        except ValueError as error:
            raise BadRequest(f"The request body is not valid {kind}: {error}")
        if isinstance(data, dict) and {"instances", "inputs", "examples"} & set(data):
            return data
        return {"instances": data if isinstance(data, list) else [data]}

    def invoke(self, body, content_type, accept):
        context = Context(self.name, self.port, content_type, accept)
        if callable(self.handlers):
            result = self.handlers(io.BytesIO(body), context)
            return 200, result[0], result[1]
        if self.handlers:
            request = self.handlers[0](io.BytesIO(body), context)
            status, payload, _ = self.rest(context.rest_uri, request)
            result = self.handlers[1](Response(status, payload.encode("utf-8")), context)
            return 200, result[0], result[1]
        try:
            return 200, json.dumps(self.predict(self.to_request(body, content_type))), \
                "application/json"
        except BadRequest as error:
            return 400, str(error), "application/json"
