"""sm-tutorial: learn SageMaker training jobs with the real SDK, no AWS account, no Docker.

    import sm_tutorial
    sess = sm_tutorial.session()          # a real sagemaker.Session (simulated by default)
    role = sm_tutorial.role()
    data = sm_tutorial.upload_digits(sess)

Names are imported on first use, so a training script can use ``sm_tutorial.PipeModeDataset``
without loading the SageMaker SDK.
"""
import os
from importlib import import_module

# Before anything imports the SDK: its v2 notice is noise in a course that chose v2 on purpose,
# and in simulated mode nothing may leave this machine, not even the SDK's import-time probe of
# the EC2 metadata address (169.254.169.254).
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
_IMDS_OFF_BY_US = (os.environ.get("SM_TUTORIAL_MODE", "local").strip().lower() in ("", "local")
                   and "AWS_EC2_METADATA_DISABLED" not in os.environ)
if _IMDS_OFF_BY_US:
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # undone by session(mode="aws")

__version__ = "0.1.0"

_PUBLIC = {
    "session": "client.sdk", "role": "client.sdk", "endpoint_url": "client.sdk",
    "current_mode": "client.sdk", "simulated": "client.sdk", "trainer_session": "client.trainer",
    "interrupt_spot": "client.spot",
    "cleanup": "client.aws_mode",
    "upload_digits": "course.course_data", "local_path": "course.course_data",
    "workspace": "client.local_jobs", "job_root": "client.local_jobs", "cleanup_jobs": "client.local_jobs",
    "PipeModeDataset": "container.pipe_mode", "job_logs": "client.logs",
    "download": "client.results", "extract": "client.results",
}
__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sm_tutorial' has no attribute {name!r}")


def __dir__():
    return __all__
