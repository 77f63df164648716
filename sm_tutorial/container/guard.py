"""Loaded into every training process (as ``sitecustomize``): stops literal /opt/ml paths.

On AWS the tree really is at /opt/ml; here it is a folder in the course workspace. A script
that hard-codes ``/opt/ml/model`` would write outside the job, so this audit hook refuses the
call with a message that names the variable to use instead.
"""
import os
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


_FASTFILE = {}
_manifest = os.path.join(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"), "..", "..", "fastfile.json")
if os.path.exists(_manifest):
    import sm_tutorial.container.fastfile as _fastfile  # only jobs with FastFile channels
    _FASTFILE = _fastfile.load(_manifest)


def _hook(event, args):
    if event not in _EVENTS or not args:
        return
    if _FASTFILE and event == "open" and isinstance(args[0], (str, os.PathLike)):
        entry = _FASTFILE.get(os.path.abspath(os.fspath(args[0])))
        if entry:
            _fastfile.ensure(entry)  # FastFile: fetched on first open
    paths = [os.fsdecode(a) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
    path = next((p for p in paths if p == "/opt/ml" or p.startswith("/opt/ml/")), None)
    if path is None:
        return
    variable = next((v for prefix, v in _HINTS if path.startswith(prefix)),
                    "SM_MODEL_DIR, SM_CHANNEL_<NAME> or SM_OUTPUT_DATA_DIR")
    raise PermissionError(
        f"{path}: this script uses a literal /opt/ml path. Read the location from "
        f"{variable} instead (in this simulation /opt/ml is a folder of the course workspace, "
        "$SAGEMAKER_BASE_DIR); the same code then works on AWS too.")


sys.addaudithook(_hook)
