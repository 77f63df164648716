"""The Korean edition, 한국어판 (issue 15, part 8): notebooks/ko/ holds every lesson with its
prose, code comments and printed explanations in Korean, and the same code.

For every English lesson that has a Korean file (same file name in notebooks/ko/): the code
cells are the English code with comments and string literals aside (``code_shape``, tokenize),
with the same ids and metadata; the cells' kinds and order and the notebook's metadata are the
same; every markdown cell and every prose comment holds Hangul; the notebook is committed
executed, and nbval runs it like the English one (its outputs are its own: Korean prints, and
the exercises' checks answer in Korean there, see ``exercises.language``). Every link and image
in the Korean markdown resolves from notebooks/ko/ (diagrams/ and scripts/ are symlinks to the
English ones, ``../aws_account.md``, glossary and cheat-sheet anchors in notebooks/ko/). The
Korean learner copies (``sm-tutorial learner-copy DEST --lang ko``, ``sm-tutorial lab --lang
ko``) blank the same code as the English copies, carry what their lessons link and show, and
keep their own workspace folder, synced and reset on their own.

ALL_TRANSLATED: True once every lesson has its Korean file; then a missing lesson, glossary or
cheat sheet fails.
"""
from __future__ import annotations

import io
import json
import os
import re
import string
import tokenize

import pytest

from conftest import REPO

from sm_tutorial.course import learner

ALL_TRANSLATED = True  # every lesson has its Korean file (branches ko-a, ko-b, ko-c merged)

NOTEBOOKS = REPO / "notebooks"
KO = NOTEBOOKS / "ko"
ENGLISH = learner.lessons(NOTEBOOKS)
KOREAN = learner.lessons(KO) if KO.is_dir() else []
PAIRS = [(NOTEBOOKS / k.name, k) for k in KOREAN]
UNTRANSLATED = [e.name for e in ENGLISH if not (KO / e.name).exists()]
DOCS = ("glossary.md", "cheatsheet.md", "aws_account.md", "README.md")  # translated beside the lessons

HANGUL = re.compile(r"[\uac00-\ud7a3]")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")   # [text](target), ![alt](src)
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
HTML_SRC = re.compile(r"""<(?:img|a)\b[^>]*\b(?:src|href)=["']([^"']+)["']""")


def load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def text(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_shape(source: str) -> list[tuple[str, str]]:
    """A code cell's tokens with comments and blank lines dropped and every string literal
    (f-strings whole, the expressions inside them too) replaced by "S": what must be the same
    in both editions. IPython magics and shell lines (``%``, ``!``) are kept whole."""
    lines = []
    for line in source.splitlines(keepends=True):
        lines.append("pass  # " + line.lstrip() if line.lstrip().startswith(("%", "!")) else line)
    shape, depth = [], 0
    for token in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
        kind = tokenize.tok_name[token.type]
        if kind == "FSTRING_START":  # Python 3.12+ splits f-strings into tokens
            depth += 1
            if depth == 1:
                shape.append(("STRING", "S"))
        elif kind == "FSTRING_END":
            depth -= 1
        elif depth or kind in ("COMMENT", "NL"):
            continue
        else:
            shape.append(("STRING", "S") if kind == "STRING" else (kind, token.string))
    return shape


MARKERS = re.compile(r"NBVAL_|#+ (BEGIN|END) SOLUTION|noqa|type: ")


def prose_comments(source: str) -> list[str]:
    """The comments in code that explain (markers and commented-out code aside)."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT or MARKERS.search(token.string):
            continue
        body = token.string.lstrip("#").strip()
        try:
            compile(body, "comment", "exec")
            continue  # commented-out code (q1.hint(), a path, a name)
        except SyntaxError:
            pass
        if re.search(r"[A-Za-z\uac00-\ud7a3]{3}", body):
            found.append(token.string)
    return found


def markdown(notebook: dict) -> list[str]:
    return [text(c) for c in notebook["cells"] if c["cell_type"] == "markdown"]


def slug(heading: str) -> str:
    """GitHub's (and JupyterLab's lower-cased) anchor for a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path) -> set[str]:
    """A markdown file's heading slugs and explicit ``<a id="...">`` ids."""
    body = path.read_text(encoding="utf-8")
    found = {slug(re.sub(r"<[^>]+>", "", m.group(1))) for m in re.finditer(r"^#{1,6} (.+)$", body, re.M)}
    return found | set(re.findall(r'<a id="([^"]+)"></a>', body))


def targets(cells: list[str]) -> list[str]:
    """Every relative link and image target in the markdown (web and mail links aside)."""
    found = []
    for cell in cells:
        cell = re.sub(r"```.*?```|`[^`\n]*`", "", cell, flags=re.S)  # code is not a link
        found += LINK.findall(cell) + HTML_SRC.findall(cell)
    return [t for t in found if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def unresolved(cells: list[str], folder, docs_fallback=None) -> list[str]:
    """The link targets in ``cells`` that do not resolve from ``folder``: a missing file, or an
    anchor that the file (glossary, cheat sheet, or the lesson itself) does not have. For a
    translated document not written yet, ``docs_fallback`` is where its anchors are read."""
    broken = []
    own = set()
    for cell in cells:
        own |= {slug(m) for m in re.findall(r"^#{1,6} (.+)$", cell, re.M)}
        own |= set(re.findall(r'<a id="([^"]+)"></a>', cell))
    for target in targets(cells):
        path, _, anchor = target.partition("#")
        if not path:
            if anchor not in own:
                broken.append(target)
            continue
        file = folder / path
        if not file.exists() and docs_fallback is not None and path in DOCS:
            file = docs_fallback / path  # pending translation: the same ids must be there
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    return broken


def english_target(target: str) -> str:
    """What a Korean link target is in the English lesson (``../aws_account.md`` → ``aws_account.md``)."""
    return target[3:] if target.startswith("../") and (NOTEBOOKS / target[3:].partition("#")[0]).exists() else target


# --- which lessons are translated ---

def test_which_lessons_are_translated():
    print(f"Korean lessons: {len(KOREAN)} of {len(ENGLISH)}; not yet translated: {UNTRANSLATED or 'none'}")
    strays = [k.name for k in KOREAN if not (NOTEBOOKS / k.name).exists()]
    assert not strays, f"notebooks/ko has lessons with no English file (the names must match): {strays}"
    assert KOREAN, "notebooks/ko holds no lesson"
    if ALL_TRANSLATED:
        assert not UNTRANSLATED, f"lessons with no Korean file in notebooks/ko: {UNTRANSLATED}"
        missing = [d for d in DOCS if not (KO / d).exists()]
        assert not missing, f"notebooks/ko has no Korean {missing}"


def test_korean_folder_reaches_what_the_lessons_read_relatively():
    """diagrams/ and scripts/ are symlinks to the English ones (no second copy to keep in step)."""
    for name in ("diagrams", "scripts"):
        link = KO / name
        assert link.is_symlink() and os.readlink(link) == f"../{name}", f"notebooks/ko/{name}"
        assert link.resolve() == (NOTEBOOKS / name).resolve()
    assert (KO / "scripts" / "digits" / "train.py").is_file()


def test_nbval_runs_both_editions():
    """The Korean notebooks have their own outputs (Korean prints and checks), so nbval
    validates them too: nothing in pytest's options leaves notebooks/ko out."""
    config = (REPO / "pyproject.toml").read_text()
    addopts = re.search(r'^addopts = "(.*)"$', config, re.M).group(1)
    assert "notebooks/ko" not in addopts and "--nbval" in addopts.split()
    assert '"notebooks"' in re.search(r"^testpaths = (.*)$", config, re.M).group(1)
    assert "norecursedirs" not in config


def test_code_shape_sees_code_and_not_words():
    english = 'print("cleaned up")  # tidy\nx = f"{n} rows"\n'
    assert code_shape(english) == code_shape('print("정리했습니다")  # 정리\nx = f"{n}개 행"\n')
    assert code_shape(english) != code_shape('print("cleaned up", end="")\nx = f"{n} rows"\n')
    assert code_shape("x = 1\n") != code_shape("x = 2\n")
    assert prose_comments("x = 1  # the count\n# q1.hint()\n# NBVAL_IGNORE_OUTPUT\n") == ["# the count"]


# --- each translated lesson ---

@pytest.mark.parametrize("english,korean", PAIRS, ids=[k.name for _, k in PAIRS])
def test_same_code_in_korean(english, korean):
    en, ko = load(english), load(korean)
    raw = korean.read_text(encoding="utf-8")
    assert raw == json.dumps(ko, indent=1, ensure_ascii=False) + "\n", (
        f"{korean.name}: write it with json.dump(nb, f, indent=1, ensure_ascii=False) and a final newline")
    assert {k: v for k, v in ko.items() if k != "cells"} == {k: v for k, v in en.items() if k != "cells"}, \
        f"{korean.name}: the notebook's metadata or format differs from the English one"
    kinds = lambda nb: [c["cell_type"] for c in nb["cells"]]  # noqa: E731
    assert kinds(ko) == kinds(en), f"{korean.name}: the cells' number, kinds or order differ from the English"
    for number, (e, k) in enumerate(zip(en["cells"], ko["cells"])):
        where = f"{korean.name}, cell {number}"
        meta = lambda cell: {x: y for x, y in cell["metadata"].items() if x != "execution"}  # noqa: E731 (times)
        assert (k.get("id"), meta(k)) == (e.get("id"), meta(e)), f"{where}: id or metadata differ"
        if e["cell_type"] == "code":
            assert code_shape(text(k)) == code_shape(text(e)), (
                f"{where}: the code differs from the English (comments and strings aside):\n{text(k)}")
            assert k["execution_count"] is not None or not text(k).strip(), f"{where}: not executed"
        else:
            assert HANGUL.search(text(k)), f"{where}: not translated (no Hangul): {text(k)[:80]!r}"


@pytest.mark.parametrize("english,korean", PAIRS, ids=[k.name for _, k in PAIRS])
def test_korean_prints_and_comments(english, korean):
    """The code speaks Korean too: most prose comments, and printed explanations."""
    cells = [text(c) for c in load(korean)["cells"] if c["cell_type"] == "code"]
    comments = [c for cell in cells for c in prose_comments(cell)]
    korean_comments = [c for c in comments if HANGUL.search(c)]
    assert len(korean_comments) >= 0.8 * len(comments), (
        f"{korean.name}: comments still in English: {[c for c in comments if c not in korean_comments]}")
    outputs = [o for c in load(korean)["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    printed = "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    assert HANGUL.search(printed), f"{korean.name}: nothing printed in Korean"


@pytest.mark.parametrize("english,korean", PAIRS, ids=[k.name for _, k in PAIRS])
def test_every_link_and_image_resolves(english, korean):
    ko_cells, en_cells = markdown(load(korean)), markdown(load(english))
    broken = unresolved(ko_cells, KO, docs_fallback=NOTEBOOKS)
    assert not broken, f"{korean.name}: links that do not resolve from notebooks/ko: {broken}"
    theirs = {english_target(t) for t in targets(ko_cells)}
    assert theirs == set(targets(en_cells)), (
        f"{korean.name}: link targets differ from the English lesson's: "
        f"only in Korean {sorted(theirs - set(targets(en_cells)))}, "
        f"only in English {sorted(set(targets(en_cells)) - theirs)}")
    for alt, source in IMAGE.findall("\n".join(ko_cells)):
        assert HANGUL.search(alt), f"{korean.name}: the alt text of {source} is not translated"


def test_translated_glossary_and_cheat_sheet_keep_the_english_anchors():
    for name in DOCS:
        if not (KO / name).exists():
            continue  # not translated yet (ALL_TRANSLATED makes that a failure)
        lost = anchors(NOTEBOOKS / name) - anchors(KO / name)
        explicit = set(re.findall(r'<a id="([^"]+)"></a>', (NOTEBOOKS / name).read_text())) - {"in-korean"}
        assert not (lost & explicit), f"notebooks/ko/{name} lost the ids {sorted(lost & explicit)}"
        assert HANGUL.search((KO / name).read_text(encoding="utf-8")), f"notebooks/ko/{name} is not Korean"


# --- the Korean learner copies ---

@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    en, ko = tmp_path_factory.mktemp("en"), tmp_path_factory.mktemp("ko")
    learner.write_learner_copy(en, learner.edition("en"))
    learner.write_learner_copy(ko, learner.edition("ko"))
    return en, ko


def test_korean_copy_holds_the_korean_lessons_and_what_they_use(copies):
    _, ko = copies
    assert {p.name for p in learner.lessons(ko)} == {k.name for k in KOREAN}
    assert (ko / "scripts" / "digits" / "train.py").is_file()
    assert os.access(ko / "scripts" / "byo_image" / "train", os.X_OK)  # lesson 3 runs it
    assert (ko / "diagrams" / "architecture.svg").is_file() and (ko / "aws_account.md").is_file()
    assert not any(p.is_symlink() for p in ko.rglob("*")), "the copy holds files, not links into the course"
    for name in DOCS:  # the Korean document where there is one, else the English
        assert (ko / name).read_bytes() == ((KO / name) if (KO / name).exists() else NOTEBOOKS / name).read_bytes()


@pytest.mark.parametrize("korean", KOREAN, ids=lambda p: p.name)
def test_korean_copy_blanks_the_same_code(copies, korean):
    en_copy, ko_copy = (load(folder / korean.name) for folder in copies)
    shapes = lambda nb: [code_shape(text(c)) for c in nb["cells"] if c["cell_type"] == "code"]  # noqa: E731
    assert shapes(ko_copy) == shapes(en_copy), f"{korean.name}: blanked code differs"
    code = "\n".join(text(c) for c in ko_copy["cells"] if c["cell_type"] == "code")
    assert "BEGIN SOLUTION" not in code and "____" in code
    cells = markdown(ko_copy)
    assert all(HANGUL.search(c) for c in cells)
    broken = unresolved(cells, copies[1])
    assert not broken, f"{korean.name}: links that do not resolve in the Korean learner copy: {broken}"


def test_each_language_has_its_own_workspace_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SM_TUTORIAL_WORKSPACE", str(tmp_path / "ws"))
    assert learner.workspace_folder() == learner.workspace_folder("en")
    en_folder, ko_folder = learner.workspace_folder("en"), learner.workspace_folder("ko")
    assert en_folder.name == "notebooks" and ko_folder.name == "notebooks-ko"
    with pytest.raises(ValueError, match="no 'fr' edition"):
        learner.edition("fr")
    learner.sync_workspace(en_folder, learner.edition("en"))
    report = learner.sync_workspace(ko_folder, learner.edition("ko"))
    assert {p.name for p in learner.lessons(ko_folder)} == {k.name for k in KOREAN}
    assert not report["kept"] and not report["refreshed"]

    lesson = KOREAN[0]
    mine = ko_folder / lesson.name
    edited = load(mine)
    edited["cells"][0]["source"] = ["내 메모\n"]
    mine.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    assert learner.sync_workspace(ko_folder, learner.edition("ko"))["kept"] == [lesson.name]
    english_before = (en_folder / lesson.name).read_bytes()
    fresh, backup = learner.reset_lesson(lesson.name[:2], ko_folder, learner.edition("ko"))
    assert fresh == mine and backup.parent == ko_folder / "backups"
    assert load(backup)["cells"][0]["source"] == ["내 메모\n"]
    assert HANGUL.search(text(load(mine)["cells"][0]))
    assert (en_folder / lesson.name).read_bytes() == english_before  # English untouched
    assert not (en_folder / "backups").exists()
    if UNTRANSLATED:
        with pytest.raises(ValueError, match="is not translated"):
            learner.reset_lesson(UNTRANSLATED[0][:2], ko_folder, learner.edition("ko"))


def test_cli_lang_ko(tmp_path, monkeypatch, capsys):
    from sm_tutorial.cli import main as cli
    assert cli.LANGUAGES == learner.LANGUAGES
    assert cli.main(["learner-copy", str(tmp_path / "copy"), "--lang", "ko"]) == 0
    assert f"Wrote {len(KOREAN)} lessons" in capsys.readouterr().out
    assert HANGUL.search((tmp_path / "copy" / KOREAN[0].name).read_text(encoding="utf-8"))

    launched = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: launched.append(argv))
    monkeypatch.setenv("SM_TUTORIAL_WORKSPACE", str(tmp_path / "ws"))
    cli.main(["lab", "--no-browser", "--lang", "ko"])
    mine = tmp_path / "ws" / "notebooks-ko"
    assert f"--ServerApp.root_dir={mine.resolve()}" in launched[-1]
    assert (mine / KOREAN[0].name).exists() and not (tmp_path / "ws" / "notebooks").exists()
    cli.main(["lab", "--no-browser", "--lang", "ko", "--reset", KOREAN[0].name[:2]])
    assert "starts over" in capsys.readouterr().out and list((mine / "backups").iterdir())
    cli.main(["lab", "--no-browser"])  # English stays the default, in its own folder
    assert f"--ServerApp.root_dir={(tmp_path / 'ws' / 'notebooks').resolve()}" in launched[-1]
    assert cli.main(["lab", "--no-browser", "--lang", "ko", "--notebook-dir", str(tmp_path)]) == 2
    with pytest.raises(SystemExit):
        cli.main(["lab", "--lang", "fr"])


# --- the exercises answer in the edition's language ---

def lesson_messages() -> list[str]:
    """Every message a lesson's exercises can print, as a template (``{}`` for an f-string's
    value): titles and hints given to Exercise, what checkers return, require's and NotYet's."""
    import ast

    def template(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.replace("{", "{{").replace("}", "}}")
        if isinstance(node, ast.JoinedStr):
            return "".join(template(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = template(node.left), template(node.right)
            return left if right is None else None if left is None else left + right
        return None  # (a message + a computed sentence: the head is translated on its own)

    found = []
    for path in sorted((REPO / "sm_tutorial" / "course" / "lessons").glob("lesson*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            said = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                said = {"require": node.args[1:2], "NotYet": node.args[:1],
                        "Exercise": node.args[0:1] + node.args[2:3]}.get(name, [])
            elif isinstance(node, ast.Return) and node.value is not None:
                said = [node.value]
            for message in filter(None, map(template, said)):
                if " " in message.strip() and not message.startswith("s3://") and message not in found:
                    found.append(message)
    return found


def test_every_lesson_message_has_its_korean():
    from sm_tutorial.course import exercises
    catalog = json.loads(exercises.KOREAN.read_text(encoding="utf-8"))
    wanted = lesson_messages()
    assert len(wanted) > 150, "the message finder found too little; has the lessons' style changed?"
    missing = [m for m in wanted if not catalog.get(m)]
    assert not missing, f"messages with no Korean in {exercises.KOREAN.name}: {missing[:5]} ({len(missing)})"
    stale = [m for m in catalog if m not in wanted]
    assert not stale, f"{exercises.KOREAN.name} has messages no lesson says any more: {stale[:5]}"
    for english, korean in catalog.items():
        values = english.replace("{{", "").replace("}}", "").count("{}")
        fields = [f for _, f, _, _ in string.Formatter().parse(korean) if f is not None]
        assert HANGUL.search(korean) or korean == english, f"not Korean: {korean!r}"  # (code stays code)
        assert len(fields) == values and korean.format(*["X"] * values), f"values: {korean!r}"
        assert english.startswith(" ") == korean.startswith(" "), f"leading space: {korean!r}"


def test_exercise_language_follows_the_notebook_folder(tmp_path, monkeypatch):
    from sm_tutorial.course import exercises
    monkeypatch.delenv("SM_TUTORIAL_LANG", raising=False)
    for folder, lang in (("notebooks/ko", "ko"), ("elsewhere/ko", "en"), ("notebooks", "en")):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(tmp_path / folder)
        assert exercises.language() == lang, folder
    for lang in ("en", "ko"):  # a learner copy anywhere says its language
        learner.write_learner_copy(tmp_path / f"copy-{lang}", learner.edition(lang))
        monkeypatch.chdir(tmp_path / f"copy-{lang}")
        assert exercises.language() == lang
    learner.sync_workspace(tmp_path / "mine", learner.edition("ko"))
    monkeypatch.chdir(tmp_path / "mine")
    assert exercises.language() == "ko"
    monkeypatch.setenv("SM_TUTORIAL_LANG", "en")
    assert exercises.language() == "en"  # the variable wins over the folder
    monkeypatch.chdir(tmp_path / "notebooks" / "ko")
    assert exercises.language() == "en"
    monkeypatch.setenv("SM_TUTORIAL_LANG", "ko")
    monkeypatch.chdir(tmp_path / "notebooks")
    assert exercises.language() == "ko"


def test_checks_answer_in_korean(monkeypatch, capsys):
    from sm_tutorial.course import exercises
    from sm_tutorial.course.lessons import lesson2
    monkeypatch.setenv("SM_TUTORIAL_LANG", "ko")
    assert not lesson2.q2.check('{"a": 1, "b": [2, 3]}')      # spaces: refused, in Korean
    assert not lesson2.q2.check(exercises.____)
    assert lesson2.q2.check('{"a":1,"b":[2,3]}')
    lesson2.q2.hint()
    said = capsys.readouterr().out.splitlines()
    title = exercises.say("read SM_HP_*", "ko")
    assert HANGUL.search(title) and "SM_HP_" in title
    assert said[0].startswith(f"아직 ({title}): ") and HANGUL.search(said[0].split("): ", 1)[1])
    assert said[1] == f"아직 ({title}): ____ 자리를 채우세요"
    assert said[2].startswith(f"정답 ({title}): ") and HANGUL.search(said[2])
    assert said[3].startswith(f"힌트 ({title}): ") and HANGUL.search(said[3].split("): ", 1)[1])
    monkeypatch.setenv("SM_TUTORIAL_LANG", "en")
    assert not lesson2.q2.check(exercises.____)
    assert capsys.readouterr().out == "Not yet (read SM_HP_*): fill in the ____\n"


def test_korean_messages_keep_the_values():
    from sm_tutorial.course import exercises
    english = "job digits-1 ended Failed: AlgorithmError: boom"
    korean = exercises.say(english, "ko")
    assert korean != english and HANGUL.search(korean)
    assert "digits-1" in korean and "AlgorithmError: boom" in korean
    assert exercises.say("a message no lesson says", "ko") == "a message no lesson says"


def test_the_glossary_is_bilingual():
    """Each glossary lists every entry in both languages: the Korean one heads each entry
    with the English term and the Korean beside it and opens with a Korean-English table; the
    English one ends with its terms in Korean, the same words."""
    english = (NOTEBOOKS / "glossary.md").read_text(encoding="utf-8")
    korean = (KO / "glossary.md").read_text(encoding="utf-8")
    entries = re.findall(r'^## <a id="([^"]+)"></a>(.+)$', english, re.M)
    entries = [(anchor, term) for anchor, term in entries if anchor != "in-korean"]
    headed = dict(re.findall(r'^## <a id="([^"]+)"></a>.+ \(([^()]+)\)$', korean, re.M))
    en_table = dict(re.findall(r"^\| \[[^\]]+\]\(#([^)]+)\) \| (.+) \|$", english, re.M))
    ko_table = dict((a, t) for _, a, t in re.findall(r"^\| \[([^\]]+)\]\(#([^)]+)\) \| (.+) \|$", korean, re.M))
    for anchor, term in entries:
        assert anchor in headed and HANGUL.search(headed[anchor]), f"ko/glossary.md: no Korean heading for {term}"
        assert f'<a id="{anchor}"></a>{term} (' in korean, f"ko/glossary.md: {anchor}'s heading lacks {term!r}"
        assert en_table.get(anchor) == headed[anchor], f"glossary.md's Korean table: {term}"
        assert ko_table.get(anchor) == term, f"ko/glossary.md's table: {term}"


def test_make_lab_ko_opens_the_korean_edition():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^lab-ko: setup.*\n\t(.+)$", makefile, re.M)
    assert target and target.group(1).strip() == "$(BIN)/sm-tutorial lab --lang ko"
    assert "lab-ko" in re.search(r"^\.PHONY: (.*)$", makefile, re.M).group(1).split()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    korean = readme.split("### 한국어판", 1)[1].split("\n## ", 1)[0]
    assert "make lab-ko" in korean


@pytest.mark.parametrize("name", DOCS)
def test_korean_documents_link_what_is_there(copies, name):
    """Each Korean document's links resolve beside it, in notebooks/ko/ and in a Korean
    learner copy (which holds files, not the ../ folder)."""
    body = (KO / name).read_text(encoding="utf-8")
    assert HANGUL.search(body), f"notebooks/ko/{name} is not Korean"
    for folder in (KO, copies[1]):
        broken = unresolved([body], folder)
        assert not broken, f"{name}: links that do not resolve in {folder}: {broken}"
