"""What a script sees inside a simulated job: files, variables and arguments, as on AWS; in both
container modes: its own /opt/ml (a Linux mount namespace) and /opt/ml relocated (the fallback)."""
import json

import pytest

from conftest import estimator, output_tar_uri, read_json_member, s3_tar

DUMP = """
import json, os, sys
out = os.environ["SM_OUTPUT_DATA_DIR"]
json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(),
           "env": {k: v for k, v in os.environ.items()}},
          open(os.path.join(out, "seen.json"), "w"))
for name in os.listdir(os.environ["SM_INPUT_CONFIG_DIR"]):
    with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], name)) as f:
        open(os.path.join(out, name), "w").write(f.read())
os.makedirs(os.path.join(os.environ["SM_MODEL_DIR"], "1", "variables"))
open(os.path.join(os.environ["SM_MODEL_DIR"], "1", "saved_model.pb"), "w").write("model")
open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.txt"), "w").write("w")
"""

HPS = {"epochs": 3, "learning-rate": 0.1, "name": "run one", "use-bn": True,
       "layers": [64, 32], "opts": {"b": 2, "a": "x"}, "k": 5}


@pytest.fixture(scope="module", params=["own /opt/ml", "relocated"])
def dumped(request, sess, digits, tmp_path_factory):
    from sm_tutorial.container import mounts
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "relocated":
            patch.setenv(mounts.SETTING, "off")
        elif mounts.unavailable():
            pytest.skip(f"no job namespaces here: {mounts.unavailable()}")
        return _dump(sess, digits, tmp_path_factory)


# sagemaker-training's Environment properties (its SM_TRAINING_ENV is dict(Environment())),
# read from aws/sagemaker-training-toolkit's src/sagemaker_training/environment.py (3383937)
TOOLKIT_PROPERTIES = [
    "additional_framework_parameters", "channel_input_dirs", "current_host", "current_instance_group",
    "current_instance_group_hosts", "current_instance_type", "distribution_hosts",
    "distribution_instance_groups", "framework_module", "hosts", "hyperparameters", "input_config_dir",
    "input_data_config", "input_dir", "instance_groups", "instance_groups_dict", "is_hetero", "is_master",
    "is_modelparallel_enabled", "is_smddpmprun_installed", "is_smddprun_installed", "job_name",
    "log_level", "master_hostname", "model_dir", "module_dir", "module_name", "network_interface_name",
    "num_cpus", "num_gpus", "num_neurons", "output_data_dir", "output_dir", "output_intermediate_dir",
    "resource_config", "topology", "user_entry_point"]


def _dump(sess, digits, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dump")
    (folder / "train.py").write_text(DUMP)
    (folder / "helper.py").write_text("X = 1\n")
    est = estimator(sess, str(folder), dict(HPS), environment={"MY_SETTING": "on"})  # the SDK adds to the dict
    est.fit({"train": digits["train"], "validation": digits["validation"]}, logs=False)
    description = est.latest_training_job.describe()
    members = s3_tar(sess, output_tar_uri(description))
    return est, description, members


def test_hyperparameters_json_is_exactly_what_was_sent(dumped):
    est, description, members = dumped
    sent = description["HyperParameters"]
    assert read_json_member(members, "hyperparameters.json") == sent
    assert sent["name"] == '"run one"' and sent["use-bn"] == "true"  # JSON-encoded by the SDK
    assert sent["sagemaker_program"] == '"train.py"'


def test_arguments_as_the_toolkit_renders_them(dumped):
    _, description, members = dumped
    seen = read_json_member(members, "seen.json")
    model_dir = f"s3://sagemaker-us-east-1-123456789012/{description['TrainingJobName']}/model"
    assert seen["argv"] == ["--epochs", "3", "-k", "5", "--layers", "[64, 32]",
                            "--learning-rate", "0.1", "--model_dir", model_dir,
                            "--name", "run one", "--opts", "a=x,b=2", "--use-bn", "True"]


def test_sm_variables(dumped):
    _, description, members = dumped
    env = read_json_member(members, "seen.json")["env"]
    root = env.get("SAGEMAKER_BASE_DIR", "/opt/ml")
    assert root == "/opt/ml" or root.endswith(f"/jobs/{description['TrainingJobName']}/opt/ml")
    assert env["SM_MODEL_DIR"] == f"{root}/model"
    assert env["SM_CHANNELS"] == '["train","validation"]'
    assert env["SM_CHANNEL_TRAIN"] == f"{root}/input/data/train"
    assert env["SM_HP_NAME"] == "run one"
    assert env["SM_HP_USE-BN"] == "true"
    assert env["SM_HP_LAYERS"] == "[64,32]"
    assert env["SM_HP_OPTS"] == '{"a":"x","b":2}'
    assert json.loads(env["SM_HPS"]) == {k: v for k, v in HPS.items()} | {
        "model_dir": f"s3://sagemaker-us-east-1-123456789012/{description['TrainingJobName']}/model"}
    assert "sagemaker_program" not in env["SM_HPS"]
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_NAME"] == "train"
    assert env["SM_MODULE_DIR"].startswith("s3://") and env["SM_MODULE_DIR"].endswith("sourcedir.tar.gz")
    assert env["SM_NUM_CPUS"] == "4" and env["SM_NUM_GPUS"] == "0"  # an ml.m5.xlarge's counts
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["SM_HOSTS"] == '["algo-1"]'
    assert env["SM_CURRENT_INSTANCE_TYPE"] == "ml.m5.xlarge"
    assert env["SM_OUTPUT_DATA_DIR"] == f"{root}/output/data"
    assert env["SM_LOG_LEVEL"] == "20"
    assert env["SM_FRAMEWORK_MODULE"] == "sagemaker_tensorflow_container.training:main"
    assert env["TRAINING_JOB_NAME"] == description["TrainingJobName"]
    assert env["SAGEMAKER_REGION"] == "us-east-1"
    assert env["MY_SETTING"] == "on"  # the estimator's environment= reaches the script
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert sorted(training_env) == TOOLKIT_PROPERTIES  # dict(Environment()): every property
    assert (training_env["is_modelparallel_enabled"], training_env["is_smddprun_installed"],
            training_env["is_smddpmprun_installed"], training_env["topology"]) == (None, False, False, [])
    assert training_env["hyperparameters"]["layers"] == [64, 32]
    assert training_env["channel_input_dirs"]["validation"] == f"{root}/input/data/validation"
    user_args = json.loads(env["SM_USER_ARGS"])
    assert user_args[:2] == ["--epochs", "3"]
    expected = {"SM_MODEL_DIR", "SM_CHANNELS", "SM_HPS", "SM_CURRENT_HOST", "SM_HOSTS",
                "SM_NUM_GPUS", "SM_NUM_CPUS", "SM_NUM_NEURONS", "SM_LOG_LEVEL",
                "SM_NETWORK_INTERFACE_NAME", "SM_USER_ARGS", "SM_INPUT_DIR", "SM_INPUT_CONFIG_DIR",
                "SM_OUTPUT_DIR", "SM_OUTPUT_DATA_DIR", "SM_OUTPUT_INTERMEDIATE_DIR",
                "SM_RESOURCE_CONFIG", "SM_INPUT_DATA_CONFIG", "SM_TRAINING_ENV", "SM_MODULE_DIR",
                "SM_MODULE_NAME", "SM_USER_ENTRY_POINT", "SM_FRAMEWORK_MODULE",
                "SM_FRAMEWORK_PARAMS", "SM_CURRENT_INSTANCE_TYPE", "SM_CURRENT_INSTANCE_GROUP",
                "SM_CURRENT_INSTANCE_GROUP_HOSTS", "SM_INSTANCE_GROUPS", "SM_INSTANCE_GROUPS_DICT",
                "SM_DISTRIBUTION_INSTANCE_GROUPS", "SM_IS_HETERO", "TRAINING_JOB_NAME", "CURRENT_HOST"}
    assert expected <= set(env)


def test_clean_environment_with_the_local_endpoint(dumped, sess):
    _, _, members = dumped
    seen = read_json_member(members, "seen.json")
    env = seen["env"]
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert "SM_TUTORIAL_WORKSPACE" not in env and "PYTEST_CURRENT_TEST" not in env
    assert seen["cwd"] == env.get("SAGEMAKER_BASE_DIR", "/opt/ml") + "/code"


def test_config_files(dumped):
    _, _, members = dumped
    assert read_json_member(members, "resourceconfig.json") == {
        "current_host": "algo-1", "current_instance_type": "ml.m5.xlarge",
        "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
        "instance_groups": [{"instance_group_name": "homogeneousCluster",
                             "instance_type": "ml.m5.xlarge", "hosts": ["algo-1"]}],
        "network_interface_name": "eth0"}
    assert read_json_member(members, "inputdataconfig.json") == {
        name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
               "RecordWrapperType": "None"} for name in ("train", "validation")}


def test_container_layout_stays_inspectable(dumped):
    import sm_tutorial
    _, description, _ = dumped
    root = sm_tutorial.job_root(description["TrainingJobName"])
    assert sorted(p.name for p in (root / "input" / "data" / "train").iterdir()) == [
        f"digits-train-000{i}-of-0004.tfrecord" for i in range(4)]
    assert (root / "code" / "train.py").exists() and (root / "code" / "helper.py").exists()
    for name in ("hyperparameters.json", "resourceconfig.json", "inputdataconfig.json"):
        assert (root / "input" / "config" / name).exists()
    assert (root / "output" / "success").exists()
    assert (root / "checkpoints").is_dir()


def test_model_archive_layout(dumped, sess):
    est, description, members = dumped
    model = s3_tar(sess, est.model_data)
    assert est.model_data.endswith(f"/{description['TrainingJobName']}/output/model.tar.gz")
    assert set(model) == {"1", "1/variables", "1/saved_model.pb", "weights.txt"}
    assert model["1/saved_model.pb"] == b"model"
    assert "seen.json" in members and not any(n.startswith(("./", "/", "data/")) for n in members)


def test_status_timeline(dumped):
    _, d, _ = dumped
    assert d["TrainingJobStatus"] == "Completed" and d["SecondaryStatus"] == "Completed"
    steps = [t["Status"] for t in d["SecondaryStatusTransitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t and t["EndTime"] >= t["StartTime"] for t in d["SecondaryStatusTransitions"])
    assert d["BillableTimeInSeconds"] >= 1 and d["TrainingTimeInSeconds"] == d["BillableTimeInSeconds"]
    assert d["TrainingEndTime"] >= d["TrainingStartTime"] >= d["CreationTime"]
