"""The framework a job asked for (from its image URI) and the local runtime that runs it.

AWS runs the script in the framework's own image (``tensorflow-training:2.1.0-cpu-py3``);
here it runs with this environment's Python and packages. The job log says both. TensorFlow
images before 2.16 ship Keras 2: such jobs run with ``TF_USE_LEGACY_KERAS=1`` where ``tf-keras``
is installed, so Keras 2 code works as on AWS; where it is not, one warning line says what breaks.
``make setup`` installs tf-keras, without its dependencies, into ``<env>/keras2``: tf-keras
requires the full ``tensorflow`` and the course has ``tensorflow-cpu``, the same code. Only
those jobs see the folder (on their PYTHONPATH), like the Keras 2 of an old image.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
import sys
from pathlib import Path
from typing import Any, Mapping, NamedTuple

# The image's repository name -> (framework, the local distributions that provide it).
_REPOSITORIES = {
    "tensorflow": ("TensorFlow", ("tensorflow-cpu", "tensorflow")),
    "pytorch": ("PyTorch", ("torch",)),
    "sagemaker-scikit-learn": ("scikit-learn", ("scikit-learn",)),
    "sagemaker-xgboost": ("XGBoost", ("xgboost",)),
    "huggingface-pytorch": ("Hugging Face (PyTorch)", ("transformers",)),
    "mxnet": ("MXNet", ("mxnet",)),
}
# ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>
_IMAGE = re.compile(r"(?:[^/]+/)?(?P<repo>[^:@]+)(?::(?P<tag>[^@]+))?")
LEGACY_KERAS_BEFORE = (2, 16)  # TensorFlow images before 2.16 ship Keras 2


class Framework(NamedTuple):
    name: str | None          # None: an image this module does not know
    version: str | None       # as asked for, e.g. "2.1.0"
    python: str | None        # the image's Python tag, e.g. "py3", "py310"
    local_version: str | None  # the installed distribution's version, None if absent


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _installed(distributions: tuple[str, ...]) -> str | None:
    for distribution in distributions:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def asked_for(request: Mapping[str, Any]) -> Framework:
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage") or ""
    match = _IMAGE.fullmatch(image.rsplit("/", 1)[-1] if "/" in image else image)
    repo, tag = (match.group("repo"), match.group("tag") or "") if match else ("", "")
    for prefix, (name, distributions) in _REPOSITORIES.items():
        if repo == prefix or repo.startswith(prefix + "-"):
            version = tag.split("-")[0] or None
            python = next((p for p in tag.split("-") if re.fullmatch(r"py\d*", p)), None)
            return Framework(name, version, python, _installed(distributions))
    return Framework(None, None, None, None)


def wants_keras2(framework: Framework) -> bool:
    return (framework.name == "TensorFlow" and bool(framework.version)
            and _version_tuple(framework.version) < LEGACY_KERAS_BEFORE)


KERAS2_INSTALL = ("pip install --no-deps -c constraints.txt --target {folder} tf-keras  (what "
                  "make setup runs)")


def keras2_folder() -> Path:
    """Where ``make setup`` puts tf-keras for Keras 2 jobs: beside the environment's packages."""
    return Path(sys.prefix) / "keras2"


def _tf_keras_version() -> str | None:
    found = _installed(("tf-keras",))
    if found:
        return found
    for distribution in importlib.metadata.distributions(path=[str(keras2_folder())]):
        if distribution.metadata["Name"].lower().replace("_", "-") == "tf-keras":
            return distribution.version
    return None


def tf_keras_installed() -> bool:
    return importlib.util.find_spec("tf_keras") is not None or \
        (keras2_folder() / "tf_keras").is_dir()


def prepare(request: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The job log's first lines, and variables for the script's environment."""
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage") or "(none)"
    framework = asked_for(request)
    python = platform.python_version()
    if framework.name is None:
        return [f"Image asked for: {image}; it runs here as a script with local Python "
                f"{python}."], {}
    asked = f"{framework.name} {framework.version or '(no version)'}" + \
        (f", Python {framework.python}" if framework.python else "")
    local = f"local {framework.name} {framework.local_version}" if framework.local_version \
        else f"no local {framework.name} installed"
    lines = [f"Framework asked for: {asked} (image {image})",
             f"Runs here with: {local}, Python {python}"]
    variables: dict[str, str] = {}
    if wants_keras2(framework):
        if tf_keras_installed():
            variables["TF_USE_LEGACY_KERAS"] = "1"
            if importlib.util.find_spec("tf_keras") is None:
                variables["PYTHONPATH"] = str(keras2_folder())  # the job's own, like the image's
            lines.append(f"TensorFlow {framework.version} images ship Keras 2: running with "
                         f"TF_USE_LEGACY_KERAS=1 (tf-keras {_tf_keras_version()}), so tf.keras "
                         "is Keras 2 as on AWS.")
        else:
            lines.append(KERAS3_WARNING.format(version=framework.version, folder=keras2_folder()))
    return lines, variables


KERAS3_WARNING = (
    "Warning: TensorFlow {version} images ship Keras 2, but tf-keras is not installed here, so "
    "tf.keras is Keras 3: Keras 2 code can break (model.save(path, 'my_model.h5') or a path "
    "without .keras/.h5, save_format=, tf.keras.experimental, optimizer arguments such as lr=). "
    "Install tf-keras to run it with TF_USE_LEGACY_KERAS=1: " + KERAS2_INSTALL)

KERAS3_HINT = (
    "this job asked for TensorFlow {version} (Keras 2) and ran with Keras 3, because tf-keras is "
    "not installed for this environment. The usual fix: " + KERAS2_INSTALL + " (then jobs that "
    "ask for TensorFlow < 2.16 run with TF_USE_LEGACY_KERAS=1), or "
    "update the script for Keras 3, e.g. model.save('model.keras') or model.export(folder).")


def keras3_hint(request: Mapping[str, Any], tail: str) -> str | None:
    """The FailureReason hint for a Keras-2 job that failed under Keras 3, or None."""
    framework = asked_for(request)
    if not wants_keras2(framework) or tf_keras_installed():
        return None
    if "keras" not in tail.lower():
        return None
    return KERAS3_HINT.format(version=framework.version, folder=keras2_folder())
