"""``distribution=`` as AWS's TensorFlow training toolkit acts on it
(sagemaker_tensorflow_container/training.py: ``train``, ``_build_tf_config_for_mwms``,
``_build_tf_config_for_ps``): the ``TF_CONFIG`` each host's script gets.

- ``sagemaker_multi_worker_mirrored_strategy_enabled``: every distribution host is a worker on
  port 8890, ``task.index`` this host's place among them.
- ``sagemaker_parameter_server_enabled`` (with more than one host): the first host is the
  ``master`` on 2222, the others ``worker`` on 2222, a ``ps`` on every host on 2223. The
  toolkit also starts a ``tf.distribute.Server`` for the ps task on each host; here the
  script gets the same TF_CONFIG, and no ps server is started for it.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

MWMS = "sagemaker_multi_worker_mirrored_strategy_enabled"
TORCH_DISTRIBUTED = "sagemaker_torch_distributed_enabled"
TORCH_MASTER_PORT = 7777  # sagemaker-pytorch-training-toolkit's MASTER_PORT
PARAMETER_SERVER = "sagemaker_parameter_server_enabled"


def tf_config_for_mwms(hosts: list[str], current_host: str) -> dict[str, Any]:
    return {"cluster": {"worker": [f"{h}:8890" for h in hosts]}, "environment": "cloud",
            "task": {"index": hosts.index(current_host), "type": "worker"}}


def tf_config_for_ps(hosts: list[str], current_host: str) -> dict[str, Any]:
    masters, workers = hosts[:1], hosts[1:]
    ps = hosts if len(hosts) > 1 else None
    config: dict[str, Any] = {"cluster": {"master": [f"{h}:2222" for h in masters]},
                              "environment": "cloud"}
    if ps:
        config["cluster"]["ps"] = [f"{h}:2223" for h in ps]
    if workers:
        config["cluster"]["worker"] = [f"{h}:2222" for h in workers]
    if current_host == hosts[0]:
        config["task"] = {"index": 0, "type": "master"}
    else:
        config["task"] = {"index": workers.index(current_host), "type": "worker"}
    return config


def tensorflow_variables(env: Mapping[str, Any]) -> dict[str, str]:
    """{"TF_CONFIG": ...} where the TensorFlow toolkit sets it for this host, else {}."""
    params = env["additional_framework_parameters"]
    if env["current_instance_group"] not in env["distribution_instance_groups"]:
        return {}
    hosts, host = list(env["distribution_hosts"]), env["current_host"]
    if params.get(PARAMETER_SERVER) and len(env["hosts"]) > 1:
        return {"TF_CONFIG": json.dumps(tf_config_for_ps(hosts, host))}
    if params.get(MWMS):
        return {"TF_CONFIG": json.dumps(tf_config_for_mwms(hosts, host))}
    return {}


def torchrun_argv(env: Mapping[str, Any], python: str, args: list[str]) -> list[str] | None:
    """``distribution={"torch_distributed": {"enabled": True}}``: the command AWS's PyTorch
    toolkit runs instead of ``python entry.py``, ``torchrun`` with this host's place among the
    distribution hosts (node rank), their count, the master's name and port; one process per
    GPU of the instance type (one where it has none). None when the flag is off."""
    if not env["additional_framework_parameters"].get(TORCH_DISTRIBUTED) or \
            env.get("framework_module") != "sagemaker_pytorch_container.training:main":
        return None
    hosts = list(env["distribution_hosts"]) or list(env["hosts"])
    return [python, "-m", "torch.distributed.run", "--nnodes", str(len(hosts)),
            "--nproc_per_node", str(max(1, int(env["num_gpus"]))),
            "--master_addr", env["master_hostname"], "--master_port", str(TORCH_MASTER_PORT),
            "--node_rank", str(hosts.index(env["current_host"])),
            env["user_entry_point"], *args]
