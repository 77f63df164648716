"""The learner's notebooks: the solved lessons with every answer blanked.

The solved notebooks in ``notebooks/`` are the source (nbval runs them). Each answer sits
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers); a learner copy
replaces each region with ``____`` at the marker's indentation (``name = ____`` when the region
ends by assigning ``name``, so the lines after it still run), clears every output, and imports
the placeholder where a cell needs it.

``sm-tutorial lab`` keeps the copies in ``<workspace>/notebooks``: lessons that are new are
copied in, a copy the learner has not touched is refreshed, an edited one is never overwritten,
and ``--reset LESSON`` puts a fresh copy in place, keeping the old one under ``backups/``.

Translated editions (``notebooks/ko``: the Korean edition, ``--lang ko``) hold only their own
lessons and documents; their copies take the English folder's documents and asset folders
(``scripts/``, ``diagrams/``) for whatever the edition does not translate, and go into their own
workspace folder (``<workspace>/notebooks-ko``), so each language keeps, refreshes and resets its
copies on its own.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

from .. import settings
from .exercises import BLANK_TEXT

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
IMPORT = f"from sm_tutorial.course.exercises import {BLANK_TEXT}  # replace each {BLANK_TEXT} with your answer\n"
SOURCE = settings.REPO_ROOT / "notebooks"
LESSON = re.compile(r"^\d\d_.+\.ipynb$")
MANIFEST = ".sm-tutorial-copies.json"  # what `lab` wrote, so it can tell edited copies apart
ASSETS = {"scripts", "images", "figures", "diagrams"}  # folders a lesson reads, copied whole
DOCS = {".md", ".png", ".svg", ".jpg"}                # and the documents beside the lessons
SKIP = {".ipynb_checkpoints", "__pycache__"}
LANGUAGE_FILE = ".sm-tutorial-lang"  # in a translation's copy: "ko", read by exercises.language
LANGUAGES = ("en", "ko")  # "en" is notebooks/ itself; every other is notebooks/<lang>/
UP_LINK = re.compile(r"\]\(\.\./")  # a translation's markdown link to the English folder: ](../x)
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*=[^=]")


def _blank_for(indent: str, region: list[str]) -> str:
    """``name = ____`` if the region's last statement at its own indentation assigns ``name``."""
    top = [line[len(indent):] for line in region
           if line.startswith(indent) and line[len(indent):].strip() and not line[len(indent)].isspace()
           and not line[len(indent):].startswith((")", "]", "}"))]
    match = ASSIGNMENT.match(top[-1]) if top else None
    return indent + (f"{match.group(1)} = " if match else "") + BLANK_TEXT + "\n"


def blank_source(source: str) -> str:
    """The cell's source with each solution region replaced by ``____`` (same indentation)."""
    out, region, indent = [], None, ""
    for line in source.splitlines(keepends=True):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if region is not None:
                raise ValueError(f"{BEGIN} inside a solution region")
            region, indent = [], line[:len(line) - len(line.lstrip())]
        elif marker.startswith(END):
            if region is None:
                raise ValueError(f"{END} without {BEGIN}")
            out.append(_blank_for(indent, region))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise ValueError(f"{BEGIN} without {END}")
    text = "".join(out)
    if text != source and IMPORT not in text:
        text = IMPORT + text
    return text


def learner_notebook(notebook: dict) -> dict:
    """A copy of a solved notebook (nbformat JSON) with answers blanked and outputs cleared."""
    copy = json.loads(json.dumps(notebook))
    copy.get("metadata", {}).pop("widgets", None)
    for cell in copy["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            source = blank_source(source)
            cell["outputs"], cell["execution_count"] = [], None
            cell.get("metadata", {}).pop("execution", None)
        cell["source"] = source.splitlines(keepends=True)
    return copy


def edition(lang: str = "en", source: Path = SOURCE) -> Path:
    """The folder of one language's solved lessons: ``notebooks/`` for English, else ``notebooks/<lang>``."""
    if lang not in LANGUAGES:
        raise ValueError(f"no {lang!r} edition; the course has: {', '.join(LANGUAGES)}")
    return source if lang == "en" else source / lang


def workspace_folder(lang: str = "en") -> Path:
    """Where ``sm-tutorial lab`` keeps one language's copies: ``notebooks``, ``notebooks-ko``."""
    edition(lang)  # refuses an unknown language
    return settings.workspace() / ("notebooks" if lang == "en" else f"notebooks-{lang}")


def _is_translation(source: Path) -> bool:
    return source.name in LANGUAGES[1:] and source.parent.is_dir() and bool(lessons(source.parent))


def lessons(source: Path = SOURCE) -> list[Path]:
    return sorted(p for p in source.iterdir() if LESSON.match(p.name))


def _render(path: Path) -> bytes:
    if LESSON.match(path.name):
        notebook = learner_notebook(json.loads(path.read_text(encoding="utf-8")))
        if _is_translation(path.parent):  # the copy holds the English documents beside the lessons
            for cell in notebook["cells"]:
                if cell["cell_type"] == "markdown":
                    cell["source"] = UP_LINK.sub("](", "".join(cell["source"])).splitlines(keepends=True)
        return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return path.read_bytes()


def _files(source: Path) -> dict[str, Path]:
    """Every file a learner needs, relative to the lessons folder: the lessons, the documents
    beside them and the asset folders (not what running a lesson leaves behind). A translation
    (``notebooks/ko``) gives its own lessons and documents; the English folder's documents and
    asset folders fill in the rest (its ``scripts``/``diagrams`` symlinks are not followed)."""
    if _is_translation(source):
        english = {rel: path for rel, path in _own_files(source.parent).items() if not LESSON.match(rel)}
        own = {rel: path for rel, path in _own_files(source).items()
               if "/" not in rel and not path.is_symlink()}
        return dict(sorted({**english, **own}.items()))
    return _own_files(source)


def _own_files(source: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        wanted = (LESSON.match(rel.name) or path.suffix in DOCS) if len(rel.parts) == 1 \
            else rel.parts[0] in ASSETS
        if path.is_file() and wanted and not SKIP & set(rel.parts) and path.suffix != ".pyc" \
                and not (len(rel.parts) > 1 and (source / rel.parts[0]).is_symlink()):
            found[rel.as_posix()] = path
    return found


def _keep_executable(path: Path, target: Path) -> None:
    """An executable stays one in the copy (lesson 3's image runs its ``train`` as a program)."""
    bits = path.stat().st_mode & 0o111
    if bits and target.stat().st_mode & bits != bits:
        target.chmod(target.stat().st_mode | bits)


def write_learner_copy(dest, source: Path = SOURCE) -> list[Path]:
    """``sm-tutorial learner-copy DEST``: write every lesson, blanked, and what they use."""
    dest = Path(dest)
    written = []
    for rel, path in _files(source).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_render(path))
        _keep_executable(path, target)
        written.append(target)
    if _is_translation(source):  # the checks answer in this language (exercises.language)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / LANGUAGE_FILE).write_text(source.name + "\n")
    return written


# Modules that moved when the package was grouped by role (issue 12): a copy the learner has
# edited keeps working after an update; only these import paths in it are rewritten.
MOVED = ((re.compile(r"\bsm_tutorial\.(lessons|exercises|widgets|measure|learner|course_data)\b"),
          r"sm_tutorial.course.\1"),
         (re.compile(r"\bsm_tutorial\.(results|logs|sdk|aws_mode|prices|local_jobs)\b"),
          r"sm_tutorial.client.\1"),
         (re.compile(r"\bsm_tutorial\.(doctor|lab)\b"), r"sm_tutorial.cli.\1"))


def migrate_imports(path: Path) -> bool:
    """Rewrite moved module paths in a kept notebook's code cells; True if anything changed."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # not ours to fix: the learner's file stays as it is
    changed = False
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        new = source
        for pattern, replacement in MOVED:
            new = pattern.sub(replacement, new)
        if new != source:
            cell["source"], changed = new.splitlines(True), True
    if changed:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sync_workspace(folder: Path | None = None, source: Path = SOURCE) -> dict[str, list[str]]:
    """Bring the learner's folder up to date without losing their work. Returns what happened:
    ``{"copied": [...], "refreshed": [...], "kept": [...]}`` (kept: edited by the learner; in
    those, only module paths that moved are rewritten: ``migrate_imports``)."""
    folder = Path(folder or settings.workspace() / "notebooks")
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    report: dict[str, list[str]] = {"copied": [], "refreshed": [], "kept": []}
    for rel, path in _files(source).items():
        target, fresh = folder / rel, _render(path)
        if not target.exists():
            report["copied"].append(rel)
        elif target.read_bytes() == fresh:
            manifest[rel] = _digest(fresh)
            _keep_executable(path, target)
            continue
        elif manifest.get(rel) == _digest(target.read_bytes()):
            report["refreshed"].append(rel)  # untouched since we wrote it: safe to update
        else:
            report["kept"].append(rel)
            if rel.endswith(".ipynb"):
                migrate_imports(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fresh)
        _keep_executable(path, target)
        manifest[rel] = _digest(fresh)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if _is_translation(source):
        (folder / LANGUAGE_FILE).write_text(source.name + "\n")
    return report


def find_lesson(name: str, source: Path = SOURCE) -> Path:
    """A lesson by number ("3", "03"), name ("03_inside_the_container") or file name."""
    wanted = name.strip().removesuffix(".ipynb")
    for path in lessons(source):
        number = path.name[:2]
        if wanted in (path.stem, number) or (wanted.isdigit() and int(wanted) == int(number)):
            return path
    names = ", ".join(p.stem for p in lessons(source))
    if _is_translation(source):  # an English lesson not translated yet says so
        try:
            english = find_lesson(name, source.parent)
        except ValueError:
            pass
        else:
            raise ValueError(f"no lesson {name!r} in the {source.name!r} edition yet ({english.stem} is "
                             f"not translated); its lessons are: {names}")
    raise ValueError(f"no lesson {name!r}; the lessons are: {names}")


def reset_lesson(name: str, folder: Path | None = None, source: Path = SOURCE) -> tuple[Path, Path | None]:
    """Start a lesson over: the current copy moves to backups/, a fresh one takes its place.
    Returns (fresh copy, backup or None)."""
    folder = Path(folder or settings.workspace() / "notebooks")
    lesson = find_lesson(name, source)
    target = folder / lesson.name
    backup = None
    if target.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = folder / "backups" / f"{lesson.stem}.{stamp}.ipynb"
        backup.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while backup.exists():
            backup = backup.with_name(f"{lesson.stem}.{stamp}-{n}.ipynb")
            n += 1
        shutil.move(str(target), backup)
    sync_workspace(folder, source)
    return target, backup
