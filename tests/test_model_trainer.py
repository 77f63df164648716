"""Issue 12 part 3: the SDK's ModelTrainer (``sagemaker.modules.train``) runs unchanged against
the simulation through ``sm_tutorial.trainer_session()``: its STS/IAM calls stay on the local
endpoint, its driver (``sm_train.sh``, literal /opt/ml paths) runs in the namespace mode, and the
fallback and a job without the driver's channel fail at once with the fix."""
import json
import time
from pathlib import Path

import boto3
import pytest

import sm_tutorial
from conftest import estimator, s3_tar
from sm_tutorial.container import mounts
import test_aws_mode

# AWS mode against test_aws_mode's stand-in account (moto on loopback)
standin, pristine_environment, aws = (test_aws_mode.standin, test_aws_mode.pristine_environment,
                                      test_aws_mode.aws)
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.16-cpu-py310"
HYPERPARAMETERS = {"epochs": 3, "learning-rate": 0.1, "name": "run one", "flag": True,
                   "layers": [64, 32], "optimizer": {"name": "adam", "beta": 0.9}}
# A training script as AWS's ModelTrainer examples write them: argparse for the
# hyperparameters, SM_MODEL_DIR for where the model goes.
SCRIPT = """\
import argparse, json, os, sys

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--learning-rate", type=float, default=0.01)
args, _ = parser.parse_known_args()
model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
seen = {"argv": sys.argv[1:], "epochs": args.epochs, "learning_rate": args.learning_rate,
        "SM_HPS": json.loads(os.environ["SM_HPS"]), "SM_MODEL_DIR": model_dir,
        "cwd": os.getcwd(), "channels": json.loads(os.environ["SM_CHANNELS"])}
with open(os.path.join(model_dir, "seen.json"), "w") as f:
    json.dump(seen, f)
print("trained", args.epochs, "epochs")
"""


def namespaces_or_skip():
    why = mounts.unavailable()
    if why:
        pytest.skip(f"no namespace mode here: {why}")


def trainer(source, base_job_name, hyperparameters=None, **kwargs):
    from sagemaker.modules.configs import SourceCode
    from sagemaker.modules.train import ModelTrainer
    kwargs.setdefault("role", sm_tutorial.role())
    return ModelTrainer(training_image=IMAGE,
                        source_code=SourceCode(source_dir=source(SCRIPT), entry_script="train.py"),
                        hyperparameters=hyperparameters or {}, base_job_name=base_job_name,
                        sagemaker_session=sm_tutorial.trainer_session(), **kwargs)


def jobs(sess):
    pages = sess.sagemaker_client.get_paginator("list_training_jobs").paginate()
    return {j["TrainingJobName"]: j["TrainingJobStatus"] for p in pages for j in p["TrainingJobSummaries"]}


def ended(endpoint, sess, name):
    assert endpoint.service._jobs[name].finished.wait(60), name
    return sess.sagemaker_client.describe_training_job(TrainingJobName=name)


@pytest.fixture
def loopback_only(monkeypatch):
    """Every host name this process looks up while the test runs: AWS's own (STS, telemetry)
    would show up here before any connection is tried."""
    import socket
    looked_up, real = [], socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        if host not in ("127.0.0.1", "localhost"):
            raise OSError(f"test: no network beyond loopback ({host})")
        return real(host, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield looked_up
    assert set(looked_up) <= {"127.0.0.1", "localhost"}, looked_up


def test_trainer_session_stays_on_the_local_endpoint(sess, endpoint, loopback_only):
    from sagemaker.modules import Session, get_execution_role
    from sagemaker_core.helper.session_helper import sts_regional_endpoint
    from sagemaker_core.main import logs
    from sagemaker_core.main.utils import SageMakerClient
    ts = sm_tutorial.trainer_session()
    assert isinstance(ts, Session)
    url = sm_tutorial.endpoint_url()
    aws_sts = sts_regional_endpoint(ts.boto_region_name)
    assert "amazonaws.com" in aws_sts
    # sagemaker-core names AWS's STS address itself; the session's clients go local anyway
    assert ts.boto_session.client("sts", endpoint_url=aws_sts).meta.endpoint_url == url
    assert ts.account_id() == "123456789012"
    assert ts.default_bucket() == "sagemaker-us-east-1-123456789012"
    # No role= given: ModelTrainer asks STS and IAM, as in Studio the notebook's role is found
    assert get_execution_role(sagemaker_session=ts) == sm_tutorial.role()
    assert SageMakerClient().sagemaker_client.meta.endpoint_url == url  # the per-process clients
    assert logs.CloudWatchLogsClient().client.meta.endpoint_url == url
    assert ts.sagemaker_config["SageMaker"]["PythonSDK"]["Modules"]["TelemetryOptOut"] is True


def test_model_trainer_job_completes(sess, endpoint, source, loopback_only):
    namespaces_or_skip()
    from sagemaker.modules.train.container_drivers.common.utils import (
        hyperparameters_to_cli_args, safe_deserialize)
    mt = trainer(source, "mt-complete", HYPERPARAMETERS)
    started = time.time()
    mt.train()  # wait=True, logs=True: sagemaker-core's own loop
    assert time.time() - started < 30
    name = mt._latest_training_job.training_job_name
    d = sess.sagemaker_client.describe_training_job(TrainingJobName=name)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    assert d["AlgorithmSpecification"]["ContainerEntrypoint"] == ["/bin/bash"]
    assert [c["ChannelName"] for c in d["InputDataConfig"]] == ["code", "sm_drivers"]
    assert "sagemaker_program" not in d["HyperParameters"]
    members = s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"])
    seen = json.loads(members["seen.json"])
    # What ModelTrainer's driver makes of the hyperparameters it sent, by its own functions
    sent = d["HyperParameters"]
    assert sent["name"] == "run one" and sent["layers"] == "[64, 32]"  # strings raw, else JSON
    decoded = {k: safe_deserialize(v) for k, v in sent.items()}
    assert seen["SM_HPS"] == decoded
    assert seen["argv"] == hyperparameters_to_cli_args(decoded)
    assert seen["argv"][:4] == ["--epochs", "3", "--learning-rate", "0.1"]  # as given, not sorted
    assert seen["epochs"] == 3 and seen["learning_rate"] == 0.1
    assert seen["SM_MODEL_DIR"] == "/opt/ml/model" and seen["cwd"] == "/opt/ml/input/data/code"
    assert seen["channels"] == ["code", "sm_drivers"]
    log = sm_tutorial.job_logs(sess, name)
    assert "trained 3 epochs" in log and "Training Container Execution Completed" in log


def test_model_trainer_with_a_data_channel(sess, endpoint, source, digits):
    namespaces_or_skip()
    from sagemaker.modules.configs import InputData
    mt = trainer(source, "mt-data", {"epochs": 1}, role=None)  # found through STS and IAM
    mt.train(input_data_config=[InputData(channel_name="train", data_source=digits["train"])],
             wait=False)
    d = ended(endpoint, sess, mt._latest_training_job.training_job_name)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    seen = json.loads(s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"])["seen.json"])
    assert seen["channels"] == ["train", "code", "sm_drivers"]
    assert d["RoleArn"] == sm_tutorial.role()


def test_stop_ends_the_driver_and_the_script(sess, endpoint, source):
    namespaces_or_skip()
    from sagemaker.modules.configs import SourceCode
    from sagemaker.modules.train import ModelTrainer
    folder = source("import os, time\n"
                    "open(os.path.join(os.environ['SM_MODEL_DIR'], 'started'), 'w').close()\n"
                    "time.sleep(300)\n")
    mt = ModelTrainer(training_image=IMAGE, role=sm_tutorial.role(), base_job_name="mt-stop",
                      source_code=SourceCode(source_dir=folder, entry_script="train.py"),
                      sagemaker_session=sm_tutorial.trainer_session())
    mt.train(wait=False)
    job = mt._latest_training_job
    started = endpoint.workspace / "jobs" / job.training_job_name / "opt" / "ml" / "model" / "started"
    deadline = time.time() + 30
    while not started.exists():
        assert time.time() < deadline, "the script never started"
        time.sleep(0.05)
    # (sagemaker-core 1.0.78's own TrainingJob.stop() fails with AttributeError: SageMakerClient
    # has no 'client', against AWS as here)
    sess.sagemaker_client.stop_training_job(TrainingJobName=job.training_job_name)
    d = ended(endpoint, sess, job.training_job_name)
    assert d["TrainingJobStatus"] == "Stopped"
    assert not (endpoint.workspace / "jobs" / job.training_job_name / "process.json").exists()
    assert "started" in s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"])


def test_requirements_install_into_the_job_not_the_course_environment(sess, endpoint, source):
    """SourceCode(requirements=...): the driver's `pip install -r` (into the image's Python on
    AWS) goes to the job's own folder, as the script mode's requirements do."""
    namespaces_or_skip()
    import importlib.util
    from sagemaker.modules.configs import SourceCode
    from sagemaker.modules.train import ModelTrainer
    from test_images import tiny_wheel
    folder = source("import tinydep, os\n"
                    "open(os.path.join(os.environ['SM_MODEL_DIR'], 'dep'), 'w').write(tinydep.VALUE)\n")
    tiny_wheel(Path(folder))
    (Path(folder) / "requirements.txt").write_text("--no-index\n./tinydep-1.0-py3-none-any.whl\n")
    mt = ModelTrainer(training_image=IMAGE, role=sm_tutorial.role(), base_job_name="mt-reqs",
                      source_code=SourceCode(source_dir=folder, entry_script="train.py",
                                             requirements="requirements.txt"),
                      sagemaker_session=sm_tutorial.trainer_session())
    mt.train(wait=False)
    name = mt._latest_training_job.training_job_name
    d = ended(endpoint, sess, name)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    assert s3_tar(sess, d["ModelArtifacts"]["S3ModelArtifacts"])["dep"] == b"from-the-wheel"
    assert (endpoint.workspace / "jobs" / name / "opt" / "packages" / "tinydep.py").is_file()
    assert importlib.util.find_spec("tinydep") is None  # not in the course's environment


def test_fallback_mode_fails_at_once_naming_the_fix(sess, endpoint, source, monkeypatch):
    monkeypatch.setenv(mounts.SETTING, "off")
    mt = trainer(source, "mt-fallback", {"epochs": 1})
    started = time.time()
    mt.train(wait=False)
    d = ended(endpoint, sess, mt._latest_training_job.training_job_name)
    assert time.time() - started < 10
    assert d["TrainingJobStatus"] == "Failed"
    reason = d["FailureReason"]
    for words in ("ModelTrainer", "literal /opt/ml paths", "namespace mode",
                  f"{mounts.SETTING}=off", "sm-tutorial doctor", "Estimator"):
        assert words in reason, (words, reason)
    assert "/tmp" not in reason and "jobs/" not in reason


def test_a_job_without_the_drivers_channel_fails_naming_the_fix(sess, endpoint, tmp_path):
    """The issue's bad input: AWS accepts the request (it knows nothing of sm_drivers) and the
    container's chmod fails; here the job fails before it starts, saying what is missing."""
    (tmp_path / "train.py").write_text("print('never runs')\n")
    code = sess.upload_data(str(tmp_path / "train.py"), key_prefix="mt-nodrivers/code")
    before = jobs(sess)
    client = boto3.client("sagemaker")
    client.create_training_job(
        TrainingJobName="mt-no-drivers", RoleArn=sm_tutorial.role(),
        AlgorithmSpecification={
            "TrainingImage": IMAGE, "TrainingInputMode": "File", "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": ["-c", "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh && "
                                         "/opt/ml/input/data/sm_drivers/sm_train.sh"]},
        InputDataConfig=[{"ChannelName": "code", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": code.rsplit("/", 1)[0]}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{sess.default_bucket()}/mt-nodrivers"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    d = ended(endpoint, sess, "mt-no-drivers")
    assert d["TrainingJobStatus"] == "Failed"
    for words in ("no sm_drivers channel", "its channels: code", "sm_train.sh",
                  "ModelTrainer(", "source_code=SourceCode("):
        assert words in d["FailureReason"], (words, d["FailureReason"])
    # nothing else was touched: the other jobs, the uploaded code; a good job still runs
    assert jobs(sess) == {**before, "mt-no-drivers": "Failed"}
    assert sess.boto_session.client("s3").head_object(
        Bucket=sess.default_bucket(), Key=code.split("/", 3)[3])["ContentLength"] > 0
    good = estimator(sess, str(tmp_path))
    good.fit(logs=False)
    assert good.latest_training_job.describe()["TrainingJobStatus"] == "Completed"


def test_aws_mode_is_the_real_account_with_the_guardrails(aws, source, capsys):
    from sagemaker.modules.train import ModelTrainer
    from sagemaker.modules.configs import SourceCode
    from sm_tutorial.client import aws_mode
    from sm_tutorial.client.trainer import LocalBotoSession
    ts = sm_tutorial.trainer_session()
    assert not isinstance(ts.boto_session, LocalBotoSession)
    assert ts.default_bucket_prefix == "sm-tutorial"
    mt = ModelTrainer(training_image=IMAGE, role=sm_tutorial.role(), sagemaker_session=ts,
                      source_code=SourceCode(source_dir=source(SCRIPT), entry_script="train.py"),
                      base_job_name="mt-aws")
    with pytest.raises(aws_mode.CostNotConfirmed, match=aws_mode.CONFIRM_ENV):
        mt.train(wait=False)
    assert "max_run lowered to 1800 s" in capsys.readouterr().out
    client = boto3.client("sagemaker")  # the stand-in that plays the account
    assert client.list_training_jobs()["TrainingJobSummaries"] == []
    ts = sm_tutorial.trainer_session(confirm_costs=True)
    mt = ModelTrainer(training_image=IMAGE, role=sm_tutorial.role(), sagemaker_session=ts,
                      source_code=SourceCode(source_dir=source(SCRIPT), entry_script="train.py"),
                      base_job_name="mt-aws")
    mt.train(wait=False)
    [job] = client.list_training_jobs()["TrainingJobSummaries"]
    d = client.describe_training_job(TrainingJobName=job["TrainingJobName"])
    assert d["StoppingCondition"]["MaxRuntimeInSeconds"] == 1800
    assert d["OutputDataConfig"]["S3OutputPath"].startswith(f"s3://{ts.default_bucket()}/sm-tutorial/")
