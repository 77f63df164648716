"""Learner copies: every answer blanked, outputs cleared, and a copy still runs top to bottom
with each check saying "not yet"; `sm-tutorial lab` keeps the learner's edits."""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from conftest import REPO

from sm_tutorial.course import learner

LESSONS = learner.lessons()


def code_of(notebook: dict) -> str:
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


def solution_lines(notebook: dict) -> list[str]:
    """The lines inside solution regions that carry an answer (not brackets or blank lines)."""
    found = []
    for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", code_of(notebook), re.S):
        found += [line.strip() for line in block.splitlines() if len(line.strip()) >= 4]
    return found


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    dest = tmp_path_factory.mktemp("learner")
    learner.write_learner_copy(dest)
    return dest


def test_every_lesson_has_exercises_and_the_copy_has_no_solution_left(copy):
    assert len(LESSONS) >= 8 and (copy / "scripts" / "digits" / "train.py").is_file()
    assert os.access(copy / "scripts" / "byo_image" / "train", os.X_OK)  # lesson 3 runs it
    for lesson in LESSONS:
        solved = json.loads(lesson.read_text())
        answers = solution_lines(solved)
        assert answers, f"{lesson.name} has no ### BEGIN SOLUTION region"
        blanked = json.loads((copy / lesson.name).read_text())
        code = code_of(blanked)
        assert "BEGIN SOLUTION" not in code and "END SOLUTION" not in code
        given = learner.blank_source(code_of(solved))  # what the lesson shows outside the answers
        left = [line for line in answers if line in code and line not in given]
        assert not left, f"{lesson.name}: solution text left in the learner copy: {left}"
        assert code.count("____") >= code_of(solved).count("### BEGIN SOLUTION")
        for cell in blanked["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
        assert "widgets" not in blanked.get("metadata", {})


def test_blank_source_keeps_indentation_and_the_assigned_name():
    source = ("x = 1\n### BEGIN SOLUTION\na = f(1)\nanswer = g(a)\n### END SOLUTION\ncheck(answer)\n"
              "def parse(argv):\n    ### BEGIN SOLUTION\n    return argv\n    ### END SOLUTION\n"
              "value = (\n    ### BEGIN SOLUTION\n    42\n    ### END SOLUTION\n)\n")
    out = learner.blank_source(source)
    assert out.splitlines() == [learner.IMPORT.strip(), "x = 1", "answer = ____", "check(answer)",
                                "def parse(argv):", "    ____", "value = (", "    ____", ")"]
    with pytest.raises(ValueError):
        learner.blank_source("### BEGIN SOLUTION\nx = 1\n")
    assert learner.blank_source("print(1)\n") == "print(1)\n"  # no region: untouched


@pytest.fixture(scope="module")
def korean_copy(tmp_path_factory):
    dest = tmp_path_factory.mktemp("learner-ko")
    learner.write_learner_copy(dest, learner.edition("ko"))
    return dest


@pytest.mark.parametrize("name,lang", [("02_hyperparameters.ipynb", "en"), ("07_debugging_lab.ipynb", "en"),
                                       ("08_scaling_out.ipynb", "en"), ("09_deploy_and_predict.ipynb", "en"),
                                       ("02_hyperparameters.ipynb", "ko")])
def test_a_learner_copy_runs_to_the_end_and_every_check_says_not_yet(request, name, lang, monkeypatch, tmp_path):
    import nbformat
    from nbclient import NotebookClient
    copy = request.getfixturevalue("copy" if lang == "en" else "korean_copy")
    monkeypatch.setenv("SM_TUTORIAL_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.delenv("SM_TUTORIAL_LANG", raising=False)
    notebook = nbformat.read(copy / name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(copy)}}).execute()  # raises on any error
    text = ""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for output in cell.outputs:
                assert output.output_type != "error", output
                assert output.get("name") != "stderr", (cell.source, output.text)
                text += output.get("text", "") + output.get("data", {}).get("text/plain", "")
    checks = len(re.findall(r"^[^#\n]*\bq\d\.check\(", code_of(notebook), re.M))
    assert checks >= 2
    blank, correct = {"en": ("): fill in the ____", "Correct ("), "ko": ("): ____ 자리를 채우세요", "정답 (")}[lang]
    assert text.count(blank) == checks, text
    assert correct not in text


def test_lab_copies_new_lessons_and_never_overwrites_an_edited_one(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO / "notebooks", source, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    folder = tmp_path / "mine"
    first = learner.sync_workspace(folder, source)
    assert {p.name for p in learner.lessons(folder)} == {p.name for p in LESSONS}
    assert not first["kept"] and not first["refreshed"]
    assert os.access(folder / "scripts" / "byo_image" / "train", os.X_OK)

    edited, untouched = folder / LESSONS[1].name, folder / LESSONS[2].name
    mine = json.loads(edited.read_text())
    mine["cells"][0]["source"] = ["my notes\n"]
    edited.write_text(json.dumps(mine))
    for lesson in (LESSONS[1], LESSONS[2]):  # the course changes both lessons
        changed = json.loads((source / lesson.name).read_text())
        changed["cells"][0]["source"].append("\nA new paragraph.")
        (source / lesson.name).write_text(json.dumps(changed))
    new = source / "99_new_lesson.ipynb"
    shutil.copy(source / LESSONS[0].name, new)

    report = learner.sync_workspace(folder, source)
    assert LESSONS[1].name in report["kept"] and LESSONS[2].name in report["refreshed"]
    assert "99_new_lesson.ipynb" in report["copied"] and (folder / new.name).exists()
    assert json.loads(edited.read_text())["cells"][0]["source"] == ["my notes\n"]
    assert "A new paragraph." in untouched.read_text()

    fresh, backup = learner.reset_lesson(LESSONS[1].name[:2], folder, source)
    assert fresh == edited and backup.parent.name == "backups"
    assert json.loads(backup.read_text())["cells"][0]["source"] == ["my notes\n"]
    assert "A new paragraph." in edited.read_text()
    with pytest.raises(ValueError, match="no lesson"):
        learner.reset_lesson("42", folder, source)


def test_cli_learner_copy_and_lab(tmp_path, monkeypatch, capsys):
    from sm_tutorial.cli import main as cli
    assert cli.main(["learner-copy", str(tmp_path / "copy")]) == 0
    assert (tmp_path / "copy" / LESSONS[0].name).exists()
    assert f"Wrote {len(LESSONS)} lessons" in capsys.readouterr().out

    launched = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: launched.append(argv))
    monkeypatch.setenv("SM_TUTORIAL_WORKSPACE", str(tmp_path / "ws"))
    cli.main(["lab", "--no-browser"])
    mine = tmp_path / "ws" / "notebooks"
    assert f"--ServerApp.root_dir={mine.resolve()}" in launched[-1]
    assert (mine / LESSONS[3].name).exists()
    cli.main(["lab", "--no-browser", "--reset", "3"])
    assert "starts over" in capsys.readouterr().out and list((mine / "backups").iterdir())
    assert cli.main(["lab", "--no-browser", "--reset", "42"]) == 2
    assert "the lessons are: 00_welcome" in capsys.readouterr().err
    cli.main(["lab", "--no-browser", "--notebook-dir", str(tmp_path / "elsewhere")])
    assert f"--ServerApp.root_dir={tmp_path / 'elsewhere'}" in launched[-1]


def test_an_edited_copy_from_before_the_layout_change_still_imports(tmp_path):
    """A copy the learner edited before the package was grouped by role (issue 12) keeps the
    learner's work, and its old import paths are rewritten to the modules' new places."""
    import importlib
    folder = tmp_path / "nb"
    learner.sync_workspace(folder)
    target = folder / "03_inside_the_container.ipynb"
    notebook = json.loads(target.read_text())
    old = ("from sm_tutorial.widgets import watch_job\nfrom sm_tutorial.lessons import lesson3\n"
           "from sm_tutorial.results import tar_members\nfrom sm_tutorial.doctor import check_all\n"
           "my_answer = 42  # the learner's own line\n")
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                              "outputs": [], "source": old.splitlines(True)})
    target.write_text(json.dumps(notebook, indent=1))
    report = learner.sync_workspace(folder)
    assert "03_inside_the_container.ipynb" in report["kept"]
    source = "".join(json.loads(target.read_text())["cells"][-1]["source"])
    assert source == old.replace("sm_tutorial.widgets", "sm_tutorial.course.widgets").replace(
        "sm_tutorial.lessons", "sm_tutorial.course.lessons").replace(
        "sm_tutorial.results", "sm_tutorial.client.results").replace(
        "sm_tutorial.doctor", "sm_tutorial.cli.doctor")
    for line in source.splitlines()[:4]:
        importlib.import_module(line.split()[1])  # each rewritten path exists
    assert learner.migrate_imports(target) is False  # nothing left to rewrite
