"""Lesson 5 exercises: results out of S3 and into the notebook."""
import json

from ..exercises import Exercise, finished_job, require
from ...client.results import output_uri, tar_members


def _metrics(session, job_name, metrics):
    d = finished_job(session, job_name)
    require(isinstance(metrics, dict), "pass the dict you loaded from metrics.json.")
    members = tar_members(session, output_uri(d["ModelArtifacts"]["S3ModelArtifacts"]))
    truth = json.loads(members["metrics.json"]) if "metrics.json" in members else None
    require(truth is not None, f"job {job_name}'s output.tar.gz has no metrics.json: is it the "
            "lesson's digits job?")
    require(set(metrics) == set(truth), f"keys {sorted(metrics)}; metrics.json has {sorted(truth)}.")
    require(metrics == truth, "the values differ from this job's metrics.json: same job? "
            "Read the whole file, every epoch.")
    return f"{len(truth['accuracy'])} epochs of metrics, straight from output.tar.gz."


def _accuracy(model, accuracy):
    import numpy as np
    from ..course_data import local_path
    require(hasattr(model, "predict"), "pass the Keras model you loaded from model.tar.gz.")
    rows = np.loadtxt(local_path("csv/validation.csv"), delimiter=",", skiprows=1)
    truth = float((model.predict(rows[:, 1:] / 16.0, verbose=0).argmax(axis=1) == rows[:, 0]).mean())
    require(isinstance(accuracy, float), "give the accuracy as a float between 0 and 1.")
    require(abs(accuracy - truth) < 1e-6, f"{accuracy:.4f} is not what this model scores on all "
            f"{len(rows)} rows of validation.csv (the first ten are not enough): scale pixels by "
            "1/16 and compare argmax to the label column.")
    return f"{truth:.3f} on the 359 validation digits."


q1 = Exercise("metrics from output.tar.gz", _metrics,
              "download(sess, uri, folder) then extract(archive, folder); json.load the file.",
              "archive = sm_tutorial.download(sess, output_uri, 'results')\n"
              "sm_tutorial.extract(archive, 'results/output')\n"
              "metrics = json.load(open('results/output/metrics.json'))")
q2 = Exercise("score the model", _accuracy,
              "pixels / 16.0 as input; predictions.argmax(axis=1) == labels; take the mean.",
              "rows = np.loadtxt(sm_tutorial.local_path('csv/validation.csv'), delimiter=',', skiprows=1)\n"
              "accuracy = float((model.predict(rows[:, 1:] / 16.0, verbose=0).argmax(axis=1) == rows[:, 0]).mean())")
