"""Issue 14 part 1, hosting: models, endpoint configurations and endpoints served by our
service; an endpoint is a serving container (its own /opt/ml, GET /ping, POST /invocations on
a loopback port); InvokeEndpoint reaches it through the SDK and boto3's sagemaker-runtime."""
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time

import pytest
from botocore.exceptions import ClientError

import sm_tutorial
from conftest import REPO, course_estimator

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TF_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.16-cpu"

# A script-mode model that needs no framework: the inference handlers alone.
HANDLERS = """
import json, os

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f)

def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"unsupported content type {content_type}")
    return json.loads(body)

def predict_fn(data, model):
    if data == "boom":
        raise RuntimeError("the model cannot score 'boom'")
    return [model["scale"] * x for x in data]

def output_fn(prediction, accept):
    return json.dumps({"scaled": prediction}), "application/json"
"""


def _tar(files: dict) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _upload(sess, key: str, data: bytes) -> str:
    sess.boto_session.client("s3").put_object(Bucket=sess.default_bucket(), Key=key, Body=data)
    return f"s3://{sess.default_bucket()}/{key}"


def _handler_model(sess, name, scale=2, script=HANDLERS, extra=None):
    sm = sess.sagemaker_client
    model = _upload(sess, f"hosting/{name}/model.tar.gz", _tar({"model.json": json.dumps({"scale": scale})}))
    code = _upload(sess, f"hosting/{name}/sourcedir.tar.gz",
                   _tar({"serve.py": textwrap.dedent(script), **(extra or {})}))
    sm.create_model(ModelName=name, ExecutionRoleArn=sm_tutorial.role(),
                    PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": model,
                                      "Environment": {"SAGEMAKER_PROGRAM": "serve.py",
                                                      "SAGEMAKER_SUBMIT_DIRECTORY": code}})
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])


def _wait(sm, name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sm.describe_endpoint(EndpointName=name)
        if d["EndpointStatus"] not in ("Creating", "Updating"):
            return d
        time.sleep(0.05)
    raise AssertionError(f"{name} still {d['EndpointStatus']}")


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def _listening(port: int) -> list:
    """The addresses a listening TCP socket on ``port`` is bound to (/proc/net/tcp, tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0))
                             if len(address) == 8 else address)
    return found


def _serving_pids(endpoint, name):
    serving = endpoint.service.hosting.endpoint(name).container
    return [serving.proc.pid]


@pytest.fixture(scope="module")
def tiny_savedmodel(sess, tmp_path_factory):
    """y = 2x + 1 as a SavedModel under 1/, in S3 as model.tar.gz."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    class Linear(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def serve(self, x):
            return {"y": 2 * x + 1}

    folder = tmp_path_factory.mktemp("savedmodel")
    module = Linear()
    tf.saved_model.save(module, str(folder / "1"), signatures={"serving_default": module.serve})
    files = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return files


def test_tensorflow_deploy_predict_and_delete(sess, endpoint, tiny_savedmodel):
    from sagemaker.tensorflow import TensorFlowModel
    uri = _upload(sess, "hosting/tiny/model.tar.gz", _tar(tiny_savedmodel))
    model = TensorFlowModel(model_data=uri, role=sm_tutorial.role(), framework_version="2.16",
                            sagemaker_session=sess)
    predictor = model.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    name = predictor.endpoint_name
    d = sess.sagemaker_client.describe_endpoint(EndpointName=name)
    assert d["EndpointStatus"] == "InService"
    assert d["ProductionVariants"][0]["VariantName"] == "AllTraffic"
    assert predictor.predict({"instances": [[1, 2, 3]]}) == {"predictions": [[3.0, 5.0, 7.0]]}
    assert predictor.predict([[0, 0, 0]]) == {"predictions": [[1.0, 1.0, 1.0]]}  # wrapped
    assert predictor.predict({"inputs": [[1, 1, 1]]}) == {"outputs": [[3.0, 3.0, 3.0]]}

    runtime = sess.boto_session.client("sagemaker-runtime")
    reply = runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3\n4,5,6\n", ContentType="text/csv")
    assert json.loads(reply["Body"].read()) == {"predictions": [[3.0, 5.0, 7.0], [9.0, 11.0, 13.0]]}
    assert reply["ContentType"] == "application/json"
    assert reply["InvokedProductionVariant"] == "AllTraffic"
    reply = runtime.invoke_endpoint(EndpointName=name, Body=b"[1,2,3]\n[0,0,1]\n",
                                    ContentType="application/jsonlines")
    assert json.loads(reply["Body"].read())["predictions"][1] == [1.0, 1.0, 3.0]

    with pytest.raises(ClientError) as bad:  # TF Serving's 400, as AWS passes it on
        runtime.invoke_endpoint(EndpointName=name, Body=b"{not json", ContentType="application/json")
    error = bad.value.response
    assert error["Error"]["Code"] == "ModelError" and error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "Received client error (400) from primary" in error["Error"]["Message"]
    with pytest.raises(ClientError) as wrong_shape:
        runtime.invoke_endpoint(EndpointName=name, Body=b'{"instances": [[1, 2]]}',
                                ContentType="application/json")
    assert wrong_shape.value.response["Error"]["Code"] == "ModelError"

    port = endpoint.service.hosting.endpoint(name).container.port
    assert _listening(port) == ["127.0.0.1"]  # loopback only
    pids = _serving_pids(endpoint, name)
    predictor.delete_endpoint()
    assert not any(_alive(p) for p in pids), "the serving container outlived delete_endpoint"
    with pytest.raises(ClientError) as gone:
        sess.sagemaker_client.describe_endpoint(EndpointName=name)
    assert gone.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find endpoint" in gone.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as gone:
        runtime.invoke_endpoint(EndpointName=name, Body=b"[[1,2,3]]", ContentType="application/json")
    assert gone.value.response["Error"]["Code"] == "ValidationError"
    assert gone.value.response["Error"]["Message"] == \
        f"Endpoint {name} of account 123456789012 not found."


def test_course_digits_model_deployed(sess, endpoint, digits):
    """The course's digits script with export-version=1 writes model/1/ beside digits.keras;
    deploy() serves it and predicts the validation digits."""
    import numpy as np
    est = course_estimator(sess, hyperparameters={"epochs": 3, "export-version": 1})
    est.fit({"train": digits["train"], "validation": digits["validation"]}, logs=False)
    rows = np.loadtxt(REPO / "data" / "digits" / "csv" / "validation.csv", delimiter=",", skiprows=1)[:50]
    predictor = est.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        answer = predictor.predict({"instances": (rows[:, 1:] / 16.0).tolist()})
        labels = np.argmax(answer["predictions"], axis=1)
        assert (labels == rows[:, 0]).mean() > 0.8
    finally:
        predictor.delete_endpoint()


def test_tensorflow_inference_py_handlers(sess, endpoint, tiny_savedmodel):
    handlers = textwrap.dedent("""
        import json

        def input_handler(data, context):
            rows = [float(v) for v in data.read().decode().split()]
            return json.dumps({"instances": [rows]})

        def output_handler(response, context):
            y = response.json()["predictions"][0]
            return json.dumps({"sum": sum(y), "accept": context.accept_header}), "application/json"
    """)
    sm = sess.sagemaker_client
    uri = _upload(sess, "hosting/tiny-handlers/model.tar.gz",
                  _tar({**tiny_savedmodel, "code/inference.py": handlers}))
    sm.create_model(ModelName="tiny-handlers", ExecutionRoleArn=sm_tutorial.role(),
                    PrimaryContainer={"Image": TF_IMAGE, "ModelDataUrl": uri})
    sm.create_endpoint_config(EndpointConfigName="tiny-handlers", ProductionVariants=[{
        "VariantName": "v1", "ModelName": "tiny-handlers", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="tiny-handlers", EndpointConfigName="tiny-handlers")
    assert _wait(sm, "tiny-handlers")["EndpointStatus"] == "InService"
    reply = sess.boto_session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="tiny-handlers", Body=b"1 2 3", ContentType="text/plain", Accept="application/json")
    assert json.loads(reply["Body"].read()) == {"sum": 15.0, "accept": "application/json"}
    assert reply["InvokedProductionVariant"] == "v1"
    sm.delete_endpoint(EndpointName="tiny-handlers")


SKLEARN_SCRIPT = """
import argparse, os
import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(data, model):
    data = np.asarray(data, dtype=float)
    if data.ndim != 2 or data.shape[1] != 2:
        raise ValueError(f"expected rows of 2 features, got shape {data.shape}")
    return model.predict(data)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    args, _ = parser.parse_known_args()
    x = np.array([[0, 0], [0, 1], [5, 5], [6, 5]], dtype=float)
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
"""


def test_sklearn_estimator_deploy_predict(sess, endpoint, source):
    from sagemaker.sklearn import SKLearn
    import numpy as np
    est = SKLearn(entry_point="train.py", source_dir=source(SKLEARN_SCRIPT), framework_version="1.2-1",
                  py_version="py3", instance_type="ml.m5.large", instance_count=1,
                  role=sm_tutorial.role(), sagemaker_session=sess)
    est.fit(logs=False)
    predictor = est.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        env = sess.sagemaker_client.describe_model(ModelName=sess.sagemaker_client.describe_endpoint_config(
            EndpointConfigName=predictor.endpoint_name)["ProductionVariants"][0]["ModelName"])
        assert env["PrimaryContainer"]["Environment"]["SAGEMAKER_PROGRAM"] == "train.py"
        # SKLearnPredictor: NPY in, NPY out (the default handlers' encoder and decoder)
        assert predictor.predict(np.array([[0.0, 0.5], [5.5, 5.0]])).tolist() == [0, 1]
        runtime = sess.boto_session.client("sagemaker-runtime")
        reply = runtime.invoke_endpoint(EndpointName=predictor.endpoint_name, Body=b"[[6, 6]]",
                                        ContentType="application/json", Accept="application/json")
        assert json.loads(reply["Body"].read()) == [1] and reply["ContentType"] == "application/json"
        reply = runtime.invoke_endpoint(EndpointName=predictor.endpoint_name, Body=b"0,0\n6,6\n",
                                        ContentType="text/csv", Accept="text/csv")
        assert reply["Body"].read().decode().split() == ["0", "1"]
        with pytest.raises(ClientError) as failed:  # predict_fn raises: ModelError, its message
            runtime.invoke_endpoint(EndpointName=predictor.endpoint_name, Body=b"[1, 2, 3]",
                                    ContentType="application/json")
        error = failed.value.response
        assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 500
        assert "expected rows of 2 features" in error["Error"]["Message"]
        assert "Received server error (500) from primary" in error["Error"]["Message"]
        # ... and the traceback is in the endpoint's CloudWatch log, where the message points
        logs, group = sess.boto_session.client("logs"), f"/aws/sagemaker/Endpoints/{predictor.endpoint_name}"
        assert group in error["Error"]["Message"]
        stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
        assert stream.startswith("AllTraffic/i-")
        deadline, lines = time.time() + 10, []
        while not any("expected rows of 2 features" in l for l in lines) and time.time() < deadline:
            time.sleep(0.1)
            lines = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]]
        assert any("expected rows of 2 features" in l for l in lines), lines
        with pytest.raises(ClientError) as unsupported:  # the default decoder's 415
            runtime.invoke_endpoint(EndpointName=predictor.endpoint_name, Body=b"<x/>",
                                    ContentType="application/xml")
        assert unsupported.value.response["OriginalStatusCode"] == 415
        assert "Content type application/xml is not supported" in \
            unsupported.value.response["Error"]["Message"]
    finally:
        predictor.delete_model()  # first: it reads the model's name from the endpoint config
        predictor.delete_endpoint()


def test_resources_describe_list_delete_and_errors(sess, endpoint, tmp_path):
    sm = sess.sagemaker_client
    _handler_model(sess, "scaler")
    assert sm.describe_model(ModelName="scaler")["ModelArn"].endswith(":model/scaler")
    assert "scaler" in [m["ModelName"] for m in sm.list_models(NameContains="scal")["Models"]]
    assert sm.describe_endpoint_config(EndpointConfigName="scaler")["ProductionVariants"][0]["ModelName"] == "scaler"
    with pytest.raises(ClientError) as again:  # the SDK relies on these words
        sm.create_model(ModelName="scaler", ExecutionRoleArn=sm_tutorial.role(),
                        PrimaryContainer={"Image": SKLEARN_IMAGE})
    assert "Cannot create already existing model" in again.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as unknown:
        sm.create_endpoint_config(EndpointConfigName="orphan", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "no-such-model", "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}])
    assert unknown.value.response["Error"]["Code"] == "ValidationException"
    assert 'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/no-such-model"' in \
        unknown.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as bad_name:  # botocore's model: the name pattern
        sm.describe_endpoint(EndpointName="bad_name!")
    assert bad_name.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as no_config:
        sm.create_endpoint(EndpointName="nothing", EndpointConfigName="no-such-config")
    assert "Could not find endpoint configuration" in no_config.value.response["Error"]["Message"]

    sm.create_endpoint(EndpointName="scaler", EndpointConfigName="scaler",
                       Tags=[{"Key": "course", "Value": "sm-tutorial"}])
    arn = sm.describe_endpoint(EndpointName="scaler")["EndpointArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "lesson", "Value": "8"}])
    assert {t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]} == {"course", "lesson"}
    sm.delete_tags(ResourceArn=arn, TagKeys=["course"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "lesson", "Value": "8"}]
    with pytest.raises(ClientError) as twice:
        sm.create_endpoint(EndpointName="scaler", EndpointConfigName="scaler")
    assert "Cannot create already existing endpoint" in twice.value.response["Error"]["Message"]
    assert _wait(sm, "scaler")["EndpointStatus"] == "InService"
    assert [e["EndpointStatus"] for e in sm.list_endpoints(NameContains="scaler")["Endpoints"]] == ["InService"]
    runtime = sess.boto_session.client("sagemaker-runtime")
    invoke = lambda body: json.loads(runtime.invoke_endpoint(
        EndpointName="scaler", Body=body, ContentType="application/json")["Body"].read())
    assert invoke(b"[1, 2]") == {"scaled": [2, 4]}
    aws = os.path.join(os.path.dirname(sys.executable), "aws")  # the AWS CLI, another process
    out = tmp_path / "answer.json"
    done = subprocess.run([aws, "--endpoint-url", os.environ["AWS_ENDPOINT_URL"], "sagemaker-runtime",
                           "invoke-endpoint", "--endpoint-name", "scaler", "--body", "[3]",
                           "--content-type", "application/json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == {"scaled": [6]}
    assert json.loads(done.stdout)["InvokedProductionVariant"] == "AllTraffic"
    with pytest.raises(ClientError) as boom:
        invoke(b'"boom"')
    assert "the model cannot score 'boom'" in boom.value.response["Error"]["Message"]

    # UpdateEndpoint: a new configuration starts beside the old, then takes over.
    old_pid = endpoint.service.hosting.endpoint("scaler").container.proc.pid
    _handler_model(sess, "scaler-v2", scale=10)
    sm.update_endpoint(EndpointName="scaler", EndpointConfigName="scaler-v2")
    assert sm.describe_endpoint(EndpointName="scaler")["EndpointStatus"] in ("Updating", "InService")
    d = _wait(sm, "scaler")
    assert d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == "scaler-v2"
    assert invoke(b"[1, 2]") == {"scaled": [10, 20]}
    assert not _alive(old_pid)

    sm.delete_endpoint(EndpointName="scaler")
    for name in ("scaler", "scaler-v2"):
        sm.delete_endpoint_config(EndpointConfigName=name)
        sm.delete_model(ModelName=name)
    with pytest.raises(ClientError) as gone:
        sm.describe_model(ModelName="scaler")
    assert 'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/scaler"' in \
        gone.value.response["Error"]["Message"]
    assert "scaler" not in [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]


def test_failed_start_reports_failure_reason(sess, endpoint):
    from sagemaker.exceptions import UnexpectedStatusException
    _handler_model(sess, "broken", script=HANDLERS.replace(
        "def model_fn(model_dir):", "def model_fn(model_dir):\n    raise OSError('weights.bin is missing')"))
    sess.sagemaker_client.create_endpoint(EndpointName="broken", EndpointConfigName="broken")
    with pytest.raises(UnexpectedStatusException) as failed:
        sess.wait_for_endpoint("broken")
    d = sess.sagemaker_client.describe_endpoint(EndpointName="broken")
    assert d["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in d["FailureReason"]
    assert "weights.bin is missing" in d["FailureReason"]
    assert "weights.bin is missing" in str(failed.value)
    with pytest.raises(ClientError) as not_serving:
        sess.boto_session.client("sagemaker-runtime").invoke_endpoint(
            EndpointName="broken", Body=b"[1]", ContentType="application/json")
    assert not_serving.value.response["Error"]["Code"] == "ValidationError"
    sess.sagemaker_client.delete_endpoint(EndpointName="broken")

    # A TensorFlow model without a SavedModel (a .keras file alone) fails the same way.
    sm = sess.sagemaker_client
    uri = _upload(sess, "hosting/keras-only/model.tar.gz", _tar({"digits.keras": b"not served"}))
    sm.create_model(ModelName="keras-only", ExecutionRoleArn=sm_tutorial.role(),
                    PrimaryContainer={"Image": TF_IMAGE, "ModelDataUrl": uri})
    sm.create_endpoint_config(EndpointConfigName="keras-only", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "keras-only", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="keras-only", EndpointConfigName="keras-only")
    d = _wait(sm, "keras-only")
    assert d["EndpointStatus"] == "Failed" and "No SavedModel found" in d["FailureReason"]
    assert "model.export" in d["FailureReason"]
    sm.delete_endpoint(EndpointName="keras-only")


def test_requirements_installed_for_the_model(sess, endpoint, tmp_path):
    """code/requirements.txt is installed before model_fn runs (into the endpoint's folder, not
    the learner's environment); one that cannot install fails the endpoint, saying so."""
    import importlib.util
    pkg = tmp_path / "servepkg"
    (pkg / "servepkg").mkdir(parents=True)
    (pkg / "servepkg" / "__init__.py").write_text("FACTOR = 7\n")
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires=["setuptools"]\nbuild-backend="setuptools.build_meta"\n'
        '[project]\nname="servepkg"\nversion="1.0"\n')
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
                    "-w", str(tmp_path / "wheels"), str(pkg)], check=True, capture_output=True)
    wheel = next((tmp_path / "wheels").glob("servepkg-*.whl"))
    script = HANDLERS.replace("def predict_fn(data, model):",
                              "def predict_fn(data, model):\n    import servepkg\n    model = {'scale': servepkg.FACTOR}")
    _handler_model(sess, "with-reqs", script=script, extra={
        "requirements.txt": f"wheels/{wheel.name}\n", f"wheels/{wheel.name}": wheel.read_bytes()})
    sm = sess.sagemaker_client
    sm.create_endpoint(EndpointName="with-reqs", EndpointConfigName="with-reqs")
    assert _wait(sm, "with-reqs")["EndpointStatus"] == "InService"
    reply = sess.boto_session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="with-reqs", Body=b"[1]", ContentType="application/json")
    assert json.loads(reply["Body"].read()) == {"scaled": [7]}
    assert importlib.util.find_spec("servepkg") is None
    sm.delete_endpoint(EndpointName="with-reqs")

    _handler_model(sess, "bad-reqs", extra={"requirements.txt": "./no-such-package-dir\n"})
    sm.create_endpoint(EndpointName="bad-reqs", EndpointConfigName="bad-reqs")
    d = _wait(sm, "bad-reqs")
    assert d["EndpointStatus"] == "Failed" and "pip could not install code/requirements.txt" in d["FailureReason"]
    sm.delete_endpoint(EndpointName="bad-reqs")


def _ours(folder) -> bool:
    """A container folder this process's stand-in made (owner.json names its PID)."""
    try:
        return json.loads((folder / "owner.json").read_text())["pid"] == os.getpid()
    except (OSError, ValueError, KeyError):
        return False


def test_delete_while_creating_leaves_nothing(sess, endpoint):
    sm = sess.sagemaker_client
    _handler_model(sess, "short-lived")
    sm.create_endpoint(EndpointName="short-lived", EndpointConfigName="short-lived")
    sm.delete_endpoint(EndpointName="short-lived")  # while it is Creating
    with pytest.raises(ClientError):
        sm.describe_endpoint(EndpointName="short-lived")
    hosting = endpoint.service.hosting
    deadline = time.time() + 30
    while time.time() < deadline:
        spare = hosting._spare.folder if hosting._spare else None
        running = [f for f in hosting.folder.iterdir() if f != spare and (f / "process.json").exists()
                   and _ours(f)]  # notebook kernels on this workspace keep their own spares
        if not running:
            break
        time.sleep(0.1)
    assert running == [], "a container of the deleted endpoint is still running"
    sm.create_endpoint(EndpointName="short-lived", EndpointConfigName="short-lived")  # name free
    assert _wait(sm, "short-lived")["EndpointStatus"] == "InService"
    sm.delete_endpoint(EndpointName="short-lived")


CHILD = """
import json, sys, time
from pathlib import Path
from sm_tutorial.platform.endpoint import Endpoint
sys.path.insert(0, {tests!r})
import test_hosting
endpoint = Endpoint(Path({workspace!r})).start()
endpoint.service.hosting.keep_spare = False
s3 = endpoint.client("s3")
s3.create_bucket(Bucket="child-bucket")
class Session:  # what _handler_model uses of a sagemaker.Session
    sagemaker_client = endpoint.client("sagemaker")
    class boto_session:
        client = staticmethod(lambda name: endpoint.client(name))
    default_bucket = staticmethod(lambda: "child-bucket")
test_hosting._handler_model(Session, "child")
Session.sagemaker_client.create_endpoint(EndpointName="child", EndpointConfigName="child")
assert test_hosting._wait(Session.sagemaker_client, "child")["EndpointStatus"] == "InService"
print(json.dumps({{"launcher": endpoint.service.hosting.endpoint("child").container.proc.pid}}), flush=True)
if {stop!r}:
    endpoint.stop()
    print("stopped", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_no_container_outlives_its_endpoint_process(tmp_path, how):
    """Endpoint.stop() ends every serving container; so does the endpoint process's death
    (kernel killed): each container notices within a second, and the next endpoint on the
    workspace removes what is left."""
    script = CHILD.format(tests=str(REPO / "tests"), workspace=str(tmp_path / "ws"), stop=how == "stop")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "SM_TUTORIAL_WORKSPACE": str(tmp_path / "ws")})
    try:
        launcher = json.loads(child.stdout.readline())["launcher"]
        assert _alive(launcher)
        if how == "stop":
            assert child.stdout.readline().strip() == "stopped"
            assert not _alive(launcher)
        else:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            deadline = time.time() + 15
            while _alive(launcher) and time.time() < deadline:
                time.sleep(0.1)
            assert not _alive(launcher), "the serving container outlived its endpoint process"
    finally:
        child.kill()
        child.wait()
    from sm_tutorial.platform.hosting import HostingService
    HostingService(tmp_path / "ws", "http://127.0.0.1:1", "us-east-1", {}, None)  # next endpoint
    assert list((tmp_path / "ws" / "endpoints").iterdir()) == []


def test_a_spare_serving_container_waits_from_a_framework_jobs_start_and_retires(
        sess, endpoint, source, monkeypatch):
    """P6: a deploy right after fit() finds TensorFlow already imported, because the spare
    starts with the training job; unused, it ends after SPARE_IDLE seconds (memory back)."""
    from conftest import estimator
    from sm_tutorial.platform import hosting as hosting_module
    hosting = endpoint.service.hosting
    with hosting._spare_lock:
        old, hosting._spare = hosting._spare, None
    if old:
        hosting._discard(old)
    monkeypatch.setattr(hosting_module, "SPARE_IDLE", 3.0)
    est = estimator(sess, source("print('training')\n"))  # a TensorFlow image
    est.fit(logs=False)
    deadline = time.time() + 30
    while hosting._spare is None and time.time() < deadline:
        time.sleep(0.05)
    spare = hosting._spare
    assert spare is not None and spare.running, "no spare started with the TensorFlow job"
    deadline = time.time() + 30
    while spare.running and time.time() < deadline:
        time.sleep(0.1)
    assert not spare.running and hosting._spare is None, "the unused spare did not retire"
