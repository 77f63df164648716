"""Issue 14 part 2, tuning: HyperparameterTuner against the simulator, trials that are real
training jobs, metric definitions on trials and plain jobs, and the tuning bad inputs."""
import json
import os
import re
import subprocess
import sys
import time
import uuid

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
args, extra = p.parse_known_args()  # tuning adds --_tuning_objective_metric, as on AWS
print("extra:", " ".join(extra))
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
    """A tuner over SCRIPT; its job name is unique (the SDK's own names are unique per minute)."""
    est = estimator(sess, source(SCRIPT), metric_definitions=metrics)
    t = HyperparameterTuner(est, objective_metric_name=kwargs.pop("objective", "loss"),
                               hyperparameter_ranges=ranges, metric_definitions=metrics,
                               objective_type=kwargs.pop("objective_type", "Minimize"),
                               base_tuning_job_name="tune", **kwargs)
    fit = t.fit
    t.fit = lambda **kw: fit(job_name=f"tune-{uuid.uuid4().hex[:8]}", **kw)
    return t


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


@pytest.fixture(scope="module")
def done(sess, tmp_path_factory):
    """The issue's "done when" tuning job: 4 Random trials, 2 in parallel (run once)."""
    folder = tmp_path_factory.mktemp("src")
    (folder / "train.py").write_text(SCRIPT)
    t = tuner(sess, lambda script: str(folder), {"lr": ContinuousParameter(0.0, 1.0)},
              strategy="Random", max_jobs=4, max_parallel_jobs=2, random_seed=7)
    t.fit(wait=True)
    return t


def test_random_tuning_picks_the_trial_with_the_best_logged_metric(sess, done):
    """4 Random trials, 2 in parallel; the best one is the trial whose log has the lowest
    final loss, and analytics() has 4 rows."""
    t = done
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
    logs = sm_tutorial.job_logs(sess, best)  # the toolkit passes AWS's added hyperparameter on
    extra, = [line for line in logs.splitlines() if line.startswith("extra:")]
    assert "--_tuning_objective_metric loss " in extra
    frame = t.analytics().dataframe()
    assert len(frame) == 4
    assert set(frame["TrainingJobName"]) == set(losses)
    assert frame.set_index("TrainingJobName")["FinalObjectiveValue"][best] == pytest.approx(losses[best])


def trials_of(sess, name, **kwargs):
    return sess.sagemaker_client.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, **kwargs)


def test_list_training_jobs_for_tuning_job_sorts_filters_and_pages_as_aws(sess, done):
    name = done.latest_tuning_job.name
    everything = trials_of(sess, name)["TrainingJobSummaries"]
    assert [t["TrainingJobName"] for t in everything] == sorted(t["TrainingJobName"] for t in everything)
    values = lambda page: [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
                           for t in page["TrainingJobSummaries"]]
    up = values(trials_of(sess, name, SortBy="FinalObjectiveMetricValue"))
    down = values(trials_of(sess, name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"))
    assert up == sorted(up) and down == sorted(up, reverse=True) and len(up) == 4
    assert trials_of(sess, name, StatusEquals="Completed")["TrainingJobSummaries"] == everything
    assert trials_of(sess, name, StatusEquals="Failed")["TrainingJobSummaries"] == []
    seen, token = [], None
    while True:  # one per page, following NextToken
        page = trials_of(sess, name, MaxResults=1, SortBy="CreationTime",
                         **({"NextToken": token} if token else {}))
        seen += [t["TrainingJobName"] for t in page["TrainingJobSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [t["TrainingJobName"] for t in sorted(everything, key=lambda t: t["CreationTime"])]
    paginator = sess.sagemaker_client.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    pages = list(paginator.paginate(HyperParameterTuningJobName=name, PaginationConfig={"PageSize": 3}))
    assert [len(p["TrainingJobSummaries"]) for p in pages] == [3, 1]
    with pytest.raises(ClientError) as raised:
        trials_of(sess, name, NextToken="garbage")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        trials_of(sess, name, SortBy="Loss")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "FinalObjectiveMetricValue" in str(raised.value)


def test_list_and_attach_tuning_jobs(sess, done):
    name = done.latest_tuning_job.name
    listed = sess.sagemaker_client.list_hyper_parameter_tuning_jobs(NameContains=name)
    summary, = listed["HyperParameterTuningJobSummaries"]
    assert summary["HyperParameterTuningJobStatus"] == "Completed"
    assert summary["Strategy"] == "Random"
    assert summary["TrainingJobStatusCounters"]["Completed"] == 4
    assert summary["ResourceLimits"]["MaxParallelTrainingJobs"] == 2
    assert not sess.sagemaker_client.list_hyper_parameter_tuning_jobs(
        NameContains=name, StatusEquals="InProgress")["HyperParameterTuningJobSummaries"]
    again = HyperparameterTuner.attach(name, sagemaker_session=sess)  # reads the description back
    assert again.best_training_job() == done.best_training_job()
    assert again.objective_metric_name == "loss"


def test_aws_cli_lists_a_tuning_jobs_trials(sess, done):
    """The AWS CLI, another process, paging with its own --page-size (the simulator's tokens)."""
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    name = done.latest_tuning_job.name
    run = subprocess.run([aws, "--endpoint-url", os.environ["AWS_ENDPOINT_URL"], "sagemaker",
                          "list-training-jobs-for-hyper-parameter-tuning-job",
                          "--hyper-parameter-tuning-job-name", name, "--sort-by",
                          "FinalObjectiveMetricValue", "--page-size", "1", "--output", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    listed = json.loads(run.stdout)["TrainingJobSummaries"]
    assert len(listed) == 4
    assert listed[0]["TrainingJobName"] == done.best_training_job()


def test_tuning_jobs_survive_an_endpoint_restart(sess, endpoint, done):
    from sm_tutorial.platform.tuning_service import TuningService
    name = done.latest_tuning_job.name
    before = endpoint.service.tuning.describe_hyper_parameter_tuning_job(
        {"HyperParameterTuningJobName": name})
    restored = TuningService(endpoint.service)  # reads <workspace>/tuning as a new endpoint does
    after = restored.describe_hyper_parameter_tuning_job({"HyperParameterTuningJobName": name})
    assert after["BestTrainingJob"] == before["BestTrainingJob"]
    assert after["HyperParameterTuningJobStatus"] == "Completed"
    assert len(restored.list_training_jobs_for_hyper_parameter_tuning_job(
        {"HyperParameterTuningJobName": name})["TrainingJobSummaries"]) == 4


def test_grid_runs_every_categorical_combination_once(sess, source):
    t = tuner(sess, source, {"optimizer": CategoricalParameter(["sgd", "adam"]),
                             "layers": CategoricalParameter([1, 2, 3])},
              strategy="Grid", max_jobs=6, max_parallel_jobs=3)  # the SDK sends max_jobs=None as null
    t.fit(wait=True)
    name = t.latest_tuning_job.name
    d = sess.sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert d["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 6
    trials = trials_of(sess, name)["TrainingJobSummaries"]
    combos = sorted((t["TunedHyperParameters"]["optimizer"], t["TunedHyperParameters"]["layers"])
                    for t in trials)
    assert combos == sorted((o, l) for o in ('"sgd"', '"adam"') for l in ('"1"', '"2"', '"3"'))
    assert d["BestTrainingJob"]["TunedHyperParameters"] == {"optimizer": '"adam"', "layers": '"1"'}


def test_bayesian_uses_optunas_tpe_within_the_ranges(sess, source):
    t = tuner(sess, source, {"lr": ContinuousParameter(0.001, 1.0, scaling_type="Logarithmic"),
                             "layers": IntegerParameter(1, 4),
                             "optimizer": CategoricalParameter(["sgd", "adam"])},
              strategy="Bayesian", max_jobs=5, max_parallel_jobs=2, random_seed=3)
    t.fit(wait=True)
    name = t.latest_tuning_job.name
    trials = trials_of(sess, name)["TrainingJobSummaries"]
    assert len(trials) == 5
    for trial in trials:
        hp = trial["TunedHyperParameters"]
        assert 0.001 <= float(hp["lr"]) <= 1.0
        assert hp["layers"] in ("1", "2", "3", "4")
        assert hp["optimizer"] in ('"sgd"', '"adam"')
        assert trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == \
            pytest.approx(expected_loss(hp), abs=1e-6)
    best = min(trials, key=lambda t: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    assert t.best_training_job() == best["TrainingJobName"]


def test_scaling_types_and_seeds():
    import math
    from sm_tutorial.platform import strategies
    space = strategies.Space({
        "ContinuousParameterRanges": [
            {"Name": "log", "MinValue": "0.0001", "MaxValue": "1", "ScalingType": "Logarithmic"},
            {"Name": "rev", "MinValue": "0.9", "MaxValue": "0.9999", "ScalingType": "ReverseLogarithmic"}],
        "IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "3"}]})
    draws = [strategies.RandomSearch(space, seed).ask() for seed in range(400)]
    logs = sorted(float(d["log"]) for d in draws)
    assert 0.0001 <= logs[0] and logs[-1] <= 1
    assert 0.003 < logs[200] < 0.03  # the median of a log-uniform draw is near sqrt(1e-4 * 1) = 0.01
    revs = sorted(float(d["rev"]) for d in draws)
    assert 0.9 <= revs[0] and revs[-1] <= 0.9999 and revs[200] > 0.99  # crowded towards 1
    assert {d["n"] for d in draws} == {"1", "2", "3"}
    assert strategies.RandomSearch(space, 5).ask() == strategies.RandomSearch(space, 5).ask()
    assert math.isclose(float(draws[0]["log"]), float(strategies.RandomSearch(space, 0).ask()["log"]))


def raw_request(sess, name, **config):
    """A CreateHyperParameterTuningJob request as boto3 sends it, from a plain definition."""
    config = {"Strategy": "Random",
              "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
              "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
              "ParameterRanges": {"ContinuousParameterRanges": [
                  {"Name": "lr", "MinValue": "0", "MaxValue": "1"}]}, **config}
    return {"HyperParameterTuningJobName": name, "HyperParameterTuningJobConfig": config,
            "TrainingJobDefinition": {
                "AlgorithmSpecification": {"TrainingImage": "763104351884.dkr.ecr.us-east-1."
                                           "amazonaws.com/tensorflow-training:2.16-cpu-py310",
                                           "TrainingInputMode": "File", "MetricDefinitions": METRICS},
                "RoleArn": sm_tutorial.role(), "StaticHyperParameters": {},
                "OutputDataConfig": {"S3OutputPath": f"s3://{sess.default_bucket()}/tuning"},
                "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1,
                                   "VolumeSizeInGB": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 60}}}


def refused(sess, request):
    client = sess.sagemaker_client
    with pytest.raises(ClientError) as raised:
        client.create_hyper_parameter_tuning_job(**request)
    name = request["HyperParameterTuningJobName"]
    assert not client.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert not client.list_training_jobs(NameContains=name)["TrainingJobSummaries"]
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_more_parallel_jobs_than_jobs_is_refused(sess, source):
    code, message = refused(sess, raw_request(sess, "too-parallel", ResourceLimits={
        "MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 3}))
    assert code == "ValidationException"
    assert "MaxParallelTrainingJobs (3) cannot be greater than MaxNumberOfTrainingJobs (2)" in message
    assert "max_parallel_jobs" in message
    t = tuner(sess, source, {"lr": ContinuousParameter(0.0, 1.0)}, max_jobs=1, max_parallel_jobs=2)
    with pytest.raises(ClientError, match="max_parallel_jobs"):  # the SDK's way, same answer
        t.fit(wait=False)


@pytest.mark.parametrize("config, words", [
    ({"Strategy": "Grid"}, ["Grid strategy supports only categorical", "CategoricalParameter"]),
    ({"Strategy": "Grid", "ParameterRanges": {"CategoricalParameterRanges": [
        {"Name": "o", "Values": ["a", "b", "c"]}]}}, ["must equal", "combinations", "3", "max_jobs"]),
    ({"Strategy": "Hyperband"}, ["Hyperband", "Bayesian"]),
    ({"ParameterRanges": {"IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "1"}]}},
     ["enough combinations", "[1.0]", "[2]"]),
    ({"ParameterRanges": {"ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]}},
     ["Logarithmic", "greater than 0"]),
    ({"HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "val_loss"}},
     ["val_loss", "metric_definitions"]),
])
def test_configs_aws_refuses(sess, config, words):
    code, message = refused(sess, raw_request(sess, "refused", **config))
    assert code == "ValidationException"
    for word in words:
        assert word in message


def test_a_metric_regex_that_never_matches(sess, source):
    """Trials complete but report no objective: each one's ObjectiveStatus is Failed with a
    reason naming the regex and the fix, and the tuning job fails saying so."""
    from sagemaker.exceptions import UnexpectedStatusException
    metrics = [{"Name": "loss", "Regex": r"val_loss=([0-9.]+)"}]
    t = tuner(sess, source, {"lr": ContinuousParameter(0.0, 1.0)}, metrics=metrics,
              strategy="Random", max_jobs=2, max_parallel_jobs=2)
    with pytest.raises(UnexpectedStatusException) as raised:
        t.fit(wait=True)
    assert "val_loss=([0-9.]+)" in str(raised.value)
    name = t.latest_tuning_job.name
    d = sess.sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert d["HyperParameterTuningJobStatus"] == "Failed"
    assert "No training job reported the objective metric" in d["FailureReason"]
    assert "BestTrainingJob" not in d
    assert d["ObjectiveStatusCounters"] == {"Succeeded": 0, "Pending": 0, "Failed": 2}
    assert d["TrainingJobStatusCounters"]["Completed"] == 2
    for trial in trials_of(sess, name)["TrainingJobSummaries"]:
        assert trial["TrainingJobStatus"] == "Completed" and trial["ObjectiveStatus"] == "Failed"
        assert "val_loss=([0-9.]+)" in trial["FailureReason"] and "re.search" in trial["FailureReason"]
        assert "FinalHyperParameterTuningJobObjectiveMetric" not in trial


SLOW = SCRIPT + "\nimport time\ntime.sleep(float(__import__('os').environ.get('SM_HP_SLEEP', '0')))\n"


def test_stop_tuning_job_stops_running_trials(sess, source):
    est = estimator(sess, source(SLOW), {"sleep": 60}, metric_definitions=METRICS)
    t = HyperparameterTuner(est, "loss", {"lr": ContinuousParameter(0.0, 1.0)}, METRICS,
                            objective_type="Minimize", strategy="Random", max_jobs=4,
                            max_parallel_jobs=2)
    t.fit(job_name=f"stop-{uuid.uuid4().hex[:8]}", wait=False)
    name, client = t.latest_tuning_job.name, sess.sagemaker_client
    deadline = time.time() + 60
    while True:  # both parallel trials running their script
        trials = trials_of(sess, name)["TrainingJobSummaries"]
        if len(trials) == 2 and all(client.describe_training_job(TrainingJobName=t["TrainingJobName"])
                                    ["SecondaryStatus"] == "Training" for t in trials):
            break
        assert time.time() < deadline, trials
        time.sleep(0.1)
    started = time.time()
    t.stop_tuning_job()
    assert client.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name)["HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
    t.wait()  # returns on Stopped (the SDK allows it)
    d = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert d["HyperParameterTuningJobStatus"] == "Stopped"
    assert time.time() - started < 30  # not the trials' 60 s
    trials = trials_of(sess, name)["TrainingJobSummaries"]
    assert len(trials) == 2  # no trial launched after the stop
    assert {t["TrainingJobStatus"] for t in trials} == {"Stopped"}
    assert d["TrainingJobStatusCounters"]["Stopped"] == 2
    with pytest.raises(ClientError, match="Only a tuning job that is InProgress"):
        client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def test_metric_definitions_on_a_plain_training_job(sess, source):
    """Estimator(metric_definitions=...): FinalMetricDataList, CloudWatch metrics and the SDK's
    training_job_analytics."""
    est = estimator(sess, source(SCRIPT), {"lr": 0.5}, metric_definitions=METRICS)
    est.fit(logs=False)
    d = est.latest_training_job.describe()
    assert "TuningJobArn" not in d
    final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert final == {"loss": pytest.approx(0.15), "accuracy": pytest.approx(0.85)}
    frame = est.training_job_analytics.dataframe()
    assert set(frame["metric_name"]) == {"loss", "accuracy"}
    # CloudWatch's Average over the SDK's 60 s period: both loss lines fall in one period
    values = dict(zip(frame["metric_name"], frame["value"]))
    assert values == {"loss": pytest.approx((9.0 + 0.15) / 2), "accuracy": pytest.approx(0.85)}
    cloudwatch = boto3.client("cloudwatch", endpoint_url=sm_tutorial.endpoint_url(),
                              region_name="us-east-1")
    hosts = cloudwatch.list_metrics(Namespace="/aws/sagemaker/TrainingJobs", MetricName="loss",
                                    Dimensions=[{"Name": "Host", "Value": f"{d['TrainingJobName']}/algo-1"}])
    assert len(hosts["Metrics"]) == 1


def test_a_job_without_metric_definitions_has_no_final_metrics(sess, source):
    est = estimator(sess, source(SCRIPT))
    est.fit(logs=False)
    assert "FinalMetricDataList" not in est.latest_training_job.describe()


def test_a_failing_trial_counts_and_the_others_still_win(sess, source):
    """A trial whose script fails: NonRetryableError and ObjectiveStatus Failed; the tuning job
    completes with the best of the others."""
    est = estimator(sess, source(SCRIPT.replace(
        'print("epoch 1', 'assert args.optimizer != "sgd", "sgd diverged"\nprint("epoch 1')),
        metric_definitions=METRICS)
    t = HyperparameterTuner(est, "loss", {"optimizer": CategoricalParameter(["sgd", "adam"])},
                            METRICS, objective_type="Minimize", strategy="Grid", max_jobs=2,
                            max_parallel_jobs=2)
    t.fit(job_name=f"fail-{uuid.uuid4().hex[:8]}", wait=True)
    name = t.latest_tuning_job.name
    d = sess.sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert d["HyperParameterTuningJobStatus"] == "Completed"
    assert d["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    assert d["TrainingJobStatusCounters"]["Completed"] == 1
    assert d["ObjectiveStatusCounters"] == {"Succeeded": 1, "Pending": 0, "Failed": 1}
    assert d["BestTrainingJob"]["TunedHyperParameters"] == {"optimizer": '"adam"'}
    failed, = trials_of(sess, name, StatusEquals="Failed")["TrainingJobSummaries"]
    assert "sgd diverged" in failed["FailureReason"] and failed["ObjectiveStatus"] == "Failed"


def test_bayesian_learns_from_the_trials_it_is_told():
    """optuna's TPE, as the tuning job drives it (ask, then tell): once its random start-up
    trials are told, it samples near the best region (seeded: the same draws every run)."""
    from sm_tutorial.platform import strategies
    config = {"Strategy": "Bayesian", "RandomSeed": 1,
              "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
              "ParameterRanges": {"ContinuousParameterRanges": [
                  {"Name": "lr", "MinValue": "0", "MaxValue": "1"}]}}
    search = strategies.make(config)
    assert type(search).__name__ == "BayesianSearch"
    distances = []
    for _ in range(30):
        values = search.ask()
        distances.append(abs(float(values["lr"]) - 0.3))
        search.tell(values, distances[-1] ** 2)
    assert sum(distances[-10:]) / 10 < sum(distances[:3]) / 3  # closer than its random start
    assert min(distances) < 0.02
    random_search = strategies.make({**config, "Strategy": "Random"})
    random_distances = [abs(float(random_search.ask()["lr"]) - 0.3) for _ in range(30)]
    assert sum(distances[-10:]) < sum(random_distances[-10:])


def test_a_tuning_job_running_when_its_endpoint_died_is_failed(endpoint, tmp_path):
    from sm_tutorial.platform.tuning import TuningJob
    folder = tmp_path / "tuning" / "orphan"
    folder.mkdir(parents=True)
    request = raw_request(type("S", (), {"default_bucket": lambda self: "b"})(), "orphan")
    TuningJob(request, "us-east-1", folder)  # InProgress on disk, no thread runs it
    restored = TuningJob.restore(folder, "us-east-1")
    d = restored.describe()
    assert d["HyperParameterTuningJobStatus"] == "Failed"
    assert "stopped" in d["FailureReason"] and "Run the tuning job again" in d["FailureReason"]


def test_target_objective_value_ends_the_tuning_job_early(sess, source):
    """TuningJobCompletionCriteria.TargetObjectiveMetricValue: once a trial reaches it, no
    more trials are launched and the tuning job completes."""
    from sagemaker.tuner import TuningJobCompletionCriteriaConfig
    t = tuner(sess, source, {"lr": ContinuousParameter(0.0, 1.0)}, strategy="Random",
              max_jobs=3, max_parallel_jobs=1,
              completion_criteria_config=TuningJobCompletionCriteriaConfig(
                  target_objective_metric_value=10.0))  # every trial's loss is below it
    t.fit(wait=True)
    name = t.latest_tuning_job.name
    d = sess.sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert d["HyperParameterTuningJobStatus"] == "Completed"
    assert len(trials_of(sess, name)["TrainingJobSummaries"]) == 1


def test_a_tuning_job_another_live_endpoint_runs_is_left_alone(tmp_path):
    import subprocess as sp
    from sm_tutorial.platform.job import RunningElsewhere
    from sm_tutorial.platform.tuning import TuningJob
    folder = tmp_path / "tuning" / "elsewhere"
    folder.mkdir(parents=True)
    request = raw_request(type("S", (), {"default_bucket": lambda self: "b"})(), "elsewhere")
    TuningJob(request, "us-east-1", folder)
    other = sp.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        state = json.loads((folder / "state.json").read_text())
        (folder / "state.json").write_text(json.dumps({**state, "owner": other.pid}))
        with pytest.raises(RunningElsewhere):
            TuningJob.restore(folder, "us-east-1")
        assert json.loads((folder / "state.json").read_text())["state"][
            "HyperParameterTuningJobStatus"] == "InProgress"  # untouched on disk
    finally:
        other.kill()
        other.wait()


WAITS = SCRIPT + ("\nimport os, time\nwhile not os.path.exists(os.environ['SM_HP_FLAG']):\n"
                  "    time.sleep(0.05)\n")


def test_tuning_job_tags_reach_its_trials_and_delete_keeps_the_trials(sess, source, tmp_path):
    """Tags given at create go to every trial; tags added later to the trials launched after
    (AWS's AddTags note); DeleteHyperParameterTuningJob refuses a running job, then removes
    the tuning job's entry only: its trials stay."""
    flag = tmp_path / "go"  # the first trial waits for it: the second one starts after AddTags
    est = estimator(sess, source(WAITS), {"flag": str(flag)}, metric_definitions=METRICS)
    t = HyperparameterTuner(est, "loss", {"lr": ContinuousParameter(0.0, 1.0)}, METRICS,
                            objective_type="Minimize", strategy="Random", max_jobs=2,
                            max_parallel_jobs=1, tags=[{"Key": "team", "Value": "vision"}])
    t.fit(job_name=f"tags-{uuid.uuid4().hex[:8]}", wait=False)
    name, client = t.latest_tuning_job.name, sess.sagemaker_client
    arn = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["HyperParameterTuningJobArn"]
    assert {"Key": "team", "Value": "vision"} in client.list_tags(ResourceArn=arn)["Tags"]
    deadline = time.time() + 60
    while not trials_of(sess, name)["TrainingJobSummaries"]:  # the first trial is launched
        assert time.time() < deadline, "no trial launched"
        time.sleep(0.05)
    client.add_tags(ResourceArn=arn, Tags=[{"Key": "late", "Value": "1"}])
    client.delete_tags(ResourceArn=arn, TagKeys=["not-there"])  # no error, as on AWS
    with pytest.raises(ClientError, match="Only a tuning job that has ended can be deleted"):
        client.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    flag.write_text("go")
    t.wait()
    trials = sorted(trials_of(sess, name)["TrainingJobSummaries"], key=lambda s: s["CreationTime"])
    first, second = (client.list_tags(ResourceArn=s["TrainingJobArn"])["Tags"] for s in trials)
    assert {"Key": "team", "Value": "vision"} in first and "late" not in {t["Key"] for t in first}
    assert {"Key": "team", "Value": "vision"} in second and {"Key": "late", "Value": "1"} in second
    assert {"Key": "late", "Value": "1"} in client.list_tags(ResourceArn=arn)["Tags"]

    client.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    with pytest.raises(ClientError, match="can't find a tuning job"):
        client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert not client.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    for s in trials:  # "It does not delete training jobs, artifacts, or the IAM role"
        assert client.describe_training_job(TrainingJobName=s["TrainingJobName"])["TrainingJobStatus"] == "Completed"
