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


# -- defect 8: AWS's limits and filters ----------------------------------------------------
def test_more_than_20_channels_are_refused(raw):
    code, message = refused(create, raw=raw, name="many-channels",
                            InputDataConfig=[channel(f"c{i}") for i in range(21)])
    assert code == "ValidationException" and "'inputDataConfig'" in message
    assert "less than or equal to 20" in message


def test_more_than_50_tags_and_duplicate_keys_are_refused(raw):
    code, message = refused(create, raw=raw, name="many-tags",
                            Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert code == "ValidationException" and "less than or equal to 50" in message
    code, message = refused(create, raw=raw, name="twin-tags",
                            Tags=[{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}])
    assert code == "ValidationException" and "team" in message and "unique" in message
    for name in ("many-tags", "twin-tags"):
        assert refused(raw.describe_training_job, TrainingJobName=name)[0] == "ValidationException"


def test_add_tags_keeps_to_aws_limits(raw):
    arn = create(raw, "tag-limits")["TrainingJobArn"]
    raw.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(40)])
    code, message = refused(raw.add_tags, ResourceArn=arn,
                            Tags=[{"Key": f"n{i}", "Value": "v"} for i in range(11)])
    assert code == "ValidationException" and "50" in message
    code, _ = refused(raw.add_tags, ResourceArn=arn,
                      Tags=[{"Key": "x", "Value": "1"}, {"Key": "x", "Value": "2"}])
    assert code == "ValidationException"
    assert len(raw.list_tags(ResourceArn=arn)["Tags"]) == 40  # nothing half-applied


@pytest.mark.parametrize("change,words", [
    ({"MaxResults": 0}, ["'maxResults'", "greater than or equal to 1"]),
    ({"MaxResults": 1000}, ["'maxResults'", "less than or equal to 100"]),
    ({"SortBy": "Bogus"}, ["'sortBy'", "Name, CreationTime, Status"]),
    ({"StatusEquals": "Bogus"}, ["'statusEquals'", "InProgress"]),
    ({"SortOrder": "Sideways"}, ["'sortOrder'", "Ascending"]),
])
def test_list_training_jobs_refuses_what_aws_refuses(raw, change, words):
    code, message = refused(raw.list_training_jobs, **change)
    assert code == "ValidationException"
    for word in words:
        assert word in message, message


def names(page):
    return [s["TrainingJobName"] for s in page["TrainingJobSummaries"]]


def ended(raw, name):
    import time
    deadline = time.time() + 30
    while (d := raw.describe_training_job(TrainingJobName=name))["TrainingJobStatus"] == "InProgress":
        assert time.time() < deadline, d
        time.sleep(0.05)  # polling the API, as a client must
    return d


def test_list_training_jobs_honours_last_modified_time(raw):
    first = ended(raw, create(raw, "lmt-probe-a")["TrainingJobArn"].rsplit("/", 1)[1])
    second = ended(raw, create(raw, "lmt-probe-b")["TrainingJobArn"].rsplit("/", 1)[1])
    assert second["LastModifiedTime"] > first["LastModifiedTime"]
    between = first["LastModifiedTime"]
    after = raw.list_training_jobs(NameContains="lmt-probe", LastModifiedTimeAfter=between)
    before = raw.list_training_jobs(NameContains="lmt-probe", LastModifiedTimeBefore=between)
    assert names(after) == ["lmt-probe-b"]
    assert names(before) == []  # strictly before: a's own time is not before itself
    both = raw.list_training_jobs(NameContains="lmt-probe",
                                  LastModifiedTimeBefore=second["LastModifiedTime"])
    assert names(both) == ["lmt-probe-a"]


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
@pytest.mark.parametrize("sort_by", ["CreationTime", "Name"])
def test_a_job_created_between_pages_is_not_listed_twice(raw, sort_by, order):
    prefix = f"pages-{sort_by[:4].lower()}-{order[:3].lower()}"
    for i in (1, 3, 5):
        create(raw, f"{prefix}-{i}")
    first = raw.list_training_jobs(NameContains=prefix, MaxResults=2, SortBy=sort_by, SortOrder=order)
    create(raw, f"{prefix}-0")  # sorts first by name, last by creation time
    rest = []
    token = first.get("NextToken")
    while token:
        page = raw.list_training_jobs(NameContains=prefix, MaxResults=2, SortBy=sort_by,
                                      SortOrder=order, NextToken=token)
        rest += names(page)
        token = page.get("NextToken")
    seen = names(first) + rest
    assert len(seen) == len(set(seen)), seen
    assert {f"{prefix}-{i}" for i in (1, 3, 5)} <= set(seen)


# -- defect 9: bad requests answered 400, as AWS answers them ---------------------------------
def post(target, body: bytes, signed=False):
    """POST one JSON 1.1 request to the endpoint; returns (HTTP status, parsed JSON or text)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = os.environ["AWS_ENDPOINT_URL"]
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    if signed:
        request = AWSRequest("POST", url + "/", data=body, headers=headers)
        SigV4Auth(Credentials("testing", "testing", "testing"), "sagemaker", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/", body, headers), timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@pytest.mark.parametrize("body,code", [
    (b"[]", "SerializationException"),
    (b'"x"', "SerializationException"),
    (b"{not json", "SerializationException"),
    (b'{"NextToken": "garbage"}', "ValidationException"),
    (b'{"NextToken": 5}', "SerializationException"),
    (b'{"CreationTimeAfter": "yesterday"}', "SerializationException"),
    (b'{"MaxResults": "ten"}', "SerializationException"),
], ids=["list", "string", "not-json", "garbage-token", "number-token", "yesterday", "ten"])
def test_bad_list_bodies_get_400_with_aws_types(sess, body, code):
    status, answer = post("SageMaker.ListTrainingJobs", body)
    assert status == 400, answer
    assert answer["__type"] == code
    assert "Error(" not in answer["message"] and "Traceback" not in answer["message"]


def test_a_forged_token_of_the_wrong_kind_is_refused(sess):
    import base64
    forged = base64.urlsafe_b64encode(json.dumps(["not-a-time", "x"]).encode()).decode()
    status, answer = post("SageMaker.ListTrainingJobs", json.dumps({"NextToken": forged}).encode())
    assert status == 400 and answer["__type"] == "ValidationException"
    assert "NextToken" in answer["message"]


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_unknown_sagemaker_operation(sess, signed):
    status, answer = post("SageMaker.NoSuchThing", b"{}", signed=signed)
    assert status == 400, answer
    assert answer["__type"] == "UnknownOperationException"
    assert "NoSuchThing" in answer["message"]


def test_add_tags_that_are_not_a_list(raw, sess):
    arn = create(raw, "tags-not-a-list", Tags=[{"Key": "team", "Value": "a"}])["TrainingJobArn"]
    for tags in ("oops", ["oops"], [{"Key": "k", "Value": 5}]):
        status, answer = post("SageMaker.AddTags", json.dumps({"ResourceArn": arn, "Tags": tags}).encode())
        assert status == 400 and answer["__type"] == "SerializationException", answer
        assert "'tags" in answer["message"]
    assert sess.sagemaker_client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]


@pytest.mark.parametrize("hyperparameters,words", [
    ({"a=b": "1"}, ["SM_HP_A=B", "'='", "Rename"]),
    ({"text": "x\x00y"}, ["SM_HP_TEXT", "NUL", "Remove"]),
], ids=["key-with-equals", "value-with-nul"])
def test_hyperparameters_no_process_can_carry(sess, source, hyperparameters, words):
    """AWS's model allows any key and value (pattern '.*'), so AWS accepts the request and the
    job fails in the container, as the toolkit's would: an AlgorithmError saying what to change,
    never an InternalServerError."""
    from conftest import estimator
    from sagemaker.exceptions import UnexpectedStatusException
    est = estimator(sess, source("print('never runs')\n"), hyperparameters)
    with pytest.raises(UnexpectedStatusException):
        est.fit(logs=False)
    reason = est.latest_training_job.describe()["FailureReason"]
    assert reason.startswith("AlgorithmError") and "InternalServerError" not in reason, reason
    for word in words:
        assert word in reason, reason


def test_cli_jobs_limit_outside_aws_range(tmp_path):
    from test_cli import run
    done = run(["jobs", "--limit", "500"], tmp_path / "ws")
    assert done.returncode == 2, done.stdout + done.stderr  # argparse's usage error
    assert "1-100" in done.stderr and "Traceback" not in done.stderr
