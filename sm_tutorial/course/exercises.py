"""Exercises a learner checks from the notebook, after Kaggle's learntools:
``q1.check(answer)``, ``q1.hint()``, ``q1.solution()``.

A check looks at the learner's real result (an estimator, a finished job, a parsed argument)
and says what is wrong, in one line; it never just compares against a stored output.

In the learner's copy of a lesson (``sm-tutorial learner-copy``) each answer is replaced by the
placeholder ``____``. It is a string, so a cell that uses it still runs (a channel named
``____``, a script that says ``____``), and every check given it, or anything made from it,
says "Not yet (...): fill in the ____" instead of raising.
"""
from __future__ import annotations

import functools
import json
import os
import re
import types
from pathlib import Path
from typing import Any, Callable

BLANK_TEXT = "____"
KOREAN = Path(__file__).with_name("messages_ko.json")   # English message template -> Korean

# The words around a check's message, per language.
FRAME = {
    "en": {"correct": "Correct", "not_yet": "Not yet", "hint": "Hint", "solution": "Solution",
           "blank": f"fill in the {BLANK_TEXT}",
           "raised": "checking your answer raised {}. Compare your answer with .hint()."},
    "ko": {"correct": "정답", "not_yet": "아직", "hint": "힌트", "solution": "풀이",
           "blank": f"{BLANK_TEXT} 자리를 채우세요",
           "raised": "답을 확인하다가 {} 오류가 났습니다. .hint()와 비교해 보세요."},
}


def language() -> str:
    """"ko" for the Korean edition, else "en". ``SM_TUTORIAL_LANG`` decides when set; otherwise
    the kernel's working directory, which Jupyter and nbval set to the notebook's folder: a
    Korean learner copy holds ``.sm-tutorial-lang`` (written by ``sm-tutorial learner-copy`` and
    ``lab``), and the course's own Korean folder is ``notebooks/ko``."""
    asked = os.environ.get("SM_TUTORIAL_LANG", "").strip().lower()
    marker = Path.cwd() / ".sm-tutorial-lang"
    if not asked and marker.is_file():
        asked = marker.read_text(encoding="utf-8").strip().lower()
    if asked:
        return "ko" if asked.startswith("ko") else "en"
    return "ko" if Path.cwd().name == "ko" and Path.cwd().parent.name == "notebooks" else "en"


@functools.lru_cache(maxsize=1)
def _korean() -> list:
    """messages_ko.json as (pattern, template) pairs: each ``{}`` of an English template (an
    f-string's value) matches any text; the Korean template gets the values by position."""
    pairs = []
    for english, korean in json.loads(KOREAN.read_text(encoding="utf-8")).items():
        pieces = english.replace("{{", "\0").replace("}}", "\1").split("{}")
        pattern = "(.*?)".join(re.escape(p.replace("\0", "{").replace("\1", "}")) for p in pieces)
        if korean:
            pairs.append((len("".join(pieces)), re.compile(pattern, re.S), korean))
    return [(p, k) for _, p, k in sorted(pairs, key=lambda t: -t[0])]  # most specific first


def say(text: str, lang: str | None = None) -> str:
    """A lesson's message in the edition's language: the Korean template whose English
    template matches the whole text, or the text itself when none does."""
    if (lang or language()) != "ko":
        return text
    for pattern, korean in _korean():  # a message with an added sentence (" Compare ...")
        if pattern.pattern.startswith(re.escape(" ")):
            tail = re.search(f"(?:{pattern.pattern})\\Z", text, re.S)
            head = text[:tail.start()] if tail else ""
            if head and say(head, "ko") != head:
                return say(head, "ko") + korean.format(*tail.groups())
    for pattern, korean in _korean():
        found = pattern.fullmatch(text)
        if found:
            return korean.format(*found.groups())
    return text


class Blank(str):
    """The placeholder ``____``: a string; attributes, calls, items and arithmetic give it back."""

    def __new__(cls):
        return super().__new__(cls, BLANK_TEXT)

    def __getattr__(self, name: str) -> "Blank":
        if name.startswith("_"):  # IPython's _repr_*_ / _ipython_display_ probes, pickling
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> "Blank":
        return self

    def __getitem__(self, key: Any) -> "Blank":
        return self

    def _same(self, *other: Any) -> "Blank":
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __rmod__ = __neg__ = _same

    def __repr__(self) -> str:
        return BLANK_TEXT

    def __reduce__(self):
        return (Blank, ())


____ = Blank()


def is_blank(value: Any, _depth: int = 0, _seen: set | None = None) -> bool:
    """True for ``____``, text or code that still holds it, and containers or simple objects
    (an estimator, a TrainingInput) made from it."""
    seen = set() if _seen is None else _seen
    if id(value) in seen or _depth > 4:
        return False
    seen.add(id(value))
    if isinstance(value, str):
        return BLANK_TEXT in value
    if isinstance(value, (bytes, int, float, bool, type(None))):
        return False
    if isinstance(value, types.FunctionType):
        return _code_uses_blank(value.__code__)
    if isinstance(value, dict):
        return any(is_blank(k, _depth + 1, seen) or is_blank(v, _depth + 1, seen)
                   for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(is_blank(v, _depth + 1, seen) for v in value)
    module = type(value).__module__ or ""
    if module.startswith(("sagemaker", "sm_tutorial", "__main__")) and hasattr(value, "__dict__"):
        return any(is_blank(v, _depth + 1, seen) for k, v in vars(value).items()
                   if not k.startswith("sagemaker_session") and "session" not in k)
    return False


def _code_uses_blank(code: types.CodeType) -> bool:
    return BLANK_TEXT in code.co_names or any(
        isinstance(c, types.CodeType) and _code_uses_blank(c) for c in code.co_consts)


class NotYet(Exception):
    """Raised by a checker: the message says what to change."""


class Exercise:
    def __init__(self, title: str, checker: Callable[..., str], hint: str, solution: str):
        self.title, self._checker, self._hint, self._solution = title, checker, hint, solution

    def check(self, *answer: Any, **kwargs: Any) -> bool:
        lang = language()
        words, title = FRAME[lang], say(self.title, lang)
        try:
            if any(is_blank(a) for a in (*answer, *kwargs.values())):
                raise NotYet(FRAME["en"]["blank"])
            praise = self._checker(*answer, **kwargs)
        except NotYet as problem:
            message = words["blank"] if str(problem) == FRAME["en"]["blank"] else say(str(problem), lang)
            print(f"{words['not_yet']} ({title}): {message}")
            return False
        except Exception as error:  # an answer the checker could not even read: no traceback
            said = words["raised"].format(f"{type(error).__name__}: {error}")
            print(f"{words['not_yet']} ({title}): {said}")
            return False
        print(f"{words['correct']} ({title}): {say(str(praise), lang)}")
        return True

    def hint(self) -> None:
        lang = language()
        print(f"{FRAME[lang]['hint']} ({say(self.title, lang)}): {say(self._hint, lang)}")

    def solution(self) -> None:
        lang = language()
        print(f"{FRAME[lang]['solution']} ({say(self.title, lang)}):\n{self._solution.strip()}")

    def __repr__(self) -> str:
        return f"<Exercise {self.title!r}: .check(answer), .hint(), .solution()>"


def require(condition: bool, problem: str) -> None:
    if not condition:
        raise NotYet(problem)


def finished_job(session, job_name: Any) -> dict:
    """The description of a job that exists and has ended, or a NotYet saying why not.
    A job whose script, channels or hyperparameters still hold ``____`` is a blank."""
    require(isinstance(job_name, str) and job_name, "pass the job's name, a string "
            "(estimator.latest_training_job.name).")
    try:
        description = session.describe_training_job(job_name)
    except Exception:
        raise NotYet(f"there is no training job named {job_name!r}; did fit() run?")
    require(description["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"),
            f"job {job_name} is still {description['TrainingJobStatus']}; wait for it to finish.")
    channels = [c["ChannelName"] for c in description.get("InputDataConfig", [])]
    if (is_blank(description.get("FailureReason", "")) or is_blank(channels)
            or is_blank(description.get("HyperParameters", {}))):
        raise NotYet(f"fill in the {BLANK_TEXT}")
    return description

