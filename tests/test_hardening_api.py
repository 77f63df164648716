"""Requests AWS refuses, refused here the same way (issue 17, defects 7-9): whole-value pattern
matches, AWS's limits and filters, and bad bodies answered 400 with AWS's exception types."""
import copy
import json
import os
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_validation import GOOD


@pytest.fixture(scope="module")
def raw(sess):
    """A SageMaker client that sends what it is given: botocore's own checks (types, minimums)
    off, so the endpoint's answer is what is tested."""
    return boto3.client("sagemaker", config=Config(parameter_validation=False,
                                                   retries={"max_attempts": 0}))


def refused(call, **request):
    with pytest.raises(ClientError) as raised:
        call(**request)
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    return error["Code"], error["Message"]


def create(raw, name, **changes):
    request = copy.deepcopy(GOOD)
    request["TrainingJobName"] = name
    request.update(changes)
    return raw.create_training_job(**request)


def channel(name, uri="s3://sagemaker-us-east-1-123456789012/x"):
    return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                 "S3Uri": uri}}}


# -- defect 7: names with a trailing newline ------------------------------------------------
def test_job_name_with_a_trailing_newline_is_refused(raw, sess):
    code, message = refused(create, raw=raw, name="x\n")
    assert code == "ValidationException" and "trainingJobName" in message
    assert "base_job_name" in message
    jobs = sm_jobs_dir()
    assert not [p for p in jobs.iterdir() if "\n" in p.name] if jobs.exists() else True
    code, _ = refused(raw.describe_training_job, TrainingJobName="baseline\n")
    assert code == "ValidationException"


def test_channel_name_with_a_trailing_newline_is_refused(raw):
    code, message = refused(create, raw=raw, name="newline-channel",
                            InputDataConfig=[channel("train\n")])
    assert code == "ValidationException"
    assert "inputDataConfig.1.member.channelName" in message and "'train'" in message
    code, _ = refused(raw.describe_training_job, TrainingJobName="newline-channel")
    assert code == "ValidationException"  # nothing was created


def sm_jobs_dir():
    import sm_tutorial
    return sm_tutorial.workspace() / "jobs"
