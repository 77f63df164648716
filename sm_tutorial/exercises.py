"""Exercises a learner checks from the notebook, after Kaggle's learntools:
``q1.check(answer)``, ``q1.hint()``, ``q1.solution()``.

A check looks at the learner's real result (an estimator, a finished job, a parsed argument)
and says what is wrong, in one line; it never just compares against a stored output.
"""
from __future__ import annotations

from typing import Any, Callable


class NotYet(Exception):
    """Raised by a checker: the message says what to change."""


class Exercise:
    def __init__(self, title: str, checker: Callable[..., str], hint: str, solution: str):
        self.title, self._checker, self._hint, self._solution = title, checker, hint, solution

    def check(self, *answer: Any, **kwargs: Any) -> bool:
        try:
            praise = self._checker(*answer, **kwargs)
        except NotYet as problem:
            print(f"Not yet ({self.title}): {problem}")
            return False
        print(f"Correct ({self.title}): {praise}")
        return True

    def hint(self) -> None:
        print(f"Hint ({self.title}): {self._hint}")

    def solution(self) -> None:
        print(f"Solution ({self.title}):\n{self._solution.strip()}")

    def __repr__(self) -> str:
        return f"<Exercise {self.title!r}: .check(answer), .hint(), .solution()>"


def require(condition: bool, problem: str) -> None:
    if not condition:
        raise NotYet(problem)


def finished_job(session, job_name: Any) -> dict:
    """The description of a job that exists and has ended, or a NotYet saying why not."""
    require(isinstance(job_name, str) and job_name, "pass the job's name, a string "
            "(estimator.latest_training_job.name).")
    try:
        description = session.describe_training_job(job_name)
    except Exception:
        raise NotYet(f"there is no training job named {job_name!r}; did fit() run?")
    require(description["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"),
            f"job {job_name} is still {description['TrainingJobStatus']}; wait for it to finish.")
    return description
