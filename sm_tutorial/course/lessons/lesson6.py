"""Lesson 6: the capstone check, and the quiz on pros, cons and SDK v3.

The capstone check runs the learner's script once more, itself: same code and image, another
C, and a train channel holding only the digits 0-4. A script that hard-codes C, prints a C it
did not use, or reads a path on the laptop instead of SM_CHANNEL_TRAIN gives itself away.
"""
import csv
import io
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
