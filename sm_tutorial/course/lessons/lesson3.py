"""Lesson 3 exercises: the /opt/ml tree, the failure file, and a bring-your-own image's train."""
import time

from ..exercises import Exercise, finished_job, require


def _config_path(answer):
    require(isinstance(answer, str), "answer with a path string such as '/opt/ml/...'.")
    path = answer.strip().rstrip("/")
    require(path.startswith("/opt/ml/"), "give the path as the script sees it on AWS, from /opt/ml/.")
    require(path.endswith(".json") and "/input/config/" in path,
            "the per-channel settings are one of the three JSON files in input/config/.")
    require(path == "/opt/ml/input/config/inputdataconfig.json",
            f"{path.rsplit('/', 1)[-1]} is not the one with each channel's TrainingInputMode.")
    return "inputdataconfig.json: one entry per channel, with its TrainingInputMode."


def _channel_uri(description):
    return [c["DataSource"]["S3DataSource"]["S3Uri"] for c in description.get("InputDataConfig", [])
            if c["ChannelName"] == "train"]


def _failure(session, job_without_rows, job_with_rows):
    empty = finished_job(session, job_without_rows)
    full = finished_job(session, job_with_rows)
    require(job_without_rows != job_with_rows and _channel_uri(empty) != _channel_uri(full),
            "pass two jobs of the same script: one on the empty CSV, one on data['csv'].")
    require(empty["TrainingJobStatus"] == "Failed",
            f"the job without rows ended {empty['TrainingJobStatus']}: after writing the failure "
            "file, sys.exit(1); a script that exits 0 has succeeded, whatever it wrote.")
    reason = empty.get("FailureReason", "")
    require(reason.startswith("Bad data:"), f"FailureReason is {reason[:80]!r}; write a line "
            "starting 'Bad data:' to the failure file (os.environ['SM_OUTPUT_DIR'] + '/failure').")
    require(full["TrainingJobStatus"] == "Completed",
            f"the job with rows ended {full['TrainingJobStatus']} "
            f"({full.get('FailureReason', '')[:60]!r}): fail only when there are no rows.")
    return "your own words became the job's FailureReason, and only when the data was missing."


q1 = Exercise("where the channel modes live", _config_path,
              "Three JSON files sit in /opt/ml/input/config/; one describes the data channels.",
              "'/opt/ml/input/config/inputdataconfig.json'")
q2 = Exercise("your own failure reason", _failure,
              "When rows == 0: write the message to os.path.join(os.environ['SM_OUTPUT_DIR'], "
              "'failure'), then sys.exit(1).",
              "if rows == 0:\n"
              "    with open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w') as f:\n"
              "        f.write('Bad data: no rows in the train channel')\n"
              "    sys.exit(1)")


# -- q3: a bring-your-own image's train reads min_accuracy from hyperparameters.json ------------
# The check runs the learner's image twice more: with a gate no nearest-mean model passes (it
# scores about 0.91), and with no hyperparameters at all. A hard-coded number, sys.argv or
# SM_HP_* (both empty in an image of your own), a string compared with a float, or no default
# all give themselves away.
PROBE_MIN_ACCURACY = "0.999"


def _byo_hint(reason: str) -> str:
    """What a FailureReason from the learner's train says about the usual mistakes."""
    if "not supported between" in reason and "str" in reason:
        return (" Every value in hyperparameters.json is a string ('0.8'): convert it, "
                "float(...), before comparing.")
    if "SM_" in reason:
        return (" An image of your own has no SM_* variables (no toolkit sets them): read "
                "input/config/hyperparameters.json under base.")
    if "IndexError" in reason or "argv" in reason:
        return " An image of your own gets no arguments (docker run IMAGE train): sys.argv is ['train']."
    if "FileNotFoundError" in reason or "No such file" in reason:
        return " The file is os.path.join(base, 'input', 'config', 'hyperparameters.json')."
    if "below min_accuracy" in reason:
        return (" Your train stopped at its gate, though the model passes the job's min_accuracy: "
                "is the number it compares the one from the file?")
    return " Compare your lines with q3.hint()."


def _byo_probes(session, d: dict, timeout: float = 120) -> dict:
    """The learner's image again, with a gate too high and with no hyperparameters (both at
    once); returns {"high": description, "none": description}."""
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1000) % 1000:03d}"
    algorithm = {k: v for k, v in d["AlgorithmSpecification"].items()
                 if k in ("TrainingImage", "TrainingInputMode")}
    channels = [{"ChannelName": c["ChannelName"], "DataSource": c["DataSource"],
                 **({"InputMode": c["InputMode"]} if c.get("InputMode") else {})}
                for c in d.get("InputDataConfig", [])]
    names = {}
    for probe, hyperparameters in (("high", {"min_accuracy": PROBE_MIN_ACCURACY}), ("none", {})):
        names[probe] = f"byo-probe-{probe}-{stamp}"
        session.sagemaker_client.create_training_job(
            TrainingJobName=names[probe], AlgorithmSpecification=algorithm, RoleArn=d["RoleArn"],
            HyperParameters=hyperparameters, InputDataConfig=channels,
            OutputDataConfig={"S3OutputPath": d["OutputDataConfig"]["S3OutputPath"]},
            ResourceConfig={k: d["ResourceConfig"][k] for k in ("InstanceType", "InstanceCount",
                                                                "VolumeSizeInGB")},
            StoppingCondition={"MaxRuntimeInSeconds": 600})
    found, deadline = {}, time.time() + timeout
    while len(found) < len(names) and time.time() < deadline:
        for probe, name in names.items():
            probed = session.describe_training_job(name)
            if probed["TrainingJobStatus"] not in ("InProgress", "Stopping"):
                found[probe] = probed
        time.sleep(0.2)
    late = [name for probe, name in names.items() if probe not in found]
    for name in late:
        session.sagemaker_client.stop_training_job(TrainingJobName=name)
    if late:
        raise TimeoutError(f"the check's own runs of your image took over {timeout:.0f} s: {late}")
    return found


def _byo_min_accuracy(session, job_name):
    d = finished_job(session, job_name)
    algorithm = d.get("AlgorithmSpecification", {})
    hps = d.get("HyperParameters", {})
    require(".dkr.ecr." in algorithm.get("TrainingImage", "") and "sagemaker_program" not in hps
            and not algorithm.get("ContainerEntrypoint"),
            "pass the job of your own image (mine.latest_training_job.name): an Estimator with "
            "image_uri=... and no entry_point.")
    require("min_accuracy" in hps, "run the job with hyperparameters={'min_accuracy': 0.8}.")
    reason = d.get("FailureReason", "")
    require(d["TrainingJobStatus"] == "Completed",
            f"your job ended {d['TrainingJobStatus']}: {reason[:160]!r}." + _byo_hint(reason))
    from ...client.sdk import simulated
    if not simulated():
        return ("your train ran in your own image (on AWS the check does not run it again; in "
                "simulated mode it tries min_accuracy=0.999 and no hyperparameters).")
    probes = _byo_probes(session, d)
    high, none = probes["high"], probes["none"]
    high_reason = high.get("FailureReason", "")
    require(high["TrainingJobStatus"] == "Failed",
            f"the check ran your image again with min_accuracy={PROBE_MIN_ACCURACY} and it ended "
            f"{high['TrainingJobStatus']}: your train does not use the value in "
            "hyperparameters.json (a number written in the program? sys.argv and SM_HP_* are "
            "empty in an image of your own).")
    require("below min_accuracy" in high_reason and PROBE_MIN_ACCURACY in high_reason,
            f"with min_accuracy={PROBE_MIN_ACCURACY} your train failed before the gate: "
            f"{high_reason[:160]!r}." + _byo_hint(high_reason))
    none_reason = none.get("FailureReason", "")
    require(none["TrainingJobStatus"] == "Completed",
            f"the check ran your image with no hyperparameters and it ended "
            f"{none['TrainingJobStatus']}: {none_reason[:120]!r}. When min_accuracy is missing, "
            "use 0: hyperparameters.get('min_accuracy', 0).")
    return (f"train read min_accuracy from hyperparameters.json as a number (rerun with "
            f"{PROBE_MIN_ACCURACY}: Failed at the gate; with no hyperparameters: Completed).")


q3 = Exercise("your own image reads its hyperparameters", _byo_min_accuracy,
              "No argv and no SM_HP_* in your own image: json.load the file "
              "os.path.join(base, 'input', 'config', 'hyperparameters.json'); its values are "
              "strings, so float(...) the one you need, and default to 0 when it is missing.",
              "with open(os.path.join(base, 'input', 'config', 'hyperparameters.json')) as f:\n"
              "    hyperparameters = json.load(f)\n"
              "min_accuracy = float(hyperparameters.get('min_accuracy', 0))")
