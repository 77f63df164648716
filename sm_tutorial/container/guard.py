"""Loaded into every training process (as ``sitecustomize``): FastFile's fetch on first open,
and, where /opt/ml is relocated, a stop to literal /opt/ml paths.

On AWS the tree really is at /opt/ml, and so it is here where the job has its own mount
namespace (``mounts.py``). Elsewhere it is a folder of the course workspace
(``SAGEMAKER_BASE_DIR``): a script that hard-codes ``/opt/ml/model`` would write outside the
job, so an audit hook refuses the call with a message that names the variable to use instead.
"""
import os
import pathlib
import re
import sys

_HINTS = (
    ("/opt/ml/model", "SM_MODEL_DIR"),
    ("/opt/ml/input/data/", "SM_CHANNEL_<NAME> (e.g. SM_CHANNEL_TRAIN)"),
    ("/opt/ml/input/config", "SM_INPUT_CONFIG_DIR"),
    ("/opt/ml/output/data", "SM_OUTPUT_DATA_DIR"),
    ("/opt/ml/output", "SM_OUTPUT_DIR"),
    ("/opt/ml/checkpoints", "os.path.join(os.environ.get('SAGEMAKER_BASE_DIR', '/opt/ml'), "
                            "'checkpoints')"),
)
_EVENTS = {"open", "os.mkdir", "os.rename", "os.remove", "os.listdir", "os.scandir", "shutil.copyfile"}


_RELOCATED = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml") != "/opt/ml"
_FASTFILE = {}
# jobs/<job>/fastfile.json; this file is jobs/<job>/opt/bootstrap/sitecustomize.py
_manifest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fastfile.json")
if os.path.exists(_manifest):
    import sm_tutorial.container.fastfile as _fastfile  # only jobs with FastFile channels
    _FASTFILE = _fastfile.load(_manifest)


def _refuse(path):
    variable = next((v for prefix, v in _HINTS if path.startswith(prefix)),
                    "SM_MODEL_DIR, SM_CHANNEL_<NAME> or SM_OUTPUT_DATA_DIR")
    if re.fullmatch(r"/opt/ml/input/data/[^/]+_\d+", path):  # a Pipe mode FIFO
        variable = "SM_INPUT_DIR (Pipe mode FIFOs are $SM_INPUT_DIR/data/<channel>_<epoch>)"
    if "SM_MODEL_DIR" not in os.environ:  # a bring-your-own image: no toolkit, no SM_*
        variable = ("SAGEMAKER_BASE_DIR (os.path.join(os.environ.get('SAGEMAKER_BASE_DIR', "
                    f"'/opt/ml'), {path[len('/opt/ml/'):]!r}))")
    raise PermissionError(
        f"{path}: this script uses a literal /opt/ml path. Read the location from "
        f"{variable} instead (in this simulation /opt/ml is a folder of the course workspace, "
        "$SAGEMAKER_BASE_DIR); the same code then works on AWS too.")


def _literal(path):
    if isinstance(path, (str, bytes, os.PathLike)):
        path = os.fsdecode(path)
        if path == "/opt/ml" or path.startswith("/opt/ml/"):
            return path
    return None


# Existence checks have no audit event, and answer False for a literal /opt/ml path: a script
# polling for /opt/ml/input/data/training_0 would wait until MaxRuntime. Called from the job's
# own code (not a library probing where it runs), they fail at once instead.
_CODE = os.path.join(os.path.realpath(os.path.join(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"),
                                                   "code")), "")


def _from_the_script():
    return os.path.abspath(sys._getframe(2).f_code.co_filename).startswith(_CODE)


def _probe(function):
    def probe(path, *args, **kwargs):
        literal = _literal(path)
        if literal and _from_the_script():
            _refuse(literal)
        return function(path, *args, **kwargs)
    probe.__name__, probe.__doc__, probe.__wrapped__ = function.__name__, function.__doc__, function
    return probe


for _module, _names in () if not _RELOCATED else ((os.path, ("exists", "lexists", "isfile", "isdir")),
                        (os, ("stat", "lstat", "access"))):
    for _name in _names:
        _original = getattr(_module, _name)
        setattr(_module, _name, _probe(_original))
        for _supports in (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks,
                          os.supports_effective_ids):
            if _original in _supports:  # shutil.rmtree keeps its symlink-safe fd walk
                _supports.add(getattr(_module, _name))
for _name in ("exists", "is_file", "is_dir", "is_fifo") if _RELOCATED else ():
    setattr(pathlib.Path, _name, _probe(getattr(pathlib.Path, _name)))


def _hook(event, args):
    if event not in _EVENTS or not args:
        return
    if _FASTFILE and event == "open" and isinstance(args[0], (str, os.PathLike)):
        entry = _FASTFILE.get(os.path.abspath(os.fspath(args[0])))
        if entry:
            _fastfile.ensure(entry)  # FastFile: fetched on first open
    path = next((p for p in map(_literal, args[:2]) if p), None) if _RELOCATED else None
    if path is not None:
        _refuse(path)


sys.addaudithook(_hook)
