"""The framework a job asks for, and what runs it (issue 12 part 4): the log says both; a job
that asks for TensorFlow < 2.16 (Keras 2) runs with TF_USE_LEGACY_KERAS=1 where tf-keras is
installed, and otherwise gets one warning line and a FailureReason hint naming the fix."""

import platform

import pytest
from sagemaker.exceptions import UnexpectedStatusException

import sm_tutorial
from sm_tutorial.platform import frameworks

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.1.0-cpu-py3"


def tf_2_1(sess, source_dir):
    from sagemaker.tensorflow import TensorFlow
    return TensorFlow(entry_point="train.py", source_dir=source_dir, role=sm_tutorial.role(),
                      instance_type="ml.m5.xlarge", instance_count=1, framework_version="2.1.0",
                      py_version="py3", sagemaker_session=sess, disable_profiler=True)


def job_log(est) -> str:
    return (sm_tutorial.job_root(est.latest_training_job.name).parent.parent / "algo-1.log").read_text()


@pytest.mark.parametrize("image,name,version,python", [
    (IMAGE, "TensorFlow", "2.1.0", "py3"),
    ("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310", "PyTorch", "2.0.0", "py310"),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", "scikit-learn", "1.2", "py3"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own:latest", None, None, None)])
def test_framework_from_the_image_uri(image, name, version, python):
    asked = frameworks.asked_for({"AlgorithmSpecification": {"TrainingImage": image}})
    assert (asked.name, asked.version, asked.python) == (name, version, python)


def test_log_names_the_framework_asked_for_and_the_one_that_ran(sess, source):
    est = tf_2_1(sess, source("import os; print('legacy', os.environ.get('TF_USE_LEGACY_KERAS'))\n"))
    est.fit(logs=False)
    log = job_log(est).splitlines()
    local = frameworks._installed(("tensorflow-cpu", "tensorflow"))  # the lock picks one per platform
    assert log[0].startswith("Framework asked for: TensorFlow 2.1.0, Python py3 (image ") and "2.1.0-cpu-py3" in log[0]
    assert log[1] == f"Runs here with: local TensorFlow {local}, Python {platform.python_version()}"


def test_keras2_job_runs_with_legacy_keras_where_tf_keras_is_installed(sess, source, monkeypatch):
    monkeypatch.setattr(frameworks, "tf_keras_installed", lambda: True)
    monkeypatch.setattr(frameworks, "_installed", lambda names: "2.21.0")
    est = tf_2_1(sess, source("import os; print('legacy', os.environ.get('TF_USE_LEGACY_KERAS'))\n"))
    est.fit(logs=False)
    log = job_log(est)
    assert "legacy 1" in log and "running with TF_USE_LEGACY_KERAS=1" in log
    assert "Warning: TensorFlow" not in log


KERAS2_SCRIPT = """
import os
import numpy as np
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Input((4,)), tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(np.zeros((8, 4)), np.zeros((8, 1)), epochs=1, verbose=0)
model.save(os.path.join(os.environ["SM_MODEL_DIR"], "000000001"), "my_model.h5")  # mnist-2.py's save
"""


def test_mnist2_keras2_save_completes_as_on_aws(sess, source):
    """mnist-2.py's Keras 2 save, asked as TensorFlow 2.1.0: Completed, with tf-keras from the
    folder `make setup` fills (.venv/keras2), never installed into the environment itself."""
    import importlib.util
    if not (frameworks.keras2_folder() / "tf_keras").is_dir():
        pytest.skip(f"no {frameworks.keras2_folder()}: run make setup")
    assert importlib.util.find_spec("tf_keras") is None  # not in the course's own environment
    est = tf_2_1(sess, source(KERAS2_SCRIPT + "print('keras', tf.keras.__name__)\n"))
    est.fit(logs=False)
    log = job_log(est)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    assert "keras tf_keras" in log and "(tf-keras 2." in log and "Warning: TensorFlow" not in log
    from conftest import s3_tar
    assert any(name.startswith("000000001/") for name in s3_tar(sess, est.model_data))


def test_keras2_script_under_keras3_warns_and_hints_the_fix(sess, source, monkeypatch, tmp_path):
    import importlib.util
    if importlib.util.find_spec("tf_keras") is not None:
        pytest.skip("tf-keras installed into this environment: Keras 2 runs")
    monkeypatch.setattr(frameworks, "keras2_folder", lambda: tmp_path / "no-keras2")
    est = tf_2_1(sess, source(KERAS2_SCRIPT))
    with pytest.raises(UnexpectedStatusException):
        est.fit(logs=False)
    warnings = [l for l in job_log(est).splitlines() if l.startswith("Warning: TensorFlow")]
    assert len(warnings) == 1 and warnings[0].startswith("Warning: TensorFlow 2.1.0 images ship Keras 2")
    assert "model.save(path, 'my_model.h5')" in warnings[0]
    reason = est.latest_training_job.describe()["FailureReason"]
    assert "ExecuteUserScriptError" in reason
    assert "Hint (sm-tutorial): this job asked for TensorFlow 2.1.0 (Keras 2)" in reason
    assert "pip install --no-deps -c constraints.txt --target" in reason and "tf-keras" in reason


def test_no_keras_warning_for_tensorflow_2_16(sess, source):
    from conftest import estimator
    est = estimator(sess, source("import os; print('legacy', os.environ.get('TF_USE_LEGACY_KERAS'))\n"))
    est.fit(logs=False)
    log = job_log(est)
    assert "legacy None" in log and "Keras 2" not in log
