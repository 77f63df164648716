"""The inference handler contract of AWS's framework serving containers (SKLearn, PyTorch,
MXNet, XGBoost in script mode), as sagemaker-inference-toolkit runs it.

The entry point named by ``SAGEMAKER_PROGRAM`` is imported from /opt/ml/code (the
``sourcedir.tar.gz`` named by ``SAGEMAKER_SUBMIT_DIRECTORY``, unpacked there by the platform)
or from /opt/ml/model/code (a repacked model). Its ``model_fn(model_dir)`` runs once at start;
each request then goes through ``input_fn(body, content_type)``, ``predict_fn(data, model)``
and ``output_fn(prediction, accept)``, or ``transform_fn(model, body, content_type, accept)``
alone when it defines one. The defaults decode and encode JSON, CSV and NPY as the toolkit's
decoder and encoder do, and predict with ``model.predict``.
"""
import importlib.util
import io
import json
import os
import sys

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
SUPPORTED = (JSON, CSV, NPY)


class ContentTypeError(Exception):
    status = 415


class AcceptError(Exception):
    status = 406


def _np():
    import numpy
    return numpy


def decode(body, content_type):
    """The toolkit's decoder: JSON, CSV and NPY to a NumPy array."""
    np = _np()
    kind = (content_type or JSON).split(";")[0].strip().lower()
    if kind == JSON:
        return np.array(json.loads(body))
    if kind == CSV:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return np.genfromtxt(io.StringIO(text), delimiter=",", dtype=None)
    if kind == NPY:
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise ContentTypeError(
        f"Content type {content_type} is not supported by this framework.\n\n"
        "  Please implement input_fn to deserialize the request data or an output_fn to\n"
        "  serialize the response. For more information, see the SageMaker Python SDK README.")


def encode(prediction, accept):
    """The toolkit's encoder: an array-like to JSON, CSV or NPY."""
    np = _np()
    if accept == JSON:
        value = prediction.tolist() if hasattr(prediction, "tolist") else prediction
        return json.dumps(value)
    if accept == CSV:
        array = np.array(prediction)
        if array.ndim < 2:
            array = array.reshape(-1, 1) if array.ndim == 1 else array.reshape(1, 1)
        return "\n".join(",".join(str(v) for v in row) for row in array.tolist()) + "\n"
    if accept == NPY:
        out = io.BytesIO()
        np.save(out, np.asarray(prediction))
        return out.getvalue()
    raise AcceptError(f"Accept type {accept} is not supported by this framework. Ask for one of "
                      f"{', '.join(SUPPORTED)} or implement output_fn.")


def choose_accept(accept):
    """The first supported type of an Accept header; '*/*' or none: the default (JSON)."""
    default = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    wanted = [a.split(";")[0].strip().lower() for a in (accept or "").split(",") if a.strip()]
    if not wanted or "*/*" in wanted:
        return default
    for kind in wanted:
        if kind in SUPPORTED:
            return kind
    return wanted[0]  # a custom output_fn may know it


def _code_dirs(base):
    return [os.path.join(base, "code"), os.path.join(base, "model", "code")]


def import_entry_point(base):
    program = os.environ.get("SAGEMAKER_PROGRAM")
    if not program:
        return None
    for folder in _code_dirs(base):
        path = os.path.join(folder, program)
        if os.path.isfile(path):
            sys.path.insert(0, folder)  # the script's own modules import as on AWS
            os.chdir(folder)
            name = os.path.splitext(os.path.basename(program))[0]
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError(f"SAGEMAKER_PROGRAM={program} was not found in /opt/ml/code or "
                            "/opt/ml/model/code. Check entry_point and source_dir.")


class HandlerModel:
    def __init__(self, base):
        self.module = import_entry_point(base)
        hooks = self.module.__dict__ if self.module else {}
        self.transform_fn = hooks.get("transform_fn")
        self.input_fn = hooks.get("input_fn") or decode
        self.predict_fn = hooks.get("predict_fn") or (lambda data, model: model.predict(data))
        self.output_fn = hooks.get("output_fn") or encode
        model_fn = hooks.get("model_fn")
        if model_fn is None:
            raise NotImplementedError(
                "Please provide a model_fn implementation. See documentation for model_fn at "
                "https://sagemaker.readthedocs.io/en/stable/frameworks/sklearn/using_sklearn.html")
        self.model = model_fn(os.path.join(os.environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml",
                                           "model"))

    def invoke(self, body, content_type, accept):
        accept = choose_accept(accept)
        content_type = content_type or JSON
        if self.transform_fn is not None:
            result = self.transform_fn(self.model, body, content_type, accept)
        else:
            data = self.input_fn(body, content_type)
            prediction = self.predict_fn(data, self.model)
            result = self.output_fn(prediction, accept)
        if isinstance(result, tuple):
            result, accept = result[0], result[1]
        return 200, result, accept
