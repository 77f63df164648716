"""The hosting resources' records: models, endpoint configurations and endpoints, with their
ARNs and the errors AWS gives when one is missing or already exists. Each record is also kept
on disk (``Store``, ``<workspace>/hosting/<kind>/<name>.json``): on AWS they outlive the kernel
that made them, and so they do here (an endpoint's container does not: see hosting.py)."""
from __future__ import annotations

import copy
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..settings import ACCOUNT_ID
from .errors import validation
from .job import _alive

KINDS = {"model": "model", "endpoint-config": "endpoint configuration", "endpoint": "endpoint"}
HINTS = {
    "model": "Check the name with list_models(); the SDK's deploy() creates the model first.",
    "endpoint-config": "Check the name with list_endpoint_configs(); create_endpoint_config() "
                       "comes before create_endpoint().",
    "endpoint": "Check the name with list_endpoints(); an endpoint that was deleted is gone.",
}
IN_PROGRESS = ("Creating", "Updating", "Deleting", "SystemUpdating", "RollingBack")


def arn(region: str, kind: str, name: str) -> str:
    """AWS lower-cases the name in the ARN: names that differ only in case are one resource."""
    return f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:{kind}/{name.lower()}"


def not_found(region: str, kind: str, name: str):
    return validation(f'Could not find {KINDS[kind]} "{arn(region, kind, name)}". {HINTS[kind]}')


def already_exists(region: str, kind: str, name: str):
    return validation(f'Cannot create already existing {KINDS[kind]} "{arn(region, kind, name)}". '
                      f"Pick another name, or delete the old {KINDS[kind]} first.")


class Store:
    """One JSON file per record. A write goes to a temporary file first: a kernel killed
    mid-write leaves the old record, never half of one."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, kind: str, name: str) -> Path:
        return self.folder / kind / f"{name.lower()}.json"

    def save(self, kind: str, name: str, data: dict[str, Any]) -> None:
        path = self._path(kind, name)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({**data, "owner": os.getpid()}, default=str))
            os.replace(tmp, path)
        except OSError:
            pass  # (a full disk) the answer in memory stays right; a restart would lose it

    def remove(self, kind: str, name: str) -> None:
        try:
            self._path(kind, name).unlink()
        except OSError:
            pass

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(kind, name).read_text())
        except (OSError, ValueError):
            return None

    def load(self, kind: str) -> list[dict[str, Any]]:
        found = []
        for path in sorted((self.folder / kind).glob("*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return found

    def held_elsewhere(self, kind: str, name: str) -> bool:
        """A record of this name that another live stand-in (kernel, `serve`) keeps."""
        data = self.read(kind, name)
        owner = (data or {}).get("owner")
        return bool(owner) and owner != os.getpid() and _alive(owner)


class Registry:
    """Records of one kind by name (names are unique whatever their case, as on AWS), each
    saved in ``store`` when it is added or changed and removed from it when it is deleted."""

    def __init__(self, region: str, kind: str, store: Store | None = None):
        self.region, self.kind, self.store = region, kind, store
        self._items: dict[str, Any] = {}
        self.lock = threading.RLock()

    def get(self, name: str):
        with self.lock:
            item = self._items.get((name or "").lower())
        if item is None:
            raise not_found(self.region, self.kind, name)
        return item

    def add(self, name: str, item) -> None:
        with self.lock:
            if name.lower() in self._items or (self.store and self.store.held_elsewhere(self.kind, name)):
                raise already_exists(self.region, self.kind, name)
            self._items[name.lower()] = item
        self.save(item)

    def restore(self, item) -> None:
        with self.lock:
            self._items[item.name.lower()] = item

    def save(self, item) -> None:
        if self.store is not None:
            self.store.save(self.kind, item.name, item.to_dict())

    def remove(self, name: str):
        with self.lock:
            item = self._items.pop((name or "").lower(), None)
        if item is None:
            raise not_found(self.region, self.kind, name)
        if self.store is not None:
            self.store.remove(self.kind, item.name)
        return item

    def values(self) -> list:
        with self.lock:
            return list(self._items.values())


class Resource:
    """A model or an endpoint configuration: the request, its ARN and creation time."""

    def __init__(self, request: dict[str, Any], name_field: str, arn_field: str, arn_value: str):
        self.request = copy.deepcopy(request)
        self.name = request[name_field]
        self.arn, self.arn_field, self.name_field = arn_value, arn_field, name_field
        self.created = time.time()
        self.tags: list[dict[str, str]] = list(request.get("Tags") or [])

    def describe(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.request.items() if k != "Tags"}
        return {**shown, self.arn_field: self.arn, "CreationTime": self.created}

    def summary(self) -> dict[str, Any]:
        return {self.name_field: self.name, self.arn_field: self.arn, "CreationTime": self.created}

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "fields": [self.name_field, self.arn_field],
                "arn": self.arn, "created": self.created, "tags": self.tags}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Resource":
        resource = cls(data["request"], *data["fields"], data["arn"])
        resource.created, resource.tags = data["created"], data["tags"]
        return resource


class EndpointRecord:
    """An endpoint's status as DescribeEndpoint reports it; its container is hosting's."""

    def __init__(self, request: dict[str, Any], region: str):
        self.name = request["EndpointName"]
        self.arn = arn(region, "endpoint", self.name)
        self.config_name = request["EndpointConfigName"]
        self.tags = list(request.get("Tags") or [])
        self.created = self.modified = time.time()
        self.status, self.failure = "Creating", None
        self.variants: list[dict[str, Any]] = []
        self.container = None  # the ServingContainer answering InvokeEndpoint
        self.dormant = False   # restored InService with no container yet: the next use starts one
        self.deleted = threading.Event()
        self.lock, self.waking = threading.Lock(), threading.Lock()
        self.on_change = lambda record: None  # hosting saves the record

    def set(self, status: str, failure: str | None = None) -> None:
        with self.lock:
            self.status, self.failure, self.modified = status, failure, time.time()
        if not self.deleted.is_set():
            self.on_change(self)

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"name": self.name, "config": self.config_name, "tags": self.tags,
                    "created": self.created, "modified": self.modified, "status": self.status,
                    "failure": self.failure, "variants": self.variants}

    @classmethod
    def from_dict(cls, data: dict[str, Any], region: str) -> "EndpointRecord":
        record = cls({"EndpointName": data["name"], "EndpointConfigName": data["config"],
                      "Tags": data["tags"]}, region)
        record.created, record.modified = data["created"], data["modified"]
        record.status, record.failure, record.variants = data["status"], data["failure"], data["variants"]
        return record

    def describe(self) -> dict[str, Any]:
        with self.lock:
            result = {"EndpointName": self.name, "EndpointArn": self.arn,
                      "EndpointConfigName": self.config_name, "EndpointStatus": self.status,
                      "CreationTime": self.created, "LastModifiedTime": self.modified}
            if self.variants:
                result["ProductionVariants"] = copy.deepcopy(self.variants)
            if self.failure:
                result["FailureReason"] = self.failure
        return result

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.describe().items()
                if k in ("EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime",
                         "EndpointStatus")}


def variant_description(variant: dict[str, Any], image: str) -> dict[str, Any]:
    count = variant.get("InitialInstanceCount", 1)
    weight = variant.get("InitialVariantWeight", 1.0)
    return {"VariantName": variant["VariantName"],
            "DeployedImages": [{"SpecifiedImage": image, "ResolvedImage": image,
                                "ResolutionTime": time.time()}],
            "CurrentWeight": weight, "DesiredWeight": weight,
            "CurrentInstanceCount": count, "DesiredInstanceCount": count}


def page(items: list[dict[str, Any]], request: dict[str, Any], name_field: str,
         result_field: str) -> dict[str, Any]:
    """List*: NameContains, StatusEquals, CreationTime filters, SortBy Name or CreationTime,
    and pages whose NextToken is the count of items already returned."""
    if request.get("NameContains"):
        items = [i for i in items if request["NameContains"].lower() in i[name_field].lower()]
    if request.get("StatusEquals"):
        items = [i for i in items if i.get("EndpointStatus") == request["StatusEquals"]]
    if request.get("CreationTimeAfter") is not None:
        items = [i for i in items if i["CreationTime"] > request["CreationTimeAfter"]]
    if request.get("CreationTimeBefore") is not None:
        items = [i for i in items if i["CreationTime"] < request["CreationTimeBefore"]]
    key = name_field if request.get("SortBy") == "Name" else "CreationTime"
    items.sort(key=lambda i: (i[key], i[name_field]),
               reverse=request.get("SortOrder", "Descending") == "Descending")
    try:
        start = int(request.get("NextToken") or 0)
    except ValueError:
        raise validation(f"Invalid pagination token '{request['NextToken'][:40]}'. Pass the "
                         "NextToken of the previous response unchanged.")
    size = request.get("MaxResults", 100)
    result: dict[str, Any] = {result_field: items[start:start + size]}
    if start + size < len(items):
        result["NextToken"] = str(start + size)
    return result
