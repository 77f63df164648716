"""The endpoint is a real AWS endpoint on loopback: other processes and the AWS CLI use it."""
import json
import os
import subprocess
import sys


from conftest import estimator


def child_env(sess):
    env = dict(os.environ)
    env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
    return env


def test_listens_on_loopback_only(endpoint):
    assert endpoint._server.socket.getsockname()[0] == "127.0.0.1"
    assert endpoint.url.startswith("http://127.0.0.1:")


def test_boto3_in_another_process_sees_the_jobs(sess, source):
    est = estimator(sess, source("print('from a job')\n"))
    est.fit(logs=False)
    code = ("import boto3, json; c = boto3.client('sagemaker'); "
            f"d = c.describe_training_job(TrainingJobName='{est.latest_training_job.name}'); "
            "print(json.dumps([d['TrainingJobStatus'], d['ModelArtifacts']['S3ModelArtifacts']]))")
    done = subprocess.run([sys.executable, "-c", code], env=child_env(sess), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["Completed", est.model_data]


def test_aws_cli_lists_training_jobs(sess, source):
    est = estimator(sess, source("print('for the cli')\n"))
    est.fit(logs=False)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    done = subprocess.run([aws, "--endpoint-url", os.environ["AWS_ENDPOINT_URL"], "sagemaker",
                           "list-training-jobs", "--name-contains", est.latest_training_job.name,
                           "--output", "json"], env=child_env(sess), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summaries = json.loads(done.stdout)["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in summaries] == [est.latest_training_job.name]
    assert summaries[0]["TrainingJobStatus"] == "Completed"


def test_aws_cli_reaches_s3_through_moto(sess, digits):
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    done = subprocess.run([aws, "s3", "ls", digits["train"] + "/"], env=child_env(sess),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "digits-train-0000-of-0004.tfrecord" in done.stdout


def test_list_training_jobs_filters_and_pages(sess, source):
    client = sess.sagemaker_client
    for i in range(3):
        estimator(sess, source(f"print({i})\n")).fit(job_name=f"page-probe-{i}", logs=False)
    first = client.list_training_jobs(NameContains="page-probe", MaxResults=2, SortBy="Name")
    assert [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == ["page-probe-0", "page-probe-1"]
    second = client.list_training_jobs(NameContains="page-probe", MaxResults=2, SortBy="Name",
                                       NextToken=first["NextToken"])
    assert [s["TrainingJobName"] for s in second["TrainingJobSummaries"]] == ["page-probe-2"]
    assert "NextToken" not in second


def test_restarted_endpoint_remembers_finished_jobs_and_fails_orphans(tmp_path):
    from sm_tutorial.platform.job import TrainingJob
    request = {"TrainingJobName": "orphan", "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
               "RoleArn": "arn:aws:iam::123456789012:role/R", "ResourceConfig": {},
               "AlgorithmSpecification": {"TrainingImage": "x"}}
    TrainingJob(request, "us-east-1", tmp_path / "orphan")  # left InProgress: its endpoint died
    restored = TrainingJob.restore(tmp_path / "orphan", "us-east-1")
    d = restored.describe()
    assert d["TrainingJobStatus"] == "Failed" and "stand-in running this job stopped" in d["FailureReason"]
    again = TrainingJob.restore(tmp_path / "orphan", "us-east-1").describe()
    assert again["TrainingJobStatus"] == "Failed"
    assert again["SecondaryStatusTransitions"] == d["SecondaryStatusTransitions"]
