"""Metric definitions, as AWS applies them to a training job's log.

``AlgorithmSpecification.MetricDefinitions`` is a list of ``{"Name", "Regex"}``. AWS runs each
regex over every line the container writes; the first group of a match (the whole match if the
regex has no group) is the metric's value at that moment. It publishes every value to
CloudWatch Metrics (namespace ``/aws/sagemaker/TrainingJobs``), which the SDK's
``TrainingJobAnalytics`` reads, and the last value of each metric becomes the job's
``FinalMetricDataList`` in DescribeTrainingJob, which tuning jobs compare trials by.
"""
from __future__ import annotations

import datetime
import re
import threading
import time
from typing import Any

NAMESPACE = "/aws/sagemaker/TrainingJobs"
PUT_BATCH = 500  # values per PutMetricData call (CloudWatch's limit is 1000)


def _compile(definitions: list[dict[str, str]]) -> list[tuple[str, re.Pattern | None]]:
    compiled = []
    for definition in definitions:
        try:
            compiled.append((definition["Name"], re.compile(definition["Regex"])))
        except re.error:
            compiled.append((definition["Name"], None))  # never matches: no value, as on AWS
    return compiled


def value_of(match: re.Match) -> float | None:
    text = match.group(1) if match.re.groups else match.group(0)
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None  # AWS ignores a match that is not a number
    return value if value == value and abs(value) != float("inf") else None


class MetricTap:
    """Fed every line the script writes; keeps each metric's values with their times."""

    def __init__(self, request: dict[str, Any]):
        definitions = (request.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
        self._definitions = _compile(definitions)
        self.values: list[tuple[str, float, float]] = []  # (name, value, epoch seconds)
        self._lock = threading.Lock()

    def feed(self, line: str) -> None:
        if not self._definitions:
            return
        now = time.time()
        for name, pattern in self._definitions:
            if pattern is None:
                continue
            for match in pattern.finditer(line):
                value = value_of(match)
                if value is not None:
                    with self._lock:
                        self.values.append((name, value, now))

    def final(self) -> list[dict[str, Any]]:
        """FinalMetricDataList: the last value of each metric that had one."""
        last: dict[str, tuple[float, float]] = {}
        with self._lock:
            for name, value, when in self.values:
                last[name] = (value, when)
        return [{"MetricName": name, "Value": value, "Timestamp": when}
                for name, (value, when) in last.items()]

    def publish(self, job, cloudwatch) -> None:
        """Put FinalMetricDataList on the job and every value in CloudWatch Metrics, with the
        dimensions AWS uses: TrainingJobName (what the SDK's analytics asks for) and Host."""
        final = self.final()
        if final:
            job.update(FinalMetricDataList=final)
        if cloudwatch is None or not self.values:
            return
        data = []
        for name, value, when in self.values:
            stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
            for dimension in ({"Name": "TrainingJobName", "Value": job.name},
                              {"Name": "Host", "Value": f"{job.name}/algo-1"}):
                data.append({"MetricName": name, "Dimensions": [dimension], "Value": value,
                             "Timestamp": stamp})
        for start in range(0, len(data), PUT_BATCH):
            cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start:start + PUT_BATCH])


def final_value(description: dict[str, Any], metric_name: str) -> float | None:
    """The final value of one metric in a DescribeTrainingJob response, if the log had one."""
    for item in description.get("FinalMetricDataList") or []:
        if item["MetricName"] == metric_name:
            return item["Value"]
    return None
