"""Lesson 6: the capstone check, and the quiz on pros, cons and SDK v3."""
from ..exercises import Exercise, finished_job, require
from ..logs import job_logs
from ..results import tar_members


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
    return "a plain script became a SageMaker job: arguments in, channel data, model out."


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
