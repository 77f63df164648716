"""Containers as AWS runs them: ContainerEntrypoint/ContainerArguments, and bring-your-own images
(`sm-tutorial image add`), with their bad inputs."""
import copy
import json
import os
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from conftest import s3_tar, seen_root
from test_validation import GOOD

TF_IMAGE = GOOD["AlgorithmSpecification"]["TrainingImage"]


def ended(endpoint, sess, name):
    """Wait on the job's own finished event, then describe it through the API."""
    assert endpoint.service._jobs[name].finished.wait(60), name
    return sess.sagemaker_client.describe_training_job(TrainingJobName=name)


def request(name, **algorithm):
    r = copy.deepcopy(GOOD)
    r["TrainingJobName"] = name
    r["AlgorithmSpecification"].update(algorithm)
    return r


def test_container_entrypoint_and_arguments_through_boto3(sess, endpoint):
    script = 'echo "$0|$@" > "$SM_MODEL_DIR/x"; pwd > "$SM_MODEL_DIR/cwd"; echo ran-entrypoint'
    sess.sagemaker_client.create_training_job(**request(
        "entrypoint-bash", ContainerEntrypoint=["/bin/bash", "-c", script, "prog"],
        ContainerArguments=["a", "b c"]))
    described = ended(endpoint, sess, "entrypoint-bash")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AlgorithmSpecification"]["ContainerArguments"] == ["a", "b c"]
    members = s3_tar(sess, described["ModelArtifacts"]["S3ModelArtifacts"])
    assert members["x"] == b"prog|a b c\n"  # the arguments are argv, no hyperparameters added
    root = endpoint.workspace / "jobs" / "entrypoint-bash" / "opt" / "ml"
    assert members["cwd"].decode().strip() == seen_root((root).resolve()) + "/code"  # the WORKDIR
    log = (endpoint.workspace / "jobs" / "entrypoint-bash" / "algo-1.log").read_text()
    assert "ran-entrypoint" in log and "Starting the container" in log


def test_sdk_estimator_with_container_entry_point(sess, endpoint):
    from sagemaker.estimator import Estimator
    import sm_tutorial
    est = Estimator(image_uri=TF_IMAGE, role=sm_tutorial.role(), instance_type="ml.m5.xlarge",
                    instance_count=1, sagemaker_session=sess, disable_profiler=True,
                    container_entry_point=["/bin/bash", "-c"],
                    container_arguments=["echo hi > $SM_MODEL_DIR/x"],
                    hyperparameters={"epochs": 2})
    est.fit(job_name="entrypoint-sdk", wait=False)
    described = ended(endpoint, sess, "entrypoint-sdk")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AlgorithmSpecification"]["ContainerEntrypoint"] == ["/bin/bash", "-c"]
    assert s3_tar(sess, est.model_data)["x"] == b"hi\n"


def test_entrypoint_job_stops_with_its_children(sess, endpoint):
    script = 'sleep 300 & touch "$SM_OUTPUT_DATA_DIR/started"; wait'
    sess.sagemaker_client.create_training_job(**request(
        "entrypoint-stop", ContainerEntrypoint=["/bin/bash", "-c", script]))
    started = endpoint.workspace / "jobs" / "entrypoint-stop" / "opt" / "ml" / "output" / "data" / "started"
    deadline = time.time() + 30
    while not started.exists():
        assert time.time() < deadline
        time.sleep(0.05)
    sess.sagemaker_client.stop_training_job(TrainingJobName="entrypoint-stop")
    assert ended(endpoint, sess, "entrypoint-stop")["TrainingJobStatus"] == "Stopped"
    assert not (endpoint.workspace / "jobs" / "entrypoint-stop" / "process.json").exists()


@pytest.mark.parametrize("program,words", [
    ("/no/such/program", ["Cannot start the container", "/no/such/program",
                          "no such file or directory", "/bin/bash"]),
    ("no-such-program", ["executable file not found in $PATH", "name on the image's PATH"]),
])
def test_entrypoint_naming_a_missing_program(sess, endpoint, program, words):
    name = "entrypoint-missing-" + str(len(program))
    sess.sagemaker_client.create_training_job(**request(name, ContainerEntrypoint=[program]))
    described = ended(endpoint, sess, name)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError: ")
    for word in words:
        assert word in described["FailureReason"]


def test_entrypoint_that_exits_non_zero(sess, endpoint):
    sess.sagemaker_client.create_training_job(**request(
        "entrypoint-exit", ContainerEntrypoint=["/bin/bash", "-c", "echo 'ValueError: boom' >&2; exit 3"]))
    described = ended(endpoint, sess, "entrypoint-exit")
    assert described["TrainingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("AlgorithmError: See job logs") and "exited with code 3" in reason
    assert "ValueError: boom" in reason and "ExecuteUserScriptError" not in reason  # no toolkit


# -- bring your own image ------------------------------------------------------------------------
def tiny_wheel(folder):
    """A one-module wheel, so requirements.txt installs offline from the image folder."""
    path = folder / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("tinydep.py", "VALUE = 'from-the-wheel'\n")
        wheel.writestr("tinydep-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n")
        wheel.writestr("tinydep-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                                                      "Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr("tinydep-1.0.dist-info/RECORD", "")
    return path


TRAIN = """#!/usr/bin/env python3
import json, os, sys
import tinydep
base = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")  # set where /opt/ml is relocated
hps = json.load(open(os.path.join(base, "input", "config", "hyperparameters.json")))
with open(os.path.join(base, "model", "seen.json"), "w") as out:
    json.dump({"argv": sys.argv, "hps": hps, "dep": tinydep.VALUE, "cwd": os.getcwd(),
               "sm": sorted(k for k in os.environ if k.startswith("SM_")),
               "job": os.environ["TRAINING_JOB_NAME"], "arn": os.environ["TRAINING_JOB_ARN"],
               "mine": os.environ.get("MY_SETTING"),
               "data": os.listdir(os.path.join(base, "input", "data", "train"))}, out)
print("byo train ran")
"""


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "byo"
    folder.mkdir()
    (folder / "train").write_text(TRAIN)
    (folder / "train").chmod(0o755)
    (folder / "requirements.txt").write_text("tinydep==1.0\n")
    tiny_wheel(folder)
    return folder


def test_byo_image_runs_train_as_docker_run_image_train(sess, endpoint, image_folder, capsys):
    from sagemaker.estimator import Estimator
    from sm_tutorial.cli.main import main
    import sm_tutorial
    assert main(["image", "add", "byo-trainer", str(image_folder)]) == 0
    uri = capsys.readouterr().out.strip()
    assert uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-trainer:latest"
    assert (endpoint.workspace / "images" / "byo-trainer" / "packages" / "tinydep.py").is_file()
    assert main(["image", "list"]) == 0
    assert uri in capsys.readouterr().out
    ecr = sess.boto_session.client("ecr")
    repos = ecr.describe_repositories()["repositories"]
    assert "byo-trainer" in [r["repositoryName"] for r in repos]  # moto's ECR, behind the endpoint
    train = sess.upload_data(str(image_folder / "requirements.txt"), key_prefix="byo-test/train")
    est = Estimator(image_uri=uri, role=sm_tutorial.role(), instance_type="ml.m5.xlarge",
                    instance_count=1, sagemaker_session=sess, disable_profiler=True,
                    hyperparameters={"epochs": 3}, environment={"MY_SETTING": "on"})
    est.fit({"train": train.rsplit("/", 1)[0]}, job_name="byo-job", wait=False)
    described = ended(endpoint, sess, "byo-job")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    seen = json.loads(s3_tar(sess, est.model_data)["seen.json"])
    assert seen["argv"][1:] == [] and os.path.basename(seen["argv"][0]) == "train"
    assert seen["hps"] == {"epochs": "3"}  # hyperparameters only in hyperparameters.json
    assert seen["sm"] == []  # no toolkit in a BYO image: no SM_* variables
    assert seen["dep"] == "from-the-wheel" and seen["mine"] == "on"
    assert seen["job"] == "byo-job" and seen["arn"].endswith(":training-job/byo-job")
    assert seen["data"] == ["requirements.txt"]
    assert seen["cwd"] == seen_root((endpoint.workspace / "jobs" / "byo-job" / "opt" / "ml").resolve()) + "/code"
    log = (endpoint.workspace / "jobs" / "byo-job" / "algo-1.log").read_text()
    assert "byo train ran" in log and "Image byo-trainer (sm-tutorial image add)" in log
    assert "Instance ml.m5.xlarge: 4 vCPUs" in log and "SM_NUM_CPUS" not in log  # no toolkit, no SM_*
    assert main(["image", "remove", "byo-trainer"]) == 0
    assert "byo-trainer" not in [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    with pytest.raises(ClientError) as raised:  # removed: no longer pullable
        sess.sagemaker_client.create_training_job(**request("byo-after-remove", TrainingImage=uri))
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_unknown_image_uri_is_refused_at_create(sess):
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/never-added:latest"
    with pytest.raises(ClientError) as raised:
        sess.sagemaker_client.create_training_job(**request("byo-unknown", TrainingImage=uri))
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "Cannot find repository: never-added in registry ID: 123456789012" in error["Message"]
    assert "sm-tutorial image add never-added FOLDER" in error["Message"]
    names = [j["TrainingJobName"] for j in sess.sagemaker_client.list_training_jobs(
        MaxResults=100)["TrainingJobSummaries"]]
    assert "byo-unknown" not in names  # nothing stored


@pytest.mark.parametrize("problem,words", [
    ("missing", ["no file named 'train'", "add an executable file named train"]),
    ("not-executable", ["is not executable", "chmod +x"]),
    ("no-shebang", ["no shebang line", "#!/usr/bin/env python3"]),
    ("offline", ["requirements.txt could not be installed", "pip download -r requirements.txt"]),
])
def test_image_add_refuses_a_folder_it_cannot_run(tmp_path, capsys, problem, words):
    from sm_tutorial import settings
    from sm_tutorial.cli.main import main
    folder = tmp_path / "bad"
    folder.mkdir()
    train = folder / "train"
    if problem != "missing":
        train.write_text("print('x')\n" if problem == "no-shebang" else "#!/bin/bash\necho x\n")
        train.chmod(0o644 if problem == "not-executable" else 0o755)
    if problem == "offline":
        (folder / "requirements.txt").write_text("surely-not-a-package-sm-tutorial==9.9\n")
    before = sorted(os.listdir(settings.workspace() / "images")) \
        if (settings.workspace() / "images").exists() else []
    assert main(["image", "add", "bad-" + problem, str(folder)]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    after = sorted(os.listdir(settings.workspace() / "images")) \
        if (settings.workspace() / "images").exists() else []
    assert after == before  # nothing half-registered


def test_image_remove_of_an_unknown_name(capsys):
    from sm_tutorial.cli.main import main
    assert main(["image", "remove", "never-there"]) == 2
    assert "sm-tutorial image list" in capsys.readouterr().err


def test_byo_train_with_a_literal_opt_ml_path_is_told_the_variable(sess, endpoint, tmp_path, capsys,
                                                                   relocated):
    from sm_tutorial.cli.main import main
    folder = tmp_path / "literal"
    folder.mkdir()
    (folder / "train").write_text("#!/usr/bin/env python3\nopen('/opt/ml/model/m.txt', 'w')\n")
    (folder / "train").chmod(0o755)
    assert main(["image", "add", "byo-literal", str(folder)]) == 0
    uri = capsys.readouterr().out.strip()
    try:
        sess.sagemaker_client.create_training_job(**request("byo-literal-job", TrainingImage=uri))
        described = ended(endpoint, sess, "byo-literal-job")
    finally:
        assert main(["image", "remove", "byo-literal"]) == 0
    assert described["TrainingJobStatus"] == "Failed"
    assert "os.environ.get('SAGEMAKER_BASE_DIR', '/opt/ml'), 'model/m.txt'" in described["FailureReason"]
