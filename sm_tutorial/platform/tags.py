"""ListTags, AddTags and DeleteTags, one way for every resource the simulator serves (training
jobs, tuning jobs, models, endpoint configurations, endpoints)."""
from __future__ import annotations

from typing import Any

from .validation import check_tags


def tags_added(current: list[dict[str, str]], added: list[dict[str, str]]) -> list[dict[str, str]]:
    """AddTags: a resource's tags with ``added`` put in (a key given again takes its new value)."""
    check_tags(added)
    keys = {t["Key"] for t in added}
    tags = [t for t in current if t["Key"] not in keys] + list(added)
    check_tags(tags)
    return tags


def tags_deleted(current: list[dict[str, str]], keys: list[str]) -> list[dict[str, str]]:
    """DeleteTags: a resource's tags without those keys (a key it does not have is no error)."""
    return [t for t in current if t["Key"] not in keys]


class TagActions:
    """The three tag actions for a service with ``_by_arn(arn)`` and a ``_lock``; a resource
    has ``tags``, and ``_set_tags`` stores new ones (by default its ``set_tags``, which saves)."""

    def _set_tags(self, resource, arn: str, tags: list[dict[str, str]]) -> None:
        resource.set_tags(tags)

    def list_tags(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": list(self._by_arn(request.get("ResourceArn", "")).tags)}

    def add_tags(self, request: dict[str, Any]) -> dict[str, Any]:
        resource = self._by_arn(request["ResourceArn"])
        with self._lock:  # read, change, save: one caller at a time
            self._set_tags(resource, request["ResourceArn"], tags_added(resource.tags, request["Tags"]))
        return {"Tags": request["Tags"]}

    def delete_tags(self, request: dict[str, Any]) -> dict[str, Any]:
        resource = self._by_arn(request["ResourceArn"])
        with self._lock:
            self._set_tags(resource, request["ResourceArn"], tags_deleted(resource.tags, request["TagKeys"]))
        return {}
