"""CreateTrainingJob requests AWS rejects, rejected the same way, with a fix in the message."""
import copy

import pytest
from botocore.exceptions import ClientError


GOOD = {
    "TrainingJobName": "validation-probe",
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerTutorialRole",
    "AlgorithmSpecification": {"TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/"
                                                "tensorflow-training:2.16-cpu-py310",
                               "TrainingInputMode": "File"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "OutputDataConfig": {"S3OutputPath": "s3://sagemaker-us-east-1-123456789012/out"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    "HyperParameters": {"epochs": "1"},
}


def rejected(sess, **changes):
    request = copy.deepcopy(GOOD)
    for key, value in changes.items():
        request[key] = value
    with pytest.raises(ClientError) as raised:
        sess.sagemaker_client.create_training_job(**request)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_job_name_pattern(sess):
    code, message = rejected(sess, TrainingJobName="my_job")
    assert code == "ValidationException"
    assert "trainingJobName" in message and "base_job_name" in message
    code, _ = rejected(sess, TrainingJobName="x" * 64)
    assert code == "ValidationException"


def test_job_name_reuse(sess, source):
    from conftest import estimator
    est = estimator(sess, source("print(1)\n"))
    est.fit(job_name="reused-name", logs=False)
    before = est.latest_training_job.describe()
    with pytest.raises(ClientError) as raised:
        estimator(sess, source("print(2)\n")).fit(job_name="reused-name", logs=False)
    assert raised.value.response["Error"]["Code"] == "ResourceInUse"
    assert "must be unique" in raised.value.response["Error"]["Message"]
    after = sess.describe_training_job("reused-name")
    assert after["TrainingJobStatus"] == "Completed" and after["CreationTime"] == before["CreationTime"]


def test_unknown_instance_type(sess):
    code, message = rejected(sess, ResourceConfig={"InstanceType": "ml.m5.huge", "InstanceCount": 1})
    assert code == "ValidationException" and "resourceConfig.instanceType" in message
    assert "ml.m5.xlarge" in message


def test_instance_count_above_one(sess):
    code, message = rejected(sess, ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2})
    assert code == "ValidationException" and "instance_count=1" in message


def test_role_arn_shape(sess):
    code, message = rejected(sess, RoleArn="arn:aws:iam::1234:role/SageMakerRole")
    assert code == "ValidationException" and "sm_tutorial.role()" in message


def test_hyperparameter_limits(sess):
    code, message = rejected(sess, HyperParameters={f"k{i}": "1" for i in range(101)})
    assert code == "ValidationException" and "maximum is 100" in message
    code, message = rejected(sess, HyperParameters={"long": "x" * 2501})
    assert "maximum is 2500" in message
    code, message = rejected(sess, HyperParameters={"k" * 257: "1"})
    assert "maximum is 256" in message


def test_non_string_hyperparameter_is_refused_by_the_client(sess):
    from botocore.exceptions import ParamValidationError
    request = copy.deepcopy(GOOD)
    request["HyperParameters"] = {"epochs": 3}
    with pytest.raises(ParamValidationError):  # botocore refuses before anything is sent, as on AWS
        sess.sagemaker_client.create_training_job(**request)


def test_unknown_input_mode(sess):
    channel = {"ChannelName": "train", "InputMode": "Stream", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": "s3://sagemaker-us-east-1-123456789012/x"}}}
    request = copy.deepcopy(GOOD)
    request["InputDataConfig"] = [channel]
    with pytest.raises(Exception) as raised:  # botocore knows the enum and refuses first
        sess.sagemaker_client.create_training_job(**request)
    assert "Stream" in str(raised.value)


def test_checkpoint_path_must_stay_under_opt_ml(sess):
    code, message = rejected(sess, CheckpointConfig={"S3Uri": "s3://b/ckpt", "LocalPath": "/opt/ml/../../etc"})
    assert code == "ValidationException" and "under /opt/ml" in message


def test_unknown_job(sess):
    with pytest.raises(ClientError) as raised:
        sess.describe_training_job("no-such-job")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "not found" in raised.value.response["Error"]["Message"]


def test_rejections_leave_state_intact(sess):
    names = {j["TrainingJobName"] for j in
             sess.sagemaker_client.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]}
    assert "validation-probe" not in names
