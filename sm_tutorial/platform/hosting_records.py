"""The hosting resources' records: models, endpoint configurations and endpoints, with their
ARNs and the errors AWS gives when one is missing or already exists."""
from __future__ import annotations

import copy
import threading
import time
from typing import Any

from ..settings import ACCOUNT_ID
from .errors import validation

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


class Registry:
    """Records of one kind by name (names are unique whatever their case, as on AWS)."""

    def __init__(self, region: str, kind: str):
        self.region, self.kind = region, kind
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
            if name.lower() in self._items:
                raise already_exists(self.region, self.kind, name)
            self._items[name.lower()] = item

    def remove(self, name: str):
        with self.lock:
            item = self._items.pop((name or "").lower(), None)
        if item is None:
            raise not_found(self.region, self.kind, name)
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
        self.deleted = threading.Event()
        self.lock = threading.Lock()

    def set(self, status: str, failure: str | None = None) -> None:
        with self.lock:
            self.status, self.failure, self.modified = status, failure, time.time()

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
