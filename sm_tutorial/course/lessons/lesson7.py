"""Lesson 7, the debugging lab: six broken jobs, and a check for each fix.

Each case is a small script and the way it is launched. ``launch`` writes the script into
``debug_src/<case>/`` (with the learner's edits) and starts the job with the generic
``Estimator``, the way lesson 3's ``estimator_for`` does. A blank (``____``) in any argument
becomes a line ``____`` in the script, so the job fails saying so and the check says "not yet".
"""
from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises import BLANK_TEXT, Exercise, finished_job, is_blank, require
from ...client.logs import job_logs
from ...client.results import tar_members
from ...settings import REPO_ROOT

WHEEL = REPO_ROOT / "notebooks" / "scripts" / "container_demo" / "wheels"


@dataclass
class Case:
    script: str
    channels: tuple = ("train",)          # the channel names the job is launched with
    hyperparameters: dict = field(default_factory=dict)
    max_run: int = 60
    wheels: bool = False                  # ship container_demo's wheel in source_dir


CASES = {
    "channel": Case("""\
        import os
        folder = os.environ["SM_CHANNEL_TRAINING"]
        print("training files:", sorted(os.listdir(folder)))
        """),
    "hardcoded": Case("""\
        import json, os
        rows = open("../data/digits/csv/train.csv").read().splitlines()  # as in the notebook
        print("training on", len(rows), "rows")
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
            json.dump({"weights": [0.1, 0.2], "rows": len(rows)}, f)
        """),
    "bool": Case("""\
        import argparse, json, os
        parser = argparse.ArgumentParser()
        parser.add_argument("--normalize", type=bool, default=True)
        args, _ = parser.parse_known_args()
        print("arguments:", vars(args))
        stats = json.load(open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "stats.json")))
        if args.normalize and stats["max"] <= 1.0:
            raise ValueError(f"normalize={args.normalize}, but the pixels already lie in "
                             f"[0, {stats['max']}]: scaling them again would squash them")
        print("pixels used as they are")
        """, hyperparameters={"normalize": False}),
    "requirement": Case("""\
        import os
        import tinyutils
        print("train channel:", tinyutils.describe(len(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))))
        """, wheels=True),
    "model_place": Case("""\
        import json, os
        weights = {"weights": [0.1, 0.2]}
        with open("model.json", "w") as f:      # into the working directory
            json.dump(weights, f)
        print("saved model.json")
        """),
    "timeout": Case("""\
        import argparse, time
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=4)
        args, _ = parser.parse_known_args()
        for epoch in range(1, args.epochs + 1):
            time.sleep(1.0)                          # one slow epoch
            print(f"epoch {epoch}/{args.epochs} done", flush=True)
        """, hyperparameters={"epochs": 4}, max_run=2),
    "slow": Case("""\
        import time
        for minute in range(1, 600):
            print(f"still training, step {minute}", flush=True)
            time.sleep(0.5)
        """, channels=(), max_run=600),
}


def source_for(case: str, edits=None, files=None, folder="debug_src") -> Path:
    """Write the case's script (after ``edits``: {old text: new text}) and ``files``."""
    spec = CASES[case]
    script = textwrap.dedent(spec.script)
    blank = is_blank(edits) or is_blank(files)
    for old, new in ({} if blank else edits or {}).items():
        if old not in script:
            raise ValueError(f"{old!r} is not in debug_src/{case}/train.py; copy the text exactly.")
        script = script.replace(old, new)
    target = Path(folder) / case
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / "train.py").write_text((BLANK_TEXT + "\n" if blank else "") + script)
    if spec.wheels:
        shutil.copytree(WHEEL, target / "wheels")
    for name, text in ({} if blank else files or {}).items():
        (target / name).write_text(text)
    return target


def upload_stats(session) -> str:
    """The ``bool`` case's channel: a stats.json saying the pixels are already scaled."""
    key = "sm-tutorial/data/debug-lab/stats.json"
    session.upload_string_as_file_body(json.dumps({"max": 1.0}), session.default_bucket(), key)
    return f"s3://{session.default_bucket()}/{key.rsplit('/', 1)[0]}"


def launch(session, role, image, case, data_uri=None, *, channels=None, edits=None, files=None,
           hyperparameters=None, max_run=None, instance_type="ml.m5.xlarge"):
    """Start the case's job (wait=False) and return its estimator. ``channels``: the names to
    give fit() (default: the case's); the others override the case's launch settings."""
    from sagemaker.estimator import Estimator
    spec = CASES[case]
    blank = [v for v in (channels, hyperparameters, max_run) if is_blank(v)]
    source = source_for(case, edits=BLANK_TEXT if blank else edits, files=files)
    names = spec.channels if channels is None or blank else channels
    if case == "bool":
        data_uri = upload_stats(session)
    estimator = Estimator(
        entry_point="train.py", source_dir=str(source), image_uri=image, role=role,
        instance_type=instance_type, instance_count=1, base_job_name=f"debug-{case}".replace("_", "-"),
        hyperparameters=spec.hyperparameters if hyperparameters is None or blank else hyperparameters,
        max_run=spec.max_run if max_run is None or blank else max_run,
        sagemaker_session=session, disable_profiler=True)
    estimator.fit({name: data_uri for name in names} or None, wait=False)
    return estimator


def wait(session, estimator, timeout: float = 120) -> str:
    """Wait, quietly, for the estimator's job to end; returns the job's name."""
    import time
    name = estimator.latest_training_job.name
    deadline = time.time() + timeout
    while (session.describe_training_job(name)["TrainingJobStatus"] in ("InProgress", "Stopping")
           and time.time() < deadline):
        time.sleep(0.1)
    return name


def _fixed(session, job_name, case):
    d = finished_job(session, job_name)
    prefix = f"debug-{case}".replace("_", "-")
    require(job_name.startswith(prefix + "-"), f"{job_name} is not a run of the {case!r} case; "
            f"pass the fixed job (launched with launch(..., {case!r}, ...)).")
    require(d["TrainingJobStatus"] == "Completed", f"the fixed job ended {d['TrainingJobStatus']}: "
            f"{d.get('FailureReason', d.get('SecondaryStatus', ''))[:160]}")
    return d


def _model_members(session, d):
    return sorted(n for n in tar_members(session, d["ModelArtifacts"]["S3ModelArtifacts"]) if n != ".")


def _channel(session, job_name):
    d = _fixed(session, job_name, "channel")
    names = [c["ChannelName"] for c in d.get("InputDataConfig", [])]
    require(names == ["training"], f"channels {names}: name the channel the script reads.")
    return "the KeyError named SM_CHANNEL_TRAINING; the channel is the key of fit()'s dict."


def _hardcoded(session, job_name):
    d = _fixed(session, job_name, "hardcoded")
    require("model.json" in _model_members(session, d), "model.tar.gz has no model.json.")
    require("training on" in job_logs(session, job_name), "the log does not show 'training on'.")
    return ("the job sees only its container: code in /opt/ml/code, data from the channels "
            "(SM_CHANNEL_TRAIN), never the folders next to your notebook.")


def _bool(session, job_name):
    _fixed(session, job_name, "bool")
    log = job_logs(session, job_name)
    require("'normalize': False" in log, "the log should show 'normalize': False, parsed from "
            "the text 'False'.")
    return "type=bool turns any non-empty text, 'False' included, into True; compare the text."


def _requirement(session, job_name):
    _fixed(session, job_name, "requirement")
    require("train channel:" in job_logs(session, job_name), "the script did not get to run.")
    return "requirements.txt in source_dir is installed in the job's container before the script."


def _model_place(session, job_name):
    d = _fixed(session, job_name, "model_place")
    members = _model_members(session, d)
    require("model.json" in members, f"model.tar.gz holds {members or 'nothing'}; save model.json "
            "in SM_MODEL_DIR.")
    return "only SM_MODEL_DIR becomes model.tar.gz; the working directory is thrown away."


def _timeout(session, job_name):
    d = _fixed(session, job_name, "timeout")
    hps = {k: v.strip('"') for k, v in d.get("HyperParameters", {}).items()}
    require(hps.get("epochs") == "4", f"epochs={hps.get('epochs')}: keep all 4 epochs; give the job "
            "the time they need instead.")
    require("epoch 4/4 done" in job_logs(session, job_name), "the log does not show epoch 4/4.")
    return (f"max_run={d['StoppingCondition']['MaxRuntimeInSeconds']} s covers four 1-second "
            "epochs; on AWS, leave a margin for start-up and upload too.")


q1 = Exercise("wrong channel name", _channel, "The KeyError names the variable the script "
              "reads: SM_CHANNEL_<NAME>.", "channel_name = 'training'")
q2 = Exercise("a path from the notebook", _hardcoded, "The job runs in /opt/ml/code, not next "
              "to your notebook; the CSV reaches it through the train channel (SM_CHANNEL_TRAIN).",
              "fix = {'\"../data/digits/csv/train.csv\"': "
              "'os.path.join(os.environ[\"SM_CHANNEL_TRAIN\"], \"train.csv\")'}")
q3 = Exercise("type=bool", _bool, "Compare what the job was sent (HyperParameters) with what "
              "the script printed (arguments: ...).",
              "fix = {'type=bool': 'type=lambda s: s.lower() == \"true\"'}")
q4 = Exercise("missing requirement", _requirement, "ModuleNotFoundError: the package must be "
              "listed in requirements.txt; this one is a wheel in source_dir's wheels/ folder.",
              "files = {'requirements.txt': 'wheels/tinyutils-1.0-py3-none-any.whl\\n'}")
q5 = Exercise("model in the wrong place", _model_place, "The job Completed, but read the "
              "warning near the end of its log.",
              "fix = {'open(\"model.json\", \"w\")': "
              "'open(os.path.join(os.environ[\"SM_MODEL_DIR\"], \"model.json\"), \"w\")'}")
q6 = Exercise("stopped by MaxRuntime", _timeout, "Four epochs of about a second each: "
              "how long must the job be allowed to run?", "max_run = 30")
