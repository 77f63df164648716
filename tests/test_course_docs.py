"""The glossary, the cheat sheet and the diagrams (issue 15, parts 2 and 3).

Every glossary link in every lesson resolves to a heading of glossary.md; every listed term has
its entry; every listed term a lesson uses is linked there, at its first use; the cheat sheet's
SM_* names and /opt/ml paths are the ones the simulated toolkit sets; notebooks/diagrams/draw.py
redraws the committed SVGs byte for byte; each diagram is shown in a lesson with alt text and a
text twin; lesson 4's timing chart starts at zero seconds; a learner copy holds what the
lessons link and show.
"""
from __future__ import annotations

import importlib.util
import json
import re

import matplotlib
import pytest

from conftest import REPO

NOTEBOOKS = REPO / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = NOTEBOOKS / "glossary.md"
CHEATSHEET = NOTEBOOKS / "cheatsheet.md"

# Issue 15's list; each needs a heading of its own (the anchor is the heading's slug).
TERMS = {
    "S3": "s3", "bucket": "bucket", "prefix": "prefix", "S3 URI": "s3-uri", "IAM role": "iam-role",
    "execution role": "execution-role", "instance type": "instance-type", "ECR image": "ecr-image",
    "CloudWatch": "cloudwatch", "training job": "training-job", "channel": "channel",
    "endpoint": "endpoint", "model artifact": "model-artifact", "hyperparameter": "hyperparameter",
    "TFRecord": "tfrecord", "FIFO": "fifo", "RecordIO": "recordio",
}
# Where each diagram is shown, and a phrase its text twin must carry.
DIAGRAMS = {
    "architecture": ("00_welcome.ipynb", "CreateTrainingJob"),
    "job_lifecycle": ("01_estimator.ipynb", "MaxRuntimeExceeded"),
    "hyperparameters": ("02_hyperparameters.ipynb", "SM_HP_USE-BN=true"),
    "opt_ml_tree": ("03_inside_the_container.ipynb", "`code/`"),
    "input_modes": ("04_getting_data_in.ipynb", "FastFile"),
    "archives": ("05_getting_results_out.ipynb", "output.tar.gz"),
    "hosts": ("08_scaling_out.ipynb", "ShardedByS3Key"),
}
LINK = re.compile(r"\]\((glossary\.md|cheatsheet\.md)(?:#([^)\s]*))?\)")
IMAGE = re.compile(r"!\[([^\]]*)\]\((diagrams/[^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's (and JupyterLab's lower-cased) anchor for a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path) -> set[str]:
    """Headings' slugs (their HTML aside) and explicit ids."""
    text = path.read_text()
    headings = {slug(re.sub(r"<[^>]+>", "", m.group(1))) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}
    return headings | set(re.findall(r'<a id="([^"]+)"></a>', text))


def test_each_glossary_entry_carries_its_anchor_as_an_id():
    """JupyterLab finds `glossary.md#s3-uri` by id only, and its own heading ids keep the
    capitals and the spaces' places (`S3-URI`); GitHub's slugs are lower case. An explicit id
    equal to the slug serves both."""
    for heading in re.findall(r"^## (.+)$", GLOSSARY.read_text(), re.M):
        ids = re.findall(r'<a id="([^"]+)"></a>', heading)
        assert ids == [slug(re.sub(r"<[^>]+>", "", heading))], heading


def markdown(notebook) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_every_term_has_its_entry():
    found = anchors(GLOSSARY)
    missing = {term for term, anchor in TERMS.items() if anchor not in found}
    assert not missing, f"glossary.md has no heading for {sorted(missing)}"
    text = GLOSSARY.read_text()
    endpoint = text.split('<a id="endpoint"></a>Endpoint', 1)[1].split("\n## ", 1)[0]
    assert "deployed model" in endpoint and "local-aws-stand-in" in endpoint  # both meanings


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_glossary_links_resolve(notebook):
    targets = {"glossary.md": anchors(GLOSSARY), "cheatsheet.md": anchors(CHEATSHEET)}
    links = LINK.findall(markdown(notebook))
    assert any(f == "glossary.md" and a for f, a in links), f"{notebook.name} links no glossary term"
    broken = [f"{f}#{a}" for f, a in links if a and a not in targets[f]]
    assert not broken, f"{notebook.name}: links to no heading: {broken}"


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_a_linked_term_is_linked_at_its_first_use(notebook):
    """In the lesson's prose (headings, code and figure text aside), no word that the lesson
    links to the glossary comes before its link."""
    glossary_link = re.compile(r"\[([^\]]+)\]\(glossary\.md#[^)]+\)")
    prose = "\n".join(line for line in markdown(notebook).splitlines() if not line.startswith("#"))
    prose = re.sub(r"`[^`]*`", "", prose)
    prose = re.sub(r"!\[[^\]]*\]\([^)]*\)|\*Figure, in words:\*.*", "", prose)
    marked = glossary_link.sub(lambda m: "\0" + m.group(1) + "\1", prose)
    for link in glossary_link.finditer(prose):
        term = re.escape(link.group(1).strip("*"))
        first = re.search(rf"(?<![\w\0]){term}(?!\w)|\0\**{term}", marked, re.I)
        assert first.group(0).startswith("\0"), (
            f"{notebook.name}: '{link.group(1)}' is used before its glossary link: "
            f"...{marked[max(0, first.start() - 60):first.end()]!r}")


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_every_listed_term_a_lesson_uses_is_linked_there(notebook):
    """A term of issue 15's list that appears in a lesson's prose (or its plural) is linked to
    its glossary entry somewhere in that lesson; the test above puts the link at the first use."""
    raw = markdown(notebook)
    linked = set(re.findall(r"\]\(glossary\.md#([^)]+)\)", raw))
    prose = "\n".join(line for line in raw.splitlines() if not line.startswith("#"))
    prose = re.sub(r"`[^`]*`", "", prose)
    prose = re.sub(r"!\[[^\]]*\]\([^)]*\)|\*Figure, in words:\*.*|\]\([^)]*\)", "", prose)
    words = dict(TERMS, ECR="ecr-image")
    words.pop("ECR image")
    unlinked = []
    for term, anchor in words.items():
        flags = re.I if term.islower() else 0
        found = re.search(rf"(?<![\w/]){re.escape(term)}(s|es)?(?![\w/])", prose, flags)
        if found and anchor not in linked:
            unlinked.append(f"{term}: ...{prose[max(0, found.start() - 40):found.end()]!r}")
    assert not unlinked, f"{notebook.name} uses, without a glossary link: {unlinked}"


def test_links_inside_the_glossary_and_cheat_sheet_resolve():
    for doc in (GLOSSARY, CHEATSHEET):
        text = doc.read_text()
        own = [a for a in re.findall(r"\]\(#([^)]+)\)", text)]
        broken = [a for a in own if a not in anchors(doc)]
        broken += [f"{f}#{a}" for f, a in LINK.findall(text) if a and a not in anchors(NOTEBOOKS / f)]
        assert not broken, f"{doc.name}: {broken}"


def test_stand_in_is_not_called_an_endpoint_in_lesson_prose():
    for notebook in LESSONS:
        prose = re.sub(r"`[^`]*`", "", markdown(notebook))          # code names may keep the word
        prose = re.sub(r"\[[^\]]*\]\(glossary\.md#endpoint\)", "", prose)
        assert not re.search(r"local (AWS )?endpoint", prose, re.I), notebook.name


def test_cheat_sheet_names_only_variables_the_toolkit_sets(tmp_path):
    from sm_tutorial.container import environment, layout
    root = layout.ContainerRoot(tmp_path / "ml").create()
    env = environment.training_environment(
        root, job_name="j", hyperparameters={"epochs": "5", "use-bn": "true"},
        resource_config=layout.resource_config("ml.m5.xlarge"),
        input_data_config={"train": {"TrainingInputMode": "File"}}, num_cpus=4, num_gpus=0,
        framework_module=None)
    variables = environment.sm_variables(env, "us-east-1")
    text = CHEATSHEET.read_text()
    named = set(re.findall(r"\bSM_[A-Z_\-]*[A-Z]\b", text))     # SM_CHANNEL_<NAME> does not match
    unknown = sorted(named - set(variables))
    assert not unknown, f"cheatsheet.md names variables the toolkit does not set: {unknown}"
    expected = {n for n in variables if n.startswith("SM_") and not n.startswith(("SM_CHANNEL_", "SM_HP_"))}
    missing = sorted(expected - named)
    assert not missing, f"cheatsheet.md leaves out {missing}"
    for other in ("TRAINING_JOB_NAME", "CURRENT_HOST", "SAGEMAKER_REGION"):
        assert other in variables and f"`{other}`" in text
    # the paths: each /opt/ml path in the table is where ContainerRoot puts it
    paths = {"/opt/ml/model": root.model, "/opt/ml/output/data": root.output_data,
             "/opt/ml/input/config": root.config, "/opt/ml/code": root.code,
             "/opt/ml/checkpoints": root.checkpoints, "/opt/ml/output/failure": root.failure_file,
             "/opt/ml/output/intermediate": root.intermediate}
    for aws, here in paths.items():
        assert aws in text
        assert str(here) == str(root.path) + aws[len("/opt/ml"):]
    assert variables["SM_MODEL_DIR"] == str(root.model)
    assert variables["SM_CHANNELS"] == '["train"]' and variables["SM_HP_USE-BN"] == "true"


def _draw_module():
    spec = importlib.util.spec_from_file_location("draw", NOTEBOOKS / "diagrams" / "draw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_draw_script_reproduces_the_committed_diagrams(tmp_path):
    draw = _draw_module()
    assert len(draw.NAMES) >= 6
    if matplotlib.__version__ != draw.DRAWN_WITH:
        pytest.skip(f"drawn with matplotlib {draw.DRAWN_WITH}, this is {matplotlib.__version__}")
    written = draw.draw_all(tmp_path)
    for path in written:
        committed = NOTEBOOKS / "diagrams" / path.name
        assert committed.exists(), f"{committed.name} is not committed"
        assert path.read_bytes() == committed.read_bytes(), (
            f"{path.name} differs: run .venv/bin/python notebooks/diagrams/draw.py and commit")


def test_each_diagram_is_shown_with_a_text_alternative():
    for name, (lesson, phrase) in DIAGRAMS.items():
        text = markdown(NOTEBOOKS / lesson)
        images = {src: alt for alt, src in IMAGE.findall(text)}
        source = f"diagrams/{name}.svg"
        assert source in images, f"{lesson} does not show {source}"
        assert len(images[source]) > 60, f"{source}: alt text too short"
        twin = text.split(f"]({source})", 1)[1].split("\n\n", 2)[1]
        assert twin.startswith("*Figure, in words:*") and phrase in twin, f"{source}: no text twin"
    shown = {src for n in LESSONS for _, src in IMAGE.findall(markdown(n))}
    assert all((NOTEBOOKS / src).exists() for src in shown)


def test_timing_chart_starts_at_zero():
    matplotlib.use("Agg")
    from sm_tutorial.course.measure import plot
    rows = [{"size_mib": s, "mode": m, "first_record_s": t + s / 100, "epoch_s": 2 * t + s / 50}
            for s in (4, 32) for m, t in (("File", 1.2), ("FastFile", 0.9), ("Pipe", 0.8))]
    figure = plot(rows)
    for ax in figure.axes:
        low, high = ax.get_ylim()
        assert low == 0 and high > max(r["epoch_s"] for r in rows) / 2


def test_learner_copy_carries_what_the_lessons_link_and_show(tmp_path):
    from sm_tutorial.course.learner import write_learner_copy
    write_learner_copy(tmp_path)
    for notebook in sorted(tmp_path.glob("[0-9][0-9]_*.ipynb")):
        text = markdown(notebook)
        for target, anchor in LINK.findall(text):
            assert (tmp_path / target).exists(), f"{notebook.name} links {target}, not in the copy"
            assert not anchor or anchor in anchors(tmp_path / target)
        for _, source in IMAGE.findall(text):
            assert (tmp_path / source).exists(), f"{notebook.name} shows {source}, not in the copy"
