"""Hosting records outlive the local AWS stand-in, as on AWS, where an endpoint keeps running
(and billing) after the kernel that made it ends: models, endpoint configurations, endpoints
and their tags come back with the next stand-in; an endpoint that was InService is InService
again and starts its container when it is next used (its model put back into the in-memory S3
from the copy kept when it first started); deleting it removes it for good. Records another
live stand-in keeps are left to it."""
import json
import os

import pytest
from botocore.exceptions import ClientError

import test_hosting
from test_hosting import _alive
from sm_tutorial.platform.endpoint import Endpoint

BUCKET = "restart-bucket"


def forget_s3(endpoint):
    """What a new stand-in's S3 holds after a kernel restart: nothing (moto keeps it in the
    process's memory; the tests' stand-ins share one process, so this empties it by hand)."""
    s3 = endpoint.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def stand_in(workspace):
    endpoint = Endpoint(workspace).start()
    endpoint.service.hosting.keep_spare = False

    class Session:  # what test_hosting._handler_model uses of a sagemaker.Session
        sagemaker_client = endpoint.client("sagemaker")

        class boto_session:
            client = staticmethod(lambda name: endpoint.client(name))
        default_bucket = staticmethod(lambda: BUCKET)
    return endpoint, Session


def scaled(endpoint, name, data):
    reply = endpoint.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, Body=json.dumps(data).encode(), ContentType="application/json")
    return json.loads(reply["Body"].read())["scaled"]


def test_endpoints_models_and_configs_outlive_their_stand_in(tmp_path):
    workspace = tmp_path / "ws"
    first, session = stand_in(workspace)
    try:
        first.client("s3").create_bucket(Bucket=BUCKET)
        test_hosting._handler_model(session, "kept", scale=3)
        sm = session.sagemaker_client
        arn = sm.create_endpoint(EndpointName="kept", EndpointConfigName="kept",
                                 Tags=[{"Key": "team", "Value": "vision"}])["EndpointArn"]
        assert test_hosting._wait(sm, "kept")["EndpointStatus"] == "InService"
        assert scaled(first, "kept", [1, 2]) == [3, 6]
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
        launcher = first.service.hosting.endpoint("kept").container.proc.pid
    finally:
        first.stop()
    assert not _alive(launcher), "the serving container outlived its stand-in"

    second, session = stand_in(workspace)
    try:
        sm = session.sagemaker_client
        forget_s3(second)
        described = sm.describe_endpoint(EndpointName="kept")
        assert described["EndpointStatus"] == "InService" and described["EndpointArn"] == arn
        assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["kept"]
        assert sm.describe_model(ModelName="kept")["PrimaryContainer"]["Environment"]["SAGEMAKER_PROGRAM"] == "serve.py"
        assert sm.describe_endpoint_config(EndpointConfigName="kept")["ProductionVariants"][0]["ModelName"] == "kept"
        assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "vision"},
                                                          {"Key": "stage", "Value": "dev"}]
        assert second.service.hosting.endpoints.get("kept").container is None  # nothing runs until used
        assert scaled(second, "kept", [1, 2]) == [3, 6]  # started now, from the kept model
        second.client("s3").head_object(Bucket=BUCKET, Key="hosting/kept/model.tar.gz")  # back in S3
        with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
            sm.create_endpoint(EndpointName="kept", EndpointConfigName="kept")
        sm.delete_endpoint(EndpointName="kept")
        sm.delete_endpoint_config(EndpointConfigName="kept")
        sm.delete_model(ModelName="kept")
        assert not list((workspace / "hosting").rglob("*.tar.gz")), "kept model copies outlive the model"
    finally:
        second.stop()

    third, session = stand_in(workspace)
    try:
        sm = session.sagemaker_client
        assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
        assert sm.list_endpoint_configs()["EndpointConfigs"] == []
        with pytest.raises(ClientError, match="Could not find endpoint"):
            sm.describe_endpoint(EndpointName="kept")
    finally:
        third.stop()


def test_a_restored_endpoint_whose_model_is_gone_fails_saying_why(tmp_path):
    workspace = tmp_path / "ws"
    first, session = stand_in(workspace)
    try:
        first.client("s3").create_bucket(Bucket=BUCKET)
        test_hosting._handler_model(session, "lost")
        session.sagemaker_client.create_endpoint(EndpointName="lost", EndpointConfigName="lost")
        assert test_hosting._wait(session.sagemaker_client, "lost")["EndpointStatus"] == "InService"
    finally:
        first.stop()
    for kept in (workspace / "hosting" / "model-data").rglob("*.tar.gz"):
        kept.unlink()  # no copy to put back, and S3 forgot the object
    second, session = stand_in(workspace)
    try:
        forget_s3(second)
        with pytest.raises(ClientError):
            scaled(second, "lost", [1])
        d = session.sagemaker_client.describe_endpoint(EndpointName="lost")
        assert d["EndpointStatus"] == "Failed" and "Failed to download model data" in d["FailureReason"]
        session.sagemaker_client.delete_endpoint(EndpointName="lost")
    finally:
        second.stop()


def test_records_another_live_stand_in_keeps_are_left_to_it(tmp_path):
    workspace = tmp_path / "ws"
    records = workspace / "hosting" / "endpoint"
    records.mkdir(parents=True)
    theirs = {"name": "theirs", "config": "c", "tags": [], "created": 1.0, "modified": 1.0,
              "status": "InService", "failure": None, "variants": [], "owner": os.getppid()}
    (records / "theirs.json").write_text(json.dumps(theirs))
    endpoint, session = stand_in(workspace)
    try:
        sm = session.sagemaker_client
        assert sm.list_endpoints()["Endpoints"] == []
        endpoint.client("s3").create_bucket(Bucket=BUCKET)
        test_hosting._handler_model(session, "c")
        with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
            sm.create_endpoint(EndpointName="theirs", EndpointConfigName="c")
        forget_s3(endpoint)
    finally:
        endpoint.stop()
    assert json.loads((records / "theirs.json").read_text()) == theirs  # untouched
