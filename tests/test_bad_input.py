"""Every wrong thing an intern does once: the error AWS would give, a hint, and nothing lost.

Each case checks the exception or FailureReason, its key words, then that a good job still
completes and that an earlier job's artifact is untouched.
"""
import copy

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from sagemaker.inputs import TrainingInput

from conftest import estimator, s3_tar
from test_validation import GOOD


@pytest.fixture(scope="module")
def baseline(sess, tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline")
    (folder / "train.py").write_text(
        "import os\nopen(os.path.join(os.environ['SM_MODEL_DIR'], 'm.txt'), 'w').write('keep me')\n")
    est = estimator(sess, str(folder))
    est.fit(job_name="baseline-job", logs=False)
    bucket, key = est.model_data[5:].split("/", 1)
    head = sess.boto_session.client("s3").head_object(Bucket=bucket, Key=key)
    return est.model_data, head["ETag"]


def assert_intact(sess, source, baseline):
    import tempfile
    from pathlib import Path
    folder = Path(tempfile.mkdtemp(prefix="good-"))  # not the bad case's folder
    (folder / "train.py").write_text("print('still fine')\n")
    good = estimator(sess, str(folder))
    good.fit(logs=False)
    assert good.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    uri, etag = baseline
    bucket, key = uri[5:].split("/", 1)
    assert sess.boto_session.client("s3").head_object(Bucket=bucket, Key=key)["ETag"] == etag
    assert s3_tar(sess, uri)["m.txt"] == b"keep me"
    assert sess.describe_training_job("baseline-job")["TrainingJobStatus"] == "Completed"


REJECTED = [  # (change to a good request, error code, words in the message)
    ({"TrainingJobName": "bad_name!"}, "ValidationException", ["trainingJobName", "base_job_name"]),
    ({"TrainingJobName": "baseline-job"}, "ResourceInUse", ["must be unique", "job_name"]),
    ({"ResourceConfig": {"InstanceType": "ml.banana", "InstanceCount": 1}}, "ValidationException",
     ["1 validation error detected: Value 'ml.banana' at 'resourceConfig.instanceType' failed to "
      "satisfy constraint: Member must satisfy enum value set: [", "ml.p2.xlarge", "ml.m5.xlarge"]),
    ({"ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 3}}, "ValidationException",
     ["instance_count=1"]),
    ({"HyperParameters": {f"k{i}": "1" for i in range(101)}}, "ValidationException", ["maximum is 100"]),
    ({"HyperParameters": {"long": "x" * 2501}}, "ValidationException", ["maximum is 2500"]),
    ({"RoleArn": "arn:aws:iam::12:role/NotAnAccount"}, "ValidationException", ["sm_tutorial.role()"]),
]


@pytest.mark.parametrize("change,code,words", REJECTED, ids=[c[1] + "-" + list(c[0])[0] for c in REJECTED])
def test_rejected_requests(sess, source, baseline, change, code, words):
    request = copy.deepcopy(GOOD)
    request["TrainingJobName"] = "rejected-probe"
    request.update(copy.deepcopy(change))
    with pytest.raises(ClientError) as raised:
        sess.sagemaker_client.create_training_job(**request)
    assert raised.value.response["Error"]["Code"] == code
    for word in words:
        assert word in raised.value.response["Error"]["Message"]
    assert_intact(sess, source, baseline)


def test_hyperparameter_that_is_not_a_string(sess, source, baseline):
    request = copy.deepcopy(GOOD)
    request["HyperParameters"] = {"epochs": 3}
    with pytest.raises(ParamValidationError, match="HyperParameters.epochs"):
        sess.sagemaker_client.create_training_job(**request)
    assert_intact(sess, source, baseline)


def test_entry_point_missing_from_source_dir(sess, source, baseline):
    est = estimator(sess, source("print(1)\n"))
    est.entry_point = "missing.py"
    with pytest.raises(ValueError, match='No file named "missing.py"'):  # the SDK checks first
        est.fit(logs=False)
    assert_intact(sess, source, baseline)


FAILED = [  # (script, fit inputs (by name), words in the FailureReason)
    ("import os\nprint(os.listdir(os.environ['SM_CHANNEL_TRAINING']))\n", "train",
     ["KeyError: 'SM_CHANNEL_TRAINING'", "Hint (sm-tutorial)", "SM_CHANNEL_TRAIN"]),
    ("def broken(:\n", None, ["ExecuteUserScriptError", "SyntaxError"]),
    ("import sys\nsys.exit(4)\n", None, ["ExitCode 4"]),
    ("import os, sys\nopen(os.environ['SM_OUTPUT_DIR'] + '/failure', 'w').write('Bad data: empty')\n"
     "sys.exit(1)\n", None, ["Bad data: empty"]),
    ("open('/opt/ml/model/m.txt', 'w')\n", None, ["literal /opt/ml path", "SM_MODEL_DIR"]),
    ("import tinypkg_not_installed\n", None, ["ModuleNotFoundError", "requirements.txt"]),
    ("import glob, os\nfiles = os.listdir(os.environ['SM_CHANNEL_TRAIN'])\n", "train-pipe",
     ["FileNotFoundError", "Pipe mode", "PipeModeDataset"]),
    ("from sm_tutorial import PipeModeDataset\nPipeModeDataset('train', record_format='TFRecord')\n",
     "train", ["File mode", "SM_CHANNEL_TRAIN", "input_mode='Pipe'"]),
    ("print(1)\n", "missing-prefix", ["No S3 objects found", "upload"]),
    ("print(1)\n", "missing-bucket", ["Data download failed:Failed to download data. NoSuchBucket (404)",
                                      "no-such-bucket-anywhere' does not exist"]),
]


def inputs_for(kind, sess, digits):
    return {None: None,
            "train": {"train": digits["train"]},
            "train-pipe": {"train": TrainingInput(digits["train"], input_mode="Pipe")},
            "missing-prefix": {"train": f"s3://{sess.default_bucket()}/nothing/here"},
            "missing-bucket": {"train": "s3://no-such-bucket-anywhere/data"}}[kind]


@pytest.mark.parametrize("script,kind,words", FAILED, ids=[w[0].split(":")[0][:24] for _, _, w in FAILED])
def test_failed_jobs_explain_themselves(sess, source, digits, baseline, script, kind, words,
                                       monkeypatch):
    from sagemaker.exceptions import UnexpectedStatusException
    if "literal /opt/ml path" in words:  # refused where /opt/ml is relocated (the fallback)
        monkeypatch.setenv("SM_TUTORIAL_NAMESPACES", "off")
    est = estimator(sess, source(script))
    with pytest.raises(UnexpectedStatusException):
        est.fit(inputs_for(kind, sess, digits), logs=False)
    reason = est.latest_training_job.describe()["FailureReason"]
    for word in words:
        assert word in reason, reason
    assert_intact(sess, source, baseline)


def test_script_that_never_writes_a_model(sess, source, baseline):
    import sm_tutorial
    est = estimator(sess, source("print('forgot to save')\n"))
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"  # as on AWS
    assert s3_tar(sess, est.model_data) == {}
    assert "model directory (SM_MODEL_DIR) is empty" in sm_tutorial.job_logs(sess, est.latest_training_job.name)
    assert_intact(sess, source, baseline)


def test_requirements_that_cannot_be_installed_offline(sess, source, baseline):
    from sagemaker.exceptions import UnexpectedStatusException
    est = estimator(sess, source("print(1)\n", {"requirements.txt": "./vendor/not-there\n"}))
    with pytest.raises(UnexpectedStatusException):
        est.fit(logs=False)
    reason = est.latest_training_job.describe()["FailureReason"]
    assert "InstallRequirementsError" in reason and "requirements.txt" in reason
    assert_intact(sess, source, baseline)
