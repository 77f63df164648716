"""Lesson 6: the capstone check, and the quiz on pros, cons and SDK v3.

The capstone check runs the learner's script once more, itself: same code and image, another
C, and a train channel holding only the digits 0-4. A script that hard-codes C, prints a C it
did not use, or reads a path on the laptop instead of SM_CHANNEL_TRAIN gives itself away.

The argv question (``q_argv``) is answered by the SDK's own code: ModelTrainer's serializer
(what CreateTrainingJob carries) and its container driver's ``hyperparameters_to_cli_args``
(what the script's command line becomes), the functions that ran in the lesson's job.
"""
import csv
import io
import json
import time

from ..course_data import local_path
from ..exercises import Exercise, finished_job, require
from ...client.logs import job_logs
from ...client.results import tar_members

PROBE_C = 0.125
PROBE_DIGITS = {0, 1, 2, 3, 4}
PROBE_PREFIX = "sm-tutorial/checks/capstone-probe"


def _probe_data(session) -> str:
    """Upload the CSV training rows of the digits 0-4 once; returns the channel's S3 URI."""
    bucket = session.default_bucket()
    s3 = session.boto_session.client("s3")
    key = f"{PROBE_PREFIX}/train.csv"
    if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0:
        with open(local_path("csv/train.csv"), newline="") as f:
            rows = list(csv.reader(f))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows(r for r in rows[1:] if int(float(r[0])) in PROBE_DIGITS)
        s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue().encode())
    return f"s3://{bucket}/{PROBE_PREFIX}"


def _rerun(session, d: dict, timeout: float = 300) -> dict:
    """The learner's job again, with C=PROBE_C and the probe data; returns its description."""
    hps = dict(d["HyperParameters"])
    hps["C"] = f'"{PROBE_C}"' if hps["C"].startswith('"') else str(PROBE_C)
    name = f"capstone-probe-{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1000) % 1000:03d}"
    algorithm = {k: v for k, v in d["AlgorithmSpecification"].items()
                 if k in ("TrainingImage", "TrainingInputMode")}
    session.sagemaker_client.create_training_job(
        TrainingJobName=name, AlgorithmSpecification=algorithm, RoleArn=d["RoleArn"],
        HyperParameters=hps, OutputDataConfig={"S3OutputPath": d["OutputDataConfig"]["S3OutputPath"]},
        ResourceConfig={k: d["ResourceConfig"][k] for k in ("InstanceType", "InstanceCount",
                                                            "VolumeSizeInGB")},
        StoppingCondition={"MaxRuntimeInSeconds": min(d["StoppingCondition"]["MaxRuntimeInSeconds"], 600)},
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": _probe_data(session),
            "S3DataDistributionType": "FullyReplicated"}}}])
    deadline = time.time() + timeout
    while time.time() < deadline:
        probe = session.describe_training_job(name)
        if probe["TrainingJobStatus"] not in ("InProgress", "Stopping"):
            return probe
        time.sleep(0.2)
    session.sagemaker_client.stop_training_job(TrainingJobName=name)
    raise TimeoutError(f"the check's own run of your script, {name}, took over {timeout:.0f} s")


def _capstone(session, job_name):
    d = finished_job(session, job_name)
    require(d["TrainingJobStatus"] == "Completed",
            f"the job failed: {d.get('FailureReason', '')[:200]}")
    hps = d.get("HyperParameters", {})
    require("C" in hps, "pass the regularisation strength as a hyperparameter named 'C'.")
    channels = [c["ChannelName"] for c in d.get("InputDataConfig", [])]
    require(channels == ["train"], f"channels {channels}: give the CSV folder as the 'train' channel.")
    names = sorted(tar_members(session, d["ModelArtifacts"]["S3ModelArtifacts"]))
    require("model.joblib" in names, f"model.tar.gz holds {names}; save model.joblib in SM_MODEL_DIR.")
    log = job_logs(session, job_name)
    require(f"C={float(hps['C'].strip(chr(34)))}" in log,
            "the log should show the C the script used (print(f'C={args.C}')). Is it read from "
            "argv? A one-letter hyperparameter arrives as -C, with one dash, not --C.")
    from ...client.sdk import simulated
    if not simulated():
        return ("a plain script became a SageMaker job (on AWS the check does not rerun it with "
                "another C and other data; in simulated mode it does).")
    import joblib
    probe = _rerun(session, d)
    require(probe["TrainingJobStatus"] == "Completed", "run again with C=" f"{PROBE_C} and other "
            f"data, your script failed: {probe.get('FailureReason', '')[:160]}")
    member = tar_members(session, probe["ModelArtifacts"]["S3ModelArtifacts"]).get("model.joblib")
    require(member is not None, "run again with other data, the script saved no model.joblib.")
    model = joblib.load(io.BytesIO(member))
    learned = {int(c) for c in getattr(model, "classes_", [])}
    require(learned == PROBE_DIGITS, "run again on a train channel of the digits 0-4 only, your "
            f"model learned the digits {sorted(learned)}: read the data from the train channel "
            "(os.environ['SM_CHANNEL_TRAIN']), not from a path on your machine.")
    require(getattr(model, "C", None) == PROBE_C, f"run again with C={PROBE_C}, your model used "
            f"C={getattr(model, 'C', None)}: pass args.C to LogisticRegression, do not hard-code it.")
    require(f"C={PROBE_C}" in job_logs(session, probe["TrainingJobName"]),
            f"run again with C={PROBE_C}, the log does not say C={PROBE_C}: print the C you parsed.")
    return ("a plain script became a SageMaker job: arguments in, channel data, model out "
            f"(rerun with C={PROBE_C} on other data: it followed both).")


def _v3(answer):
    require(isinstance(answer, str), "answer with the class name, as a string.")
    require(answer.strip().split(".")[-1] == "ModelTrainer",
            f"{answer!r} is not it: SDK v3 replaced every Estimator with one training class.")
    return "sagemaker.train.ModelTrainer replaces Estimator and the framework estimators in v3."


# The argv question: a one-letter key, a boolean, a dict and a string, in an unsorted order.
ARGV_HYPERPARAMETERS = {"k": 5, "use-bn": False, "optimizer": {"name": "sgd", "momentum": 0.9},
                        "activation": "relu"}


def model_trainer_argv(hyperparameters: dict) -> list:
    """The argv a ModelTrainer job's script gets for ``hyperparameters``, by the SDK's own
    functions: ModelTrainer sends each value through ``safe_serialize`` (strings as they are,
    everything else ``json.dumps``); in the container the driver decodes them
    (``safe_deserialize``, as its ``SM_HPS``) and builds the command line."""
    from ...client import sdk  # noqa: F401  (the SDK set up quiet before its first import)
    from sagemaker.modules.utils import safe_serialize
    from sagemaker.modules.train.container_drivers.common.utils import (
        hyperparameters_to_cli_args, safe_deserialize)
    sent = {key: safe_serialize(value) for key, value in hyperparameters.items()}
    return hyperparameters_to_cli_args({key: safe_deserialize(v) for key, v in sent.items()})


def toolkit_argv(hyperparameters: dict) -> list:
    """The argv the v2 Estimator's script gets from the image's toolkit (lesson 2)."""
    from ..widgets import hyperparameter_views
    return hyperparameter_views(hyperparameters)["argv"]


def _argv(answer):
    require(isinstance(answer, (list, tuple)) and all(isinstance(a, str) for a in answer),
            "answer with a list of strings, as the script's sys.argv[1:] shows it: "
            "['--k', '5', ...].")
    answer, hps = list(answer), ARGV_HYPERPARAMETERS
    want = model_trainer_argv(hps)
    require(answer != toolkit_argv(hps),
            "that is the v2 Estimator's argv, built by the image's toolkit (keys sorted, -k, "
            "values by str()). ModelTrainer's driver builds its own: look at the ModelTrainer "
            "row of argv in the table.")
    require(len(answer) == len(want), f"{len(answer)} strings: the driver sends a flag and a value "
            f"for each of the {len(hps)} hyperparameters, {len(want)} strings in all.")
    flags, values = answer[0::2], answer[1::2]
    require("-k" not in flags, "ModelTrainer's driver gives every key two dashes, a one-letter "
            "key too: --k (only the v2 toolkit writes -k).")
    require(sorted(flags) == sorted(want[0::2]),
            f"the flags are '--' and each key of the dict as written; you have {flags}.")
    require(flags == want[0::2], "ModelTrainer keeps the order of your dict; it does not sort "
            "the keys as the v2 toolkit does.")
    for flag, value, right in zip(flags, values, want[1::2]):
        original = hps[flag[2:]]
        require(not (value == str(original) and value != right) and not (
                isinstance(original, dict) and "=" in value),
                f"{flag} {value}: that is Python's str() (or the toolkit's k=v for a dict); "
                "ModelTrainer's driver writes every value that is not a string as JSON, "
                "json.dumps.")
        require(not (isinstance(original, str) and value == json.dumps(original)),
                f"{flag} {value}: a string arrives as it is, without quotes.")
        require(value != json.dumps(original, separators=(",", ":")) or value == right,
                f"{flag} {value}: compact JSON is the v2 toolkit's SM_HP_* form; the driver's "
                "json.dumps keeps its default spaces, as in SM_HPS in the table.")
        require(value != json.dumps(original, sort_keys=True) or value == right,
                f"{flag} {value}: json.dumps keeps the dict's own order; it does not sort keys.")
        require(value == right, f"{flag} {value!r} is not what the script receives.")
    return ("ModelTrainer's argv: your dict's order, two dashes for every key, JSON values "
            "(strings as they are). A parser written for the v2 toolkit needs a look before it "
            "moves: a boolean arrives as 'false' (lesson 2's s.lower() == 'true' still reads "
            "it), a dict as JSON, not k=v, and -k as --k.")


capstone = Exercise("capstone: a plain script as a SageMaker job", _capstone,
                    "Read -C (one dash: a one-letter key) with argparse (type=float), the CSV "
                    "from SM_CHANNEL_TRAIN/train.csv, save "
                    "with joblib to SM_MODEL_DIR, print f'C={args.C}'; fit({'train': csv_prefix}).",
                    "parser.add_argument('-C', type=float, default=1.0)\n"
                    "args, _ = parser.parse_known_args(); print(f'C={args.C}')\n"
                    "frame = pd.read_csv(os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'train.csv'))\n"
                    "... LogisticRegression(C=args.C, max_iter=500).fit(X, y)\n"
                    "joblib.dump(model, os.path.join(os.environ['SM_MODEL_DIR'], 'model.joblib'))\n"
                    "est.fit({'train': data['csv']})")
q_v3 = Exercise("SDK v3", _v3, "It lives in sagemaker.train.", "'ModelTrainer'")
q_argv = Exercise("ModelTrainer's argv", _argv,
                  "Compare the argv row of the table: order as in the dict, '--' before every key, "
                  "values as json.dumps writes them (true/false, {\"a\": 1} with a space), "
                  "strings as they are.",
                  "['--k', '5', '--use-bn', 'false', '--optimizer', "
                  "'{\"name\": \"sgd\", \"momentum\": 0.9}', '--activation', 'relu']")
