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


def _after(token: str, action: str, kind=None) -> list:
    """The [sort key, name] a NextToken names; ``kind``: the sort key's type, where known."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        key = None
    if not (isinstance(key, list) and len(key) == 2 and isinstance(key[1], str) and (
            kind is None or isinstance(key[0], kind) and not isinstance(key[0], bool))):
        raise validation(f"Invalid pagination token '{token[:40]}'. Pass the NextToken of the "
                         f"previous {action} response unchanged, or leave it out to start "
                         "from the first page.")
    return key


def time_filtered(items: list[dict[str, Any]], request: dict[str, Any]) -> list[dict[str, Any]]:
    """``items`` within the request's CreationTime/LastModifiedTime After/Before bounds."""
    for field, attribute, sign in TIME_FILTERS:
        if request.get(field) is not None:
            limit = _ms(request[field])  # AWS keeps milliseconds; clients send microseconds
            items = [i for i in items if (_ms(i[attribute]) - limit) * sign > 0]
    return items


def sorted_page(items: list[dict[str, Any]], request: dict[str, Any], sort_key, name_field: str,
                result_field: str, action: str, default_size: int, kind=None) -> dict[str, Any]:
    """One page of ``items``, sorted by ``sort_key`` then name; the NextToken names the last
    item listed, so items created between two calls are neither skipped nor listed twice."""
    descending = request.get("SortOrder", "Ascending") == "Descending"
    key = lambda item: [sort_key(item), item[name_field]]  # names are unique: a total order
    items = sorted(items, key=key, reverse=descending)
    if request.get("NextToken"):
        last = _after(request["NextToken"], action, kind)
        try:
            items = [i for i in items if (key(i) < last if descending else key(i) > last)]
        except TypeError:  # a token of another sort order
            raise validation(f"Invalid pagination token for this SortBy. Pass the NextToken of "
                             f"the previous {action} response with the same SortBy.") from None
    size = request.get("MaxResults", default_size)
    result: dict[str, Any] = {result_field: items[:size]}
    if len(items) > size:
        result["NextToken"] = _token(key(items[size - 1]))
    return result


def page(summaries: Iterable[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """The page of ``summaries`` (DescribeTrainingJob-style summaries) the request asks for;
    the request has passed ``shapes.check_request`` (types, enums, MaxResults 1-100)."""
    jobs = list(summaries)
    if request.get("NameContains"):
        jobs = [s for s in jobs if request["NameContains"] in s["TrainingJobName"]]
    if request.get("StatusEquals"):
        jobs = [s for s in jobs if s["TrainingJobStatus"] == request["StatusEquals"]]
    field = SORT_FIELDS[request.get("SortBy", "CreationTime")]
    return sorted_page(time_filtered(jobs, request), request, lambda s: s[field],
                       "TrainingJobName", "TrainingJobSummaries", "ListTrainingJobs", 100,
                       kind=(int, float) if field == "CreationTime" else str)
