"""ListTrainingJobs: its filters, its sort, and pages that stay right while jobs are created.

A NextToken names the last job of the page it ended (its sort key and name), not an offset:
the next page starts after that job, so a job created between two calls never pushes an
already-listed job onto the next page a second time.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Iterable

from .errors import validation

SORT_FIELDS = {"Name": "TrainingJobName", "CreationTime": "CreationTime",
               "Status": "TrainingJobStatus"}
TIME_FILTERS = (("CreationTimeAfter", "CreationTime", 1), ("CreationTimeBefore", "CreationTime", -1),
                ("LastModifiedTimeAfter", "LastModifiedTime", 1),
                ("LastModifiedTimeBefore", "LastModifiedTime", -1))


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _token(key: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _after(token: str, field: str) -> list:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        key = None
    kind = (int, float) if field == "CreationTime" else str
    if not (isinstance(key, list) and len(key) == 2 and isinstance(key[0], kind)
            and not isinstance(key[0], bool) and isinstance(key[1], str)):
        raise validation(f"Invalid pagination token '{token[:40]}'. Pass the NextToken of the "
                         "previous ListTrainingJobs response unchanged, or leave it out to start "
                         "from the first page.")
    return key


def page(summaries: Iterable[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """The page of ``summaries`` (DescribeTrainingJob-style summaries) the request asks for;
    the request has passed ``shapes.check_request`` (types, enums, MaxResults 1-100)."""
    jobs = list(summaries)
    if request.get("NameContains"):
        jobs = [s for s in jobs if request["NameContains"] in s["TrainingJobName"]]
    if request.get("StatusEquals"):
        jobs = [s for s in jobs if s["TrainingJobStatus"] == request["StatusEquals"]]
    for field, attribute, sign in TIME_FILTERS:
        if request.get(field) is not None:
            limit = _ms(request[field])  # AWS keeps milliseconds; clients send microseconds
            jobs = [s for s in jobs if (_ms(s[attribute]) - limit) * sign > 0]
    field = SORT_FIELDS[request.get("SortBy", "CreationTime")]
    descending = request.get("SortOrder", "Ascending") == "Descending"
    key = lambda s: [s[field], s["TrainingJobName"]]  # names are unique: a total order
    jobs.sort(key=key, reverse=descending)
    if request.get("NextToken"):
        last = _after(request["NextToken"], field)
        jobs = [s for s in jobs if (key(s) < last if descending else key(s) > last)]
    size = request.get("MaxResults", 100)
    result: dict[str, Any] = {"TrainingJobSummaries": jobs[:size]}
    if len(jobs) > size:
        result["NextToken"] = _token(key(jobs[size - 1]))
    return result
