"""Shared fixtures: one simulated endpoint for the test session, in a throwaway workspace."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # before any test imports the SDK
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # no probe of 169.254.169.254, ever, in tests
# Each process gets its own throwaway workspace, pytest-xdist's workers too: they inherit the
# controller's variables, and two workers in one workspace would share job names (ModelTrainer
# names jobs by the second: the English and Korean lesson 6 would clash). One the caller set
# before pytest (SM_TUTORIAL_WORKSPACE without our mark) is used as it is, and kept.
OURS = "SM_TUTORIAL_TESTS_WORKSPACE"
OWN_WORKSPACE = None
if os.environ.get("SM_TUTORIAL_WORKSPACE", "") in ("", os.environ.get(OURS)):
    OWN_WORKSPACE = Path(os.environ.get("TMPDIR", "/tmp")) / f"sm-tutorial-tests-{os.getpid()}"
    os.environ["SM_TUTORIAL_WORKSPACE"] = os.environ[OURS] = str(OWN_WORKSPACE)


def pytest_sessionfinish(session):
    """This process's throwaway workspace goes when its tests are done: the simulated AWS
    stops first (its jobs, endpoints and spare serving containers end with it). A workspace the
    caller chose (SM_TUTORIAL_WORKSPACE set before pytest) is left alone."""
    if not OWN_WORKSPACE or not OWN_WORKSPACE.exists():
        return
    from sm_tutorial.client import sdk
    from sm_tutorial.platform.folders import remove_tree
    endpoint = sdk._endpoint
    if endpoint is not None:
        endpoint.stop()
    error = remove_tree(OWN_WORKSPACE)
    if error:
        print(f"\nconftest: could not remove the test workspace {OWN_WORKSPACE}: {error}")


@pytest.fixture(scope="session")
def sess():
    import sm_tutorial
    return sm_tutorial.session()


@pytest.fixture(scope="session")
def endpoint(sess):
    from sm_tutorial.client.sdk import local_endpoint
    return local_endpoint()


@pytest.fixture(scope="session")
def digits(sess):
    import sm_tutorial
    return sm_tutorial.upload_digits(sess)


@pytest.fixture
def source(tmp_path):
    """source("print('hi')", extra={"util.py": "..."}) -> a source_dir with train.py."""
    def make(script: str, extra: dict[str, str] | None = None) -> str:
        folder = tmp_path / "src"
        folder.mkdir(exist_ok=True)
        (folder / "train.py").write_text(textwrap.dedent(script))
        for name, text in (extra or {}).items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return str(folder)
    return make


def own_opt_ml() -> bool:
    """Jobs get their own /opt/ml here (a Linux mount namespace), unless a test says otherwise."""
    from sm_tutorial.container import mounts
    return mounts.unavailable() is None


def seen_root(root) -> str:
    """The job's /opt/ml as its script sees it: /opt/ml itself, or the relocated folder."""
    return "/opt/ml" if own_opt_ml() else str(root)


@pytest.fixture
def relocated(monkeypatch):
    """Jobs this test starts get the fallback: /opt/ml relocated to the workspace folder."""
    monkeypatch.setenv("SM_TUTORIAL_NAMESPACES", "off")


@pytest.fixture
def namespaced():
    """Skips on a machine where jobs cannot get their own /opt/ml (macOS, locked-down Linux)."""
    from sm_tutorial.container import mounts
    problem = mounts.unavailable()
    if problem:
        pytest.skip(f"no job namespaces here: {problem}")


def estimator(sess, source_dir, hyperparameters=None, **kwargs):
    from sagemaker.tensorflow import TensorFlow
    import sm_tutorial
    return TensorFlow(entry_point="train.py", source_dir=source_dir, role=sm_tutorial.role(),
                      instance_type=kwargs.pop("instance_type", "ml.m5.xlarge"), instance_count=1,
                      framework_version="2.16", py_version="py310",
                      hyperparameters=hyperparameters or {}, sagemaker_session=sess,
                      disable_profiler=True, **kwargs)


def course_estimator(sess, **kwargs):
    """The TensorFlow estimator for the course's digits script (notebooks/scripts/digits)."""
    from sagemaker.tensorflow import TensorFlow
    import sm_tutorial
    return TensorFlow(entry_point="train.py", source_dir=str(REPO / "notebooks" / "scripts" / "digits"),
                      role=sm_tutorial.role(), instance_type="ml.m5.xlarge", instance_count=1,
                      framework_version="2.16", py_version="py310", sagemaker_session=sess,
                      disable_profiler=True, **kwargs)


def s3_tar(sess, uri: str) -> dict[str, bytes]:
    """Download a .tar.gz from S3 and return {member name: bytes (b'' for folders)}."""
    from sm_tutorial.client.results import tar_members
    return tar_members(sess, uri)


def output_tar_uri(description: dict) -> str:
    return description["ModelArtifacts"]["S3ModelArtifacts"].replace("model.tar.gz", "output.tar.gz") \
        if "ModelArtifacts" in description else (
            f"{description['OutputDataConfig']['S3OutputPath'].rstrip('/')}/"
            f"{description['TrainingJobName']}/output/output.tar.gz")


def read_json_member(members: dict[str, bytes], name: str):
    return json.loads(members[name])
