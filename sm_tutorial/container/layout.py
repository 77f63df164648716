"""The /opt/ml tree of one job. It is kept in the course workspace; the script sees it at
/opt/ml itself where the job has its own mount namespace (``mounts.py``). Elsewhere it is
relocated: AWS's toolkit honours ``SAGEMAKER_BASE_DIR`` in place of /opt/ml, we set it to this
root, and every ``SM_*`` path points inside it, so a script that uses the variables runs
unchanged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class ContainerRoot:
    path: Path  # stands in for /opt/ml

    @property
    def input(self) -> Path: return self.path / "input"
    @property
    def config(self) -> Path: return self.path / "input" / "config"
    @property
    def data(self) -> Path: return self.path / "input" / "data"
    @property
    def code(self) -> Path: return self.path / "code"
    @property
    def model(self) -> Path: return self.path / "model"
    @property
    def output(self) -> Path: return self.path / "output"
    @property
    def output_data(self) -> Path: return self.path / "output" / "data"
    @property
    def intermediate(self) -> Path: return self.path / "output" / "intermediate"
    @property
    def checkpoints(self) -> Path: return self.path / "checkpoints"
    @property
    def failure_file(self) -> Path: return self.output / "failure"

    def channel(self, name: str) -> Path:
        return self.data / name

    def create(self) -> "ContainerRoot":
        for folder in (self.config, self.data, self.code, self.model, self.output_data,
                       self.intermediate, self.checkpoints):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def write_config(self, hyperparameters: Mapping[str, str], resource_config: Mapping[str, Any],
                     input_data_config: Mapping[str, Any]) -> None:
        """The three files AWS writes to input/config/ before the script starts."""
        for name, content in (("hyperparameters.json", hyperparameters),
                              ("resourceconfig.json", resource_config),
                              ("inputdataconfig.json", input_data_config)):
            (self.config / name).write_text(json.dumps(content))


OPT_ML = ContainerRoot(Path("/opt/ml"))  # the tree as a script in its own namespace sees it


def resource_config(instance_type: str, host: str = "algo-1") -> dict[str, Any]:
    """resourceconfig.json of a one-instance job, as real jobs have it."""
    return {
        "current_host": host,
        "current_instance_type": instance_type,
        "current_group_name": "homogeneousCluster",
        "hosts": [host],
        "instance_groups": [{"instance_group_name": "homogeneousCluster",
                             "instance_type": instance_type, "hosts": [host]}],
        "network_interface_name": "eth0",
    }


def channel_mode(channel: Mapping[str, Any], request: Mapping[str, Any]) -> str:
    """A channel's input mode: its own InputMode, else the job's TrainingInputMode (File)."""
    return channel.get("InputMode") or (request.get("AlgorithmSpecification") or {}).get(
        "TrainingInputMode", "File")


def input_data_config(request: Mapping[str, Any]) -> dict[str, Any]:
    """inputdataconfig.json from CreateTrainingJob's InputDataConfig."""
    config = {}
    for channel in request.get("InputDataConfig") or []:
        s3 = channel.get("DataSource", {}).get("S3DataSource", {})
        entry = {
            "TrainingInputMode": channel_mode(channel, request),
            "S3DistributionType": s3.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        if channel.get("ContentType"):
            entry["ContentType"] = channel["ContentType"]
        if channel.get("CompressionType") and channel["CompressionType"] != "None":
            entry["CompressionType"] = channel["CompressionType"]
        config[channel["ChannelName"]] = entry
    return config
