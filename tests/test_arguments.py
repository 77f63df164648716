"""Hyperparameters -> command-line arguments and SM_* encodings, as AWS's toolkit renders them."""
import json

from sm_tutorial.container import arguments, environment


def wire(**hps):
    """What a framework estimator sends: every value JSON-encoded."""
    return {k: json.dumps(v) for k, v in hps.items()}


def test_strings_bools_numbers_lists_dicts_and_one_letter_keys():
    hps = arguments.user_hyperparameters(wire(
        epochs=3, lr=0.1, name="run one", flag=True, layers=[64, 32], opts={"b": 2, "a": "x"},
        k=5, sagemaker_program="train.py"))
    assert arguments.to_cmd_args(hps) == [
        "--epochs", "3", "--flag", "True", "-k", "5", "--layers", "[64, 32]", "--lr", "0.1",
        "--name", "run one", "--opts", "a=x,b=2"]


def test_values_that_are_not_json_stay_strings():
    # The generic Estimator without source_dir sends values unencoded.
    assert arguments.decode({"mode": "fast", "n": "3", "none": "null"}) == \
        {"mode": "fast", "n": 3, "none": None}
    assert arguments.to_cmd_args({"none": None}) == ["--none", "None"]


def test_sagemaker_keys_are_dropped_from_arguments():
    hps = wire(sagemaker_program="train.py", sagemaker_region="us-east-1", epochs=1)
    assert arguments.to_cmd_args(arguments.user_hyperparameters(hps)) == ["--epochs", "1"]
    assert set(arguments.sagemaker_hyperparameters(hps)) == {"sagemaker_program", "sagemaker_region"}


def test_env_encoding_strings_as_is_others_compact_sorted_json():
    assert environment._format("run one") == "run one"
    assert environment._format(None) == ""
    assert environment._format(True) == "true"
    assert environment._format({"b": [1, 2], "a": 1}) == '{"a":1,"b":[1,2]}'
