"""Issue 14 part 2, tuning: HyperparameterTuner against the simulator, trials that are real
training jobs, metric definitions on trials and plain jobs, and the tuning bad inputs."""
import re
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from sagemaker.tuner import (CategoricalParameter, ContinuousParameter, HyperparameterTuner,
                             IntegerParameter)

import sm_tutorial
from conftest import estimator

# A trial that takes no time: its loss is computed from its hyperparameters. The first line
# prints a worse loss, so only "the last match is the final value" picks the right one.
SCRIPT = """
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.5)
p.add_argument("--layers", type=int, default=1)
p.add_argument("--optimizer", default="sgd")
args, _ = p.parse_known_args()  # tuning adds --_tuning_objective_metric, as on AWS
loss = (args.lr - 0.3) ** 2 + 0.01 * args.layers + (0.1 if args.optimizer == "sgd" else 0.0)
print("epoch 1 loss: 9.0")
print(f"loss: {loss:.6f}")
print(f"accuracy: {1 - loss:.6f}")
"""
METRICS = [{"Name": "loss", "Regex": r"loss: ([0-9.]+)"},
           {"Name": "accuracy", "Regex": r"accuracy: ([0-9.]+)"}]


def expected_loss(hyperparameters):
    x = float(hyperparameters.get("lr", 0.5))
    layers = int(hyperparameters.get("layers", 1))
    optimizer = hyperparameters.get("optimizer", '"sgd"').strip('"')
    return (x - 0.3) ** 2 + 0.01 * layers + (0.1 if optimizer == "sgd" else 0.0)


def tuner(sess, source, ranges, metrics=METRICS, **kwargs):
    est = estimator(sess, source(SCRIPT), metric_definitions=metrics)
    return HyperparameterTuner(est, objective_metric_name=kwargs.pop("objective", "loss"),
                               hyperparameter_ranges=ranges, metric_definitions=metrics,
                               objective_type=kwargs.pop("objective_type", "Minimize"),
                               base_tuning_job_name="tune", **kwargs)


def max_overlap(summaries):
    """The most trials that were training at one moment."""
    events = sorted([(s["TrainingStartTime"].timestamp(), 1) for s in summaries] +
                    [(s["TrainingEndTime"].timestamp(), -1) for s in summaries],
                    key=lambda e: (e[0], e[1]))
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_random_tuning_picks_the_trial_with_the_best_logged_metric(sess, source):
    """The issue's "done when": 4 Random trials, 2 in parallel; the best one is the trial whose
    log has the lowest final loss, and analytics() has 4 rows."""
    t = tuner(sess, source, {"lr": ContinuousParameter(0.0, 1.0)}, strategy="Random",
              max_jobs=4, max_parallel_jobs=2, random_seed=7)
    t.fit(wait=True)
    name = t.latest_tuning_job.name
    assert len(name) <= 32
    client = sess.sagemaker_client
    d = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert d["HyperParameterTuningJobStatus"] == "Completed"
    assert d["TrainingJobStatusCounters"]["Completed"] == 4
    assert d["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    trials = client.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100)["TrainingJobSummaries"]
    assert len(trials) == 4
    losses = {}
    for trial in trials:
        assert re.fullmatch(re.escape(name) + r"-00[1-4]-[0-9a-f]{8}", trial["TrainingJobName"])
        job = client.describe_training_job(TrainingJobName=trial["TrainingJobName"])
        assert job["TuningJobArn"] == d["HyperParameterTuningJobArn"]
        assert job["HyperParameters"]["lr"] == trial["TunedHyperParameters"]["lr"]
        assert job["HyperParameters"]["_tuning_objective_metric"] == '"loss"'
        final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        want = expected_loss(trial["TunedHyperParameters"])
        assert final["loss"] == pytest.approx(want, abs=1e-6)  # the last match, not 9.0
        assert trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == final["loss"]
        assert trial["ObjectiveStatus"] == "Succeeded"
        losses[trial["TrainingJobName"]] = want
    assert len(set(losses.values())) == 4  # four different draws
    best = min(losses, key=losses.get)
    assert t.best_training_job() == best
    assert d["BestTrainingJob"]["TrainingJobName"] == best
    assert max_overlap(trials) <= 2
    frame = t.analytics().dataframe()
    assert len(frame) == 4
    assert set(frame["TrainingJobName"]) == set(losses)
    assert frame.set_index("TrainingJobName")["FinalObjectiveValue"][best] == pytest.approx(losses[best])
