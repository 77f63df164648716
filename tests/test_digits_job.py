"""The course's TensorFlow digits job, trained end to end from the course data."""
import json
import os

from conftest import REPO, course_estimator, output_tar_uri, s3_tar


def test_trains_a_real_model(sess, digits, tmp_path):
    est = course_estimator(sess, hyperparameters={"epochs": 8, "learning-rate": 0.01})
    est.fit({"train": digits["train"], "validation": digits["validation"]}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    metrics = json.loads(s3_tar(sess, output_tar_uri(d))["metrics.json"])
    assert len(metrics["val_accuracy"]) == 8
    assert metrics["val_accuracy"][-1] > 0.85
    model_files = s3_tar(sess, est.model_data)
    assert "digits.keras" in model_files
    # The model loads and predicts outside the job, as lesson 5 does.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    (tmp_path / "digits.keras").write_bytes(model_files["digits.keras"])
    model = tf.keras.models.load_model(tmp_path / "digits.keras")
    rows = np.loadtxt(REPO / "data" / "digits" / "csv" / "validation.csv", delimiter=",", skiprows=1)
    predictions = model.predict(rows[:, 1:] / 16.0, verbose=0).argmax(axis=1)
    assert (predictions == rows[:, 0]).mean() > 0.85
