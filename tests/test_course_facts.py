"""Facts the lessons state, held where a test can hold them (issue 15, part 5)."""
from __future__ import annotations

import json

import pytest

from conftest import REPO

NOTEBOOKS = REPO / "notebooks"


def text(name: str, kind: str | None = None) -> str:
    notebook = json.loads((NOTEBOOKS / name).read_text())
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if kind in (None, c["cell_type"]))


def test_studio_is_described_as_it_is_today():
    welcome = text("00_welcome.ipynb", "markdown")
    assert "Code Editor" in welcome and "spaces" in welcome
    assert "Studio Classic" in welcome  # named only as the older interface
    assert "SageMaker Studio is JupyterLab, hosted by AWS" not in welcome


def test_the_image_is_pulled_while_downloading_as_in_the_benchmarks():
    lesson1 = text("01_estimator.ipynb", "markdown")
    assert "**Downloading** pulls the training image" in lesson1
    assert "**Training** begins by pulling" not in lesson1
    assert "`Downloading` (image pull" in (REPO / "benchmarks" / "README.md").read_text()


def test_generic_estimator_sends_str_without_source_dir_and_json_with_it(sess, tmp_path):
    from sagemaker.estimator import Estimator
    common = dict(image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/any:1", role="arn:aws:iam::123456789012:role/R",
                  instance_type="ml.m5.xlarge", instance_count=1, hyperparameters={"name": "a", "n": 2},
                  sagemaker_session=sess)
    (tmp_path / "train.py").write_text("")
    assert Estimator(**common).hyperparameters() == {"name": "a", "n": 2}  # str() at request time
    scripted = Estimator(entry_point="train.py", source_dir=str(tmp_path), **common)
    assert scripted.hyperparameters() == {"name": '"a"', "n": "2"}
    lesson1 = text("01_estimator.ipynb", "markdown")
    assert "`str(value)`" in lesson1 and "unless it has a `source_dir`" in lesson1


def test_file_mode_disk_and_the_pipe_cell_guard():
    lesson4 = text("04_getting_data_in.ipynb")
    assert "`volume_size`" in lesson4 and "30 by default" in lesson4
    before_pipe_job = lesson4[:lesson4.index("piped = TensorFlow(")].rsplit("\n\n", 1)[-1]
    assert "if sm_tutorial.simulated():" in before_pipe_job


def test_spot_needs_max_wait_and_v3_is_not_the_same_contract():
    lesson6 = text("06_wrap_up.ipynb")
    assert "use_spot_instances=True` with `max_wait=`" in lesson6
    assert "carry over unchanged" not in lesson6 and "_latest_training_job" not in lesson6
    for fact in ("/opt/ml/input/data/code", "JSON-encoded", "not sorted", "SourceCode(requirements="):
        assert fact in lesson6, fact


@pytest.mark.parametrize("words", ["SM_TUTORIAL_MODE=aws", "execution role", "Service Quotas",
                                   "sm-tutorial cleanup --aws", "BillableTimeInSeconds"])
def test_the_own_account_appendix_exists_and_is_linked(words):
    appendix = (NOTEBOOKS / "aws_account.md").read_text()
    assert words in appendix
    assert "aws_account.md" in text("06_wrap_up.ipynb", "markdown")
    assert "aws_account.md" in (NOTEBOOKS / "README.md").read_text()


def test_lesson8_shows_lines_its_script_has_and_says_why_no_model_fit():
    lesson8 = text("08_scaling_out.ipynb", "markdown")
    script = (NOTEBOOKS / "scripts" / "scaling" / "train.py").read_text()
    excerpt = lesson8.split("The lines that matter", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    for line in excerpt.strip().splitlines():
        assert line in script.splitlines(), f"lesson 8 shows a line its script does not have: {line}"
    assert "ValueError: Attempt to convert a value (PerReplica" in lesson8  # as the README says
    assert "with or without the simulation" in lesson8
    for fact in ("`BillableTimeInSeconds`", "`InstanceCount`", "already multiplied by the instance count",
                 "approximately 1/N"):
        assert fact in lesson8, fact


def test_the_sdk_multiplies_billable_seconds_by_the_instance_count():
    """Lesson 8 says the SDK's `Billable seconds:` line already counts every instance."""
    import inspect
    from sagemaker import session
    source = inspect.getsource(session)
    assert 'print("Billable seconds:", billable_time * instance_count)' in source
