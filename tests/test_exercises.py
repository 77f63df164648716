"""The lessons' checks: each refuses the wrong answers a learner (or a leaky check) let through,
accepts a right one, and says "fill in the ____" for a blank."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import REPO, estimator

from sm_tutorial.course.exercises import ____, is_blank
from sm_tutorial.course.lessons import lesson0, lesson1, lesson3, lesson4, lesson5, lesson6, lesson8, lesson9


def refused(capsys, exercise, *answer, words=()):
    capsys.readouterr()  # what fit() printed before
    assert exercise.check(*answer) is False
    out = capsys.readouterr().out
    assert out.startswith(f"Not yet ({exercise.title}):"), out
    for word in words:
        assert word in out, out
    return out


def accepted(capsys, exercise, *answer):
    capsys.readouterr()
    ok = exercise.check(*answer)
    out = capsys.readouterr().out
    assert ok is True, out
    return out


def write(folder: Path, script: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(textwrap.dedent(script))
    return str(folder)


def run(est, inputs=None):
    est.fit(inputs, wait=True, logs=False) if inputs is None else est.fit(inputs, logs=False)
    return est.latest_training_job.name


def run_quietly(est, inputs=None):
    try:
        est.fit(inputs, logs=False)
    except Exception:  # a failed job raises UnexpectedStatusException; its record is what counts
        pass
    return est.latest_training_job.name


# -- blanks --------------------------------------------------------------------------------
def test_blank_is_contagious_and_every_check_says_not_yet(capsys, sess):
    assert is_blank(____) and is_blank(____.name) and is_blank(____(1)["x"]) and is_blank(____ + 1)
    assert is_blank({"a": [____]}) and is_blank("s3://bucket/____")
    assert not is_blank("s3://bucket/train") and not is_blank({"a": 1})
    assert not hasattr(____, "_repr_html_") and repr(____) == "____"  # displays as itself

    def parse_args(argv):
        ____
    assert is_blank(parse_args)
    from sm_tutorial.course.lessons import lesson2
    every = [(lesson0.q1, ____), (lesson0.q2, sess, "job", ____), (lesson1.q1, ____),
             (lesson1.q2, sess, "job", ____), (lesson2.q1, parse_args), (lesson2.q2, ____),
             (lesson3.q1, ____), (lesson3.q3, sess, ____), (lesson4.q1, sess, ____), (lesson5.q1, sess, "job", {"a": ____}),
             (lesson5.q2, object(), ____), (lesson6.q_v3, ____), (lesson6.q_argv, ____),
             (lesson6.q_argv, ["--k", ____]), (lesson8.q1, sess, ____), (lesson8.q2, sess, "job", ____),
             (lesson8.q3, ____)]
    for exercise, *answer in every:
        refused(capsys, exercise, *answer, words=["fill in the ____"])


# -- lesson 0 ------------------------------------------------------------------------------
def test_a_check_that_cannot_read_the_answer_says_not_yet_without_a_traceback(capsys):
    from sm_tutorial.course.exercises import Exercise

    def checker(c):
        return f"C={float(c)}"  # a learner's "half" makes this raise ValueError
    q = Exercise("C", checker, hint="a number", solution="0.5")
    assert q.check("half") is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet (C): checking your answer raised ValueError") and "hint" in out
    assert q.check("0.5") is True


def test_lesson0_q1_refuses_a_wrong_place(capsys):
    answer = dict(lesson0.WHERE, **{"pip install -r requirements.txt": "kernel"})
    refused(capsys, lesson0.q1, answer, words=["pip install"])
    accepted(capsys, lesson0.q1, dict(lesson0.WHERE))


def test_lesson0_q2_wants_the_count_from_the_c5_4xlarge_job(capsys, sess, tmp_path):
    src = write(tmp_path / "welcome", """\
        import os
        print("host:", os.environ["SM_CURRENT_HOST"], "| CPUs:", os.environ["SM_NUM_CPUS"])
        """)
    small = run(estimator(sess, src))
    big = run(estimator(sess, src, instance_type="ml.c5.4xlarge"))
    refused(capsys, lesson0.q2, sess, small, 4, words=["ml.c5.4xlarge"])
    refused(capsys, lesson0.q2, sess, big, 4, words=["not what this job printed"])  # stated in lesson 0
    accepted(capsys, lesson0.q2, sess, big, 16)


# -- lesson 1 ------------------------------------------------------------------------------
def _digits_estimator(sess, **kwargs):
    from sagemaker.tensorflow import TensorFlow
    import sm_tutorial
    settings = dict(entry_point="train.py", source_dir=str(REPO / "notebooks" / "scripts" / "digits"),
                    framework_version="2.16", py_version="py310", role=sm_tutorial.role(),
                    instance_type="ml.c5.xlarge", instance_count=1, max_run=600,
                    base_job_name="digits-c5", sagemaker_session=sess, disable_profiler=True)
    settings.update(kwargs)
    return TensorFlow(**settings)


def test_lesson1_q1_refuses_any_other_script(capsys, sess, tmp_path):
    other = write(tmp_path / "other", "print('not the digits script')\n")
    refused(capsys, lesson1.q1, _digits_estimator(sess, source_dir=other), words=["same script"])
    refused(capsys, lesson1.q1, _digits_estimator(sess, entry_point="nope.py"), words=["same script"])
    accepted(capsys, lesson1.q1, _digits_estimator(sess))


def test_lesson1_q2_refuses_the_estimator_that_launched_the_job(capsys, sess, tmp_path):
    from sagemaker.estimator import Estimator
    quick = estimator(sess, write(tmp_path / "quick", "print('quick')\n"))
    quick.fit(wait=False)
    name = quick.latest_training_job.name
    quick.latest_training_job.wait(logs="None")
    refused(capsys, lesson1.q2, sess, name, quick, words=["Estimator.attach"])
    accepted(capsys, lesson1.q2, sess, name, Estimator.attach(name, sagemaker_session=sess))


# -- lesson 3 ------------------------------------------------------------------------------
COUNT_ROWS = """\
    import glob, os, sys
    rows = 0
    for path in glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv")):
        with open(path) as f:
            rows += max(sum(1 for _ in f) - 1, 0)
    """
FAIL = """\
    {cond}
        with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
            f.write("Bad data: no rows in the train channel")
        sys.exit({code})
    print("rows:", rows)
    """


def _two_runs(sess, digits, folder: Path, cond: str, code: int):
    src = write(folder, textwrap.dedent(COUNT_ROWS) + textwrap.dedent(FAIL.format(cond=cond, code=code)))
    bucket = sess.default_bucket()
    sess.upload_string_as_file_body("label,pixel_0\n", bucket, "sm-tutorial/tests/empty/train.csv")
    empty = run_quietly(estimator(sess, src), {"train": f"s3://{bucket}/sm-tutorial/tests/empty"})
    full = run_quietly(estimator(sess, src), {"train": digits["csv"]})
    return empty, full


def test_lesson3_q2_checks_the_no_data_logic_and_the_exit_code(capsys, sess, digits, tmp_path):
    always = _two_runs(sess, digits, tmp_path / "always", "if True:", 1)       # fails every time
    refused(capsys, lesson3.q2, sess, *always, words=["fail only when there are no rows"])
    exit0 = _two_runs(sess, digits, tmp_path / "exit0", "if rows == 0:", 0)     # wrote it, exit 0
    refused(capsys, lesson3.q2, sess, *exit0, words=["sys.exit(1)"])
    refused(capsys, lesson3.q2, sess, always[0], always[0], words=["two jobs"])
    right = _two_runs(sess, digits, tmp_path / "right", "if rows == 0:", 1)
    accepted(capsys, lesson3.q2, sess, *right)


BYO_TRAIN = """\
#!/usr/bin/env python3
import json, os, sys
import centroids
base = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")
try:
    {read}
    model = centroids.fit(centroids.load(os.path.join(base, "input", "data", "train")))
    accuracy = centroids.accuracy(model, centroids.load(os.path.join(base, "input", "data", "validation")))
    if accuracy < min_accuracy:
        raise ValueError(f"validation accuracy {{accuracy:.3f}} is below min_accuracy {{min_accuracy}}")
    with open(os.path.join(base, "model", "model.json"), "w") as f:
        json.dump({{"centroids": model}}, f)
except Exception as error:
    with open(os.path.join(base, "output", "failure"), "w") as f:
        f.write(f"{{type(error).__name__}}: {{error}}")
    sys.exit(1)
"""
HPS_FILE = 'json.load(open(os.path.join(base, "input", "config", "hyperparameters.json")))'


def _byo_job(sess, digits, tmp_path, name: str, read: str) -> str:
    """lesson 3's exercise image with ``read`` as the learner's line, registered and run once."""
    import shutil
    from sagemaker.estimator import Estimator
    import sm_tutorial
    from sm_tutorial.cli.main import main
    folder = tmp_path / name
    shutil.copytree(REPO / "notebooks" / "scripts" / "byo_image", folder)
    (folder / "train").write_text(BYO_TRAIN.format(read=read))
    assert main(["image", "add", name, str(folder)]) == 0
    est = Estimator(image_uri=f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:latest",
                    role=sm_tutorial.role(), instance_type="ml.m5.xlarge", instance_count=1,
                    hyperparameters={"min_accuracy": 0.8}, sagemaker_session=sess,
                    disable_profiler=True)
    return run_quietly(est, {"train": digits["csv"] + "/train.csv",
                             "validation": digits["csv"] + "/validation.csv"})


@pytest.fixture
def q3_images():
    """Unregisters the images a test registered."""
    from sm_tutorial import settings
    from sm_tutorial.platform import images
    before = set(images.names(settings.workspace()))
    yield
    for name in set(images.names(settings.workspace())) - before:
        images.remove(settings.workspace(), name)


def test_lesson3_q3_wants_min_accuracy_from_hyperparameters_json(capsys, sess, digits, tmp_path,
                                                                  q3_images):
    hard = _byo_job(sess, digits, tmp_path, "q3-hard", "min_accuracy = 0.8")  # passes its own run
    refused(capsys, lesson3.q3, sess, hard, words=["min_accuracy=0.999", "does not use the value"])
    text = _byo_job(sess, digits, tmp_path, "q3-text", f"min_accuracy = {HPS_FILE}['min_accuracy']")
    refused(capsys, lesson3.q3, sess, text, words=["ended Failed", "is a string", "float(...)"])
    no_default = _byo_job(sess, digits, tmp_path, "q3-no-default",
                          f"min_accuracy = float({HPS_FILE}['min_accuracy'])")
    refused(capsys, lesson3.q3, sess, no_default, words=["no hyperparameters", ".get('min_accuracy', 0)"])
    blank = _byo_job(sess, digits, tmp_path, "q3-blank", "min_accuracy = ____")  # a learner copy
    refused(capsys, lesson3.q3, sess, blank, words=["fill in the ____"])
    right = _byo_job(sess, digits, tmp_path, "q3-right",
                     f"min_accuracy = float({HPS_FILE}.get('min_accuracy', 0))")
    accepted(capsys, lesson3.q3, sess, right)


# -- lesson 4 ------------------------------------------------------------------------------
def test_lesson4_q1_wants_the_digits_train_prefix(capsys, sess, digits):
    from sagemaker.inputs import TrainingInput
    for uri in ("s3://some-other-bucket/train", digits["csv"] + "/train"):
        wrong = TrainingInput(uri, input_mode="Pipe", record_wrapping="RecordIO")
        refused(capsys, lesson4.q1, sess, wrong, words=["not the digits train prefix"])
    right = TrainingInput(digits["train"], input_mode="Pipe", record_wrapping="RecordIO")
    accepted(capsys, lesson4.q1, sess, right)


# -- lesson 5 ------------------------------------------------------------------------------
def test_lesson5_q1_wants_every_epoch_of_this_jobs_metrics(capsys, sess, tmp_path):
    src = write(tmp_path / "metrics", """\
        import json, os
        json.dump({"accuracy": [0.5, 0.75], "loss": [1.0, 0.5]},
                  open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "metrics.json"), "w"))
        """)
    name = run(estimator(sess, src))
    refused(capsys, lesson5.q1, sess, name, {"accuracy": [0.75], "loss": [0.5]}, words=["every epoch"])
    accepted(capsys, lesson5.q1, sess, name, {"accuracy": [0.5, 0.75], "loss": [1.0, 0.5]})


def test_lesson5_q2_wants_all_359_rows_not_the_first_ten(capsys):
    import numpy as np
    from sm_tutorial.course.course_data import local_path

    class Guess:  # a stand-in for the Keras model: always the label of the row's first pixel
        def predict(self, x, verbose=0):
            return np.eye(10)[(x[:, 0] * 16).astype(int) % 10]
    rows = np.loadtxt(local_path("csv/validation.csv"), delimiter=",", skiprows=1)
    hits = Guess().predict(rows[:, 1:] / 16.0).argmax(axis=1) == rows[:, 0]
    assert float(hits[:10].mean()) != float(hits.mean())
    refused(capsys, lesson5.q2, Guess(), float(hits[:10].mean()), words=["first ten"])
    accepted(capsys, lesson5.q2, Guess(), float(hits.mean()))


# -- lesson 6 ------------------------------------------------------------------------------
CAPSTONE = """\
    import argparse, os
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", type=float, default=1.0)
    args, _ = parser.parse_known_args()
    print(f"C={{args.C}}")
    frame = pd.read_csv({data})
    X, y = frame.drop(columns="label") / 16.0, frame["label"]
    model = LogisticRegression(C={c}, max_iter=200).fit(X, y)
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
    """
CHANNEL = 'os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")'


def _capstone_job(sess, digits, folder: Path, script: str) -> str:
    from sagemaker import image_uris
    from sagemaker.estimator import Estimator
    import sm_tutorial
    image = image_uris.retrieve("sklearn", sess.boto_region_name, version="1.2-1",
                                instance_type="ml.m5.xlarge", image_scope="training")
    est = Estimator(entry_point="train.py", source_dir=write(folder, script), image_uri=image,
                    role=sm_tutorial.role(), instance_type="ml.m5.xlarge", instance_count=1,
                    hyperparameters={"C": 0.5}, sagemaker_session=sess, disable_profiler=True)
    return run(est, {"train": digits["csv"]})


def test_capstone_refuses_a_hard_coded_c_and_the_laptops_data(capsys, sess, digits, tmp_path):
    from sm_tutorial.course.course_data import local_path
    hard_c = _capstone_job(sess, digits, tmp_path / "hard_c", textwrap.dedent(
        CAPSTONE.format(data=CHANNEL, c="0.5")).replace('print(f"C={args.C}")', 'print("C=0.5")'))
    refused(capsys, lesson6.capstone, sess, hard_c, words=["do not hard-code"])
    laptop = _capstone_job(sess, digits, tmp_path / "laptop", CAPSTONE.format(
        data=repr(str(local_path("csv/train.csv"))), c="args.C"))
    refused(capsys, lesson6.capstone, sess, laptop, words=["SM_CHANNEL_TRAIN"])
    right = _capstone_job(sess, digits, tmp_path / "right", CAPSTONE.format(data=CHANNEL, c="args.C"))
    accepted(capsys, lesson6.capstone, sess, right)


def test_lesson6_q_argv_wants_model_trainers_argv_not_the_toolkits(capsys):
    """The v2 toolkit's argv (sorted, -k, str()) and each half-way answer are refused with
    what differs; the right one is what ModelTrainer's own driver functions build."""
    import json
    hps = lesson6.ARGV_HYPERPARAMETERS
    right = ["--k", "5", "--use-bn", "false", "--optimizer", '{"name": "sgd", "momentum": 0.9}',
             "--activation", "relu"]
    assert lesson6.model_trainer_argv(hps) == right
    refused(capsys, lesson6.q_argv, lesson6.toolkit_argv(hps), words=["v2 Estimator's argv"])
    refused(capsys, lesson6.q_argv, ["-k"] + right[1:], words=["two dashes"])
    refused(capsys, lesson6.q_argv, right[6:] + right[:6], words=["order of your dict"])
    refused(capsys, lesson6.q_argv, right[:3] + ["False"] + right[4:], words=["str()"])
    refused(capsys, lesson6.q_argv, right[:5] + ["momentum=0.9,name=sgd"] + right[6:], words=["k=v"])
    compact = json.dumps(hps["optimizer"], separators=(",", ":"))
    refused(capsys, lesson6.q_argv, right[:5] + [compact] + right[6:], words=["default spaces"])
    refused(capsys, lesson6.q_argv, right[:7] + ['"relu"'], words=["without quotes"])
    refused(capsys, lesson6.q_argv, " ".join(right), words=["list of strings"])
    accepted(capsys, lesson6.q_argv, right)


def test_lesson6_states_the_argv_question_the_check_asks():
    import ast
    markdown = "\n".join(source for kind, source in _cells("06_wrap_up.ipynb") if kind == "markdown")
    stated = markdown.split("### Exercise: ModelTrainer's argv", 1)[1].split("`hyperparameters=", 1)[1]
    assert ast.literal_eval(stated.split("`", 1)[0]) == lesson6.ARGV_HYPERPARAMETERS
    before = _code_before("06_wrap_up.ipynb", "lesson6.q_argv.check")
    assert "model_trainer_argv" not in before and "ARGV_HYPERPARAMETERS" not in before


# -- lesson 7 ------------------------------------------------------------------------------
def test_lesson7_checks_refuse_a_job_that_is_not_fixed(capsys, sess, digits, tmp_path, monkeypatch):
    from sagemaker import image_uris
    import sm_tutorial
    from sm_tutorial.course.lessons import lesson7
    monkeypatch.chdir(tmp_path)  # launch() writes debug_src/ here
    image = image_uris.retrieve("tensorflow", sess.boto_region_name, version="2.16",
                                py_version="py310", instance_type="ml.m5.xlarge", image_scope="training")

    def job(case, **changes):
        return lesson7.wait(sess, lesson7.launch(sess, sm_tutorial.role(), image, case,
                                                 digits["csv"], **changes))
    refused(capsys, lesson7.q1, sess, job("channel", channels=["validation"]), words=["ended Failed"])
    unfixed = job("model_place")  # Completed, and nothing in model.tar.gz
    refused(capsys, lesson7.q5, sess, unfixed, words=["model.json"])
    refused(capsys, lesson7.q2, sess, unfixed, words=["not a run of the 'hardcoded' case"])
    dodged = job("bool", edits={"if args.normalize and": "if False and"})  # completes, still True
    refused(capsys, lesson7.q3, sess, dodged, words=["'normalize': False"])
    refused(capsys, lesson7.q4, sess, job("requirement", files={"requirements.txt": "tinyutil\n"}),
            words=["ended Failed"])
    fewer = job("timeout", hyperparameters={"epochs": 1}, max_run=30)
    refused(capsys, lesson7.q6, sess, fewer, words=["keep all 4 epochs"])
    refused(capsys, lesson7.q6, sess, job("timeout", max_run=____), words=["fill in the ____"])
    accepted(capsys, lesson7.q6, sess, job("timeout", max_run=30))
    with pytest.raises(ValueError, match="not in debug_src/bool/train.py"):
        lesson7.source_for("bool", edits={"type=boolean": "type=str"})



# -- lesson 8 ------------------------------------------------------------------------------
def test_lesson8_q1_wants_the_digits_train_prefix_sharded(capsys, sess, digits):
    from sagemaker.inputs import TrainingInput
    refused(capsys, lesson8.q1, sess, TrainingInput(digits["train"]), words=["'FullyReplicated'", "ShardedByS3Key"])
    refused(capsys, lesson8.q1, sess, TrainingInput(digits["validation"], distribution="ShardedByS3Key"),
            words=["not the digits train prefix"])
    refused(capsys, lesson8.q1, sess, digits["train"], words=["TrainingInput"])
    accepted(capsys, lesson8.q1, sess, TrainingInput(digits["train"], distribution="ShardedByS3Key"))


def _probe_job(sess, digits, tmp_path, count, distribution):
    from sagemaker.inputs import TrainingInput
    est = estimator(sess, write(tmp_path / f"probe{count}", lesson8.PROBE))
    est.instance_count = count
    return run(est, {"sharded": TrainingInput(digits["train"], distribution=distribution)})


def test_lesson8_q2_wants_the_host_that_read_the_file(capsys, sess, digits, tmp_path):
    problem = lesson8.why_not_here()
    if problem:
        pytest.skip(f"no multi-instance jobs here: {problem}")
    job3 = _probe_job(sess, digits, tmp_path, 3, "ShardedByS3Key")
    seen = lesson8.hosts_seen(sess, job3)
    assert list(seen) == ["algo-1", "algo-2", "algo-3"]
    holders = [h for h, info in seen.items() if lesson8.ASKED_FILE in info["channels"]["sharded"]]
    assert len(holders) == 1  # sharded: the file went to one host
    for other in sorted(set(seen) - set(holders)):
        refused(capsys, lesson8.q2, sess, job3, other, words=[f"{other}'s sharded channel held"])
    refused(capsys, lesson8.q2, sess, job3, "all", words=["not one of the job's hosts"])
    refused(capsys, lesson8.q2, sess, job3, 1, words=["not one of the job's hosts"])
    refused(capsys, lesson8.q2, sess, job3, ____, words=["fill in the ____"])
    accepted(capsys, lesson8.q2, sess, job3, holders[0])
    replicated = _probe_job(sess, digits, tmp_path, 3, "FullyReplicated")  # every host read it
    refused(capsys, lesson8.q2, sess, replicated, holders[0], words=["no ShardedByS3Key channel"])
    two = _probe_job(sess, digits, tmp_path, 2, "ShardedByS3Key")
    refused(capsys, lesson8.q2, sess, two, "algo-2", words=["ran on 2 instance(s)"])


def test_lesson8_q3_wants_every_instance_for_the_time_it_ran(capsys):
    from sm_tutorial.client.prices import USD_PER_HOUR
    rate, hosts, minutes = USD_PER_HOUR[lesson8.COST_TYPE], lesson8.COST_HOSTS, lesson8.COST_MINUTES
    refused(capsys, lesson8.q3, rate * minutes / 60, words=["is one instance"])
    refused(capsys, lesson8.q3, hosts * rate, words=["a full hour"])
    refused(capsys, lesson8.q3, hosts * rate * minutes, words=["prices minutes at the hourly rate"])
    refused(capsys, lesson8.q3, hosts * rate * minutes / 60 + 0.5, words=["is not it"])
    refused(capsys, lesson8.q3, "0.82", words=["a number"])
    refused(capsys, lesson8.q3, True, words=["a number"])
    refused(capsys, lesson8.q3, ____, words=["fill in the ____"])
    accepted(capsys, lesson8.q3, hosts * rate * minutes / 60)
    accepted(capsys, lesson8.q3, round(hosts * rate * minutes / 60, 2))


def test_lesson8_states_the_questions_its_checks_ask():
    cells = _cells("08_scaling_out.ipynb")
    markdown = "\n".join(source for kind, source in cells if kind == "markdown")
    code = "\n".join(source for kind, source in cells if kind == "code")
    stated = markdown.split("### Exercise 3", 1)[1]
    assert (f"on {lesson8.COST_HOSTS} `{lesson8.COST_TYPE}` instances" in stated
            and f"billable time is {lesson8.COST_MINUTES} minutes" in stated)
    assert f"`{lesson8.ASKED_FILE}`" in markdown.split("### Exercise 2", 1)[1]
    for line in lesson8.PROBE.splitlines():  # the notebook's probe prints what hosts_seen reads
        assert line in code, line
    before = _code_before("08_scaling_out.ipynb", "q3.check(")
    assert "ml.c5.2xlarge" not in before


# -- lesson 9 ------------------------------------------------------------------------------
class _FakeRuntime:
    """sagemaker-runtime as q1's check uses it: records the request, answers one-hot rows."""

    def __init__(self):
        self.requests = []

    def invoke_endpoint(self, **request):
        import io
        import json
        self.requests.append(request)
        rows = json.loads(request["Body"])["instances"]
        predictions = [[1.0 if d == 7 else 0.0 for d in range(10)] for _ in rows]
        return {"Body": io.BytesIO(json.dumps({"predictions": predictions}).encode())}


class _FakeSession:
    def __init__(self):
        import types
        self.runtime = _FakeRuntime()
        self.boto_session = types.SimpleNamespace(client=lambda name: self.runtime)


def test_lesson9_q1_wants_json_rows_of_the_first_two_digits_scaled(capsys):
    import json
    images, _ = lesson9.validation_rows()
    fake = _FakeSession()
    wrong = {
        "a dict, not JSON text": ({"instances": (images[:2] / 16.0).tolist()}, "json.dumps"),
        "not JSON": ("instances: 1, 2", "not JSON"),
        "no instances key": (json.dumps({"inputs": (images[:2] / 16.0).tolist()}), '"instances"'),
        "one row": (json.dumps({"instances": (images[:1] / 16.0).tolist()}), "two rows"),
        "label column kept": (json.dumps({"instances": [[0.0, *r] for r in (images[:2] / 16.0).tolist()]}),
                              "64 pixels"),
        "unscaled": (json.dumps({"instances": images[:2].tolist()}), "divide by 16.0"),
        "other digits": (json.dumps({"instances": (images[2:4] / 16.0).tolist()}), "first two"),
    }
    for case, (body, word) in wrong.items():
        refused(capsys, lesson9.q1, fake, "lesson9-digits", body, words=[word])
    assert fake.runtime.requests == []  # nothing wrong is sent
    refused(capsys, lesson9.q1, fake, "lesson9-digits", ____, words=["fill in the ____"])
    out = accepted(capsys, lesson9.q1, fake, "lesson9-digits",
                   json.dumps({"instances": (images[:2] / 16.0).tolist()}))
    assert "digits [7, 7]" in out
    assert fake.runtime.requests[0]["EndpointName"] == "lesson9-digits"
    assert fake.runtime.requests[0]["ContentType"] == "application/json"


def test_lesson9_q2_wants_every_instance_every_hour_of_the_month(capsys):
    from sm_tutorial.client.prices import USD_PER_HOUR
    rate = USD_PER_HOUR["ml.c5.xlarge"]
    refused(capsys, lesson9.q2, "ml.c5.xlarge", 2, rate * 720, words=["that is one instance"])
    refused(capsys, lesson9.q2, "ml.c5.xlarge", 2, rate * 2 * 24, words=["one day"])
    refused(capsys, lesson9.q2, "ml.c5.xlarge", 2, rate * 2, words=["one hour"])
    refused(capsys, lesson9.q2, "ml.c5.xlarge", 2, rate * 2 * 24 * 31, words=["is not it"])
    refused(capsys, lesson9.q2, "ml.c5.xlarge", 2, "293.76", words=["a number"])
    refused(capsys, lesson9.q2, "ml.nope.large", 2, 1.0, words=["price table"])
    refused(capsys, lesson9.q2, "ml.c5.xlarge", 2, ____, words=["fill in the ____"])
    accepted(capsys, lesson9.q2, "ml.c5.xlarge", 2, rate * 2 * 30 * 24)
    assert lesson9.HOURS_PER_MONTH == 720


def test_lesson9_cleanup_is_idempotent_and_names_what_it_deleted(sess):
    import sm_tutorial
    sm = sess.sagemaker_client
    assert lesson9.delete_endpoint_and_friends(sess, "lesson9-nothing-here") == []
    sm.create_model(ModelName="lesson9-cleanup", ExecutionRoleArn=sm_tutorial.role(),
                    PrimaryContainer={"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/"
                                               "tensorflow-inference:2.16-cpu"})
    sm.create_endpoint_config(EndpointConfigName="lesson9-cleanup", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "lesson9-cleanup", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    assert lesson9.delete_endpoint_and_friends(sess, "lesson9-cleanup") == ["endpoint config", "model"]
    assert lesson9.delete_endpoint_and_friends(sess, "lesson9-cleanup") == []


def _cells(notebook: str) -> list[tuple[str, str]]:
    import json
    cells = json.loads((REPO / "notebooks" / notebook).read_text())["cells"]
    return [(c["cell_type"], "".join(c["source"])) for c in cells]


def _code_before(notebook: str, marker: str) -> str:
    cells = _cells(notebook)
    end = next(i for i, (_, source) in enumerate(cells) if marker in source)
    return "\n".join(source for kind, source in cells[:end] if kind == "code")


def test_no_earlier_cell_computes_an_answer():
    lesson5 = _code_before("05_getting_results_out.ipynb", "### Exercise 1")
    assert "metrics.json" not in lesson5 and "extract(output_tar" not in lesson5  # q1's work
    assert "model.predict(images[:10]" in lesson5 and "model.predict(images /" not in lesson5  # q2's
    lesson0 = _code_before("00_welcome.ipynb", "### Exercise 2") + "\n".join(
        source for kind, source in _cells("00_welcome.ipynb") if kind == "markdown")
    assert not any(said in lesson0 for said in ("CPUs: 16", "16 CPUs", "16 vCPUs"))
    lesson9 = _code_before("09_deploy_and_predict.ipynb", "### Exercise 1")
    assert "images[:2] / 16.0" not in lesson9 and "images[:2]/16" not in lesson9  # q1's body
    lesson9 = _code_before("09_deploy_and_predict.ipynb", "### Exercise 2")
    assert "ml.c5.xlarge" not in lesson9 and "30 * 24" not in lesson9  # q2's bill


# -- lesson 10 -----------------------------------------------------------------------------
def test_lesson10_q1_wants_the_trial_with_the_highest_objective(capsys, sess, tmp_path):
    import uuid
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner
    from sm_tutorial.course.lessons import lesson10
    src = write(tmp_path / "tuned", """\
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--learning-rate", type=float)
        args, _ = p.parse_known_args()
        print(f"val_accuracy: {1 - abs(args.learning_rate - 0.01):.6f}")
        """)
    metrics = [{"Name": "validation:accuracy", "Regex": r"val_accuracy: ([0-9\\.]+)"}]
    tuner = HyperparameterTuner(
        estimator(sess, src, metric_definitions=metrics), "validation:accuracy",
        {"learning-rate": ContinuousParameter(1e-4, 0.3, scaling_type="Logarithmic")}, metrics,
        objective_type="Maximize", strategy="Random", random_seed=10, max_jobs=3, max_parallel_jobs=3)
    tuner.fit(job_name=f"ex10-{uuid.uuid4().hex[:8]}")
    name = tuner.latest_tuning_job.name
    trials = tuner.analytics().dataframe().sort_values("FinalObjectiveValue")
    worst, best = trials.iloc[0]["TrainingJobName"], trials.iloc[-1]["TrainingJobName"]
    assert worst != best
    refused(capsys, lesson10.q1, sess, name, worst, words=["Maximize"])  # sorted the wrong way
    refused(capsys, lesson10.q1, sess, name, "some-other-job", words=["not a trial of"])
    refused(capsys, lesson10.q1, sess, "no-such-tuning-job", best, words=["no tuning job named"])
    refused(capsys, lesson10.q1, sess, name, ____, words=["fill in the ____"])
    accepted(capsys, lesson10.q1, sess, name, best)
    assert best == tuner.best_training_job()


def test_lesson10_q2_wants_the_savings_not_the_share_paid(capsys, sess, tmp_path):
    from sm_tutorial.course.lessons import lesson10
    src = write(tmp_path / "spot", "import time\ntime.sleep(2.5)\n")
    spot = run(estimator(sess, src, use_spot_instances=True, max_run=60, max_wait=120))
    plain = run(estimator(sess, src))
    d = sess.describe_training_job(spot)
    paid = 100 * d["BillableTimeInSeconds"] / d["TrainingTimeInSeconds"]
    refused(capsys, lesson10.q2, sess, spot, paid, words=["the share you pay"])
    refused(capsys, lesson10.q2, sess, spot, 5.0, words=["not this job's saving"])
    refused(capsys, lesson10.q2, sess, plain, 100 - paid, words=["not a managed spot job"])
    refused(capsys, lesson10.q2, sess, spot, ____, words=["fill in the ____"])
    accepted(capsys, lesson10.q2, sess, spot, 100 - paid)
