"""The ``SM_*`` environment variables, named and encoded as AWS's toolkit sets them.

Names are ``SM_`` + the key upper-cased (hyphens survive: ``SM_HP_USE-BN``); strings are set
as they are, ``None`` as an empty string, everything else as compact, key-sorted JSON.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from .arguments import sagemaker_hyperparameters, to_cmd_args, user_hyperparameters
from .layout import ContainerRoot

# The sagemaker_* keys the toolkit consumes itself; any other goes to SM_FRAMEWORK_PARAMS.
TOOLKIT_KEYS = {
    "sagemaker_program", "sagemaker_submit_directory", "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_container_log_level", "sagemaker_job_name", "sagemaker_region",
    "sagemaker_s3_output", "sagemaker_estimator_class_name", "sagemaker_estimator_module",
}
# Any of these (true) makes the toolkit distribute over the current instance group.
DISTRIBUTION_FLAGS = (
    "sagemaker_mpi_enabled", "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled", "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled", "sagemaker_torch_distributed_enabled",
)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def training_environment(root: ContainerRoot, *, job_name: str, hyperparameters: Mapping[str, str],
                         resource_config: Mapping[str, Any], input_data_config: Mapping[str, Any],
                         num_cpus: int, num_gpus: int, framework_module: str | None) -> dict[str, Any]:
    """The toolkit's view of the job: the dict behind ``SM_TRAINING_ENV``."""
    hps = user_hyperparameters(hyperparameters)
    sm = sagemaker_hyperparameters(hyperparameters)
    program = str(sm.get("sagemaker_program", ""))
    host = resource_config["current_host"]
    group = resource_config.get("current_group_name", "homogeneousCluster")
    instance_type = resource_config.get("current_instance_type")
    groups = resource_config.get("instance_groups", [])
    channels = {name: str(root.channel(name)) for name in sorted(input_data_config)}
    # the toolkit's instance groups (sagemaker_training/environment.py): a distribution flag
    # puts the current group in distribution_instance_groups; its hosts are distribution_hosts,
    # whose first is the master (else the first of all hosts)
    framework_params = {k: v for k, v in sm.items() if k not in TOOLKIT_KEYS}
    distribution_groups = framework_params.get(
        "sagemaker_distribution_instance_groups",
        [group] if any(framework_params.get(flag) for flag in DISTRIBUTION_FLAGS) else [])
    group_hosts = next((g["hosts"] for g in groups if g["instance_group_name"] == group), [])
    distribution_hosts = [h for g in groups if g["instance_group_name"] in distribution_groups
                          for h in g["hosts"]] if groups else list(resource_config["hosts"])
    master = (distribution_hosts or resource_config["hosts"])[0]
    return {
        "additional_framework_parameters": framework_params,
        "channel_input_dirs": channels,
        "current_host": host,
        "current_instance_group": group,
        "current_instance_group_hosts": list(group_hosts),
        "current_instance_type": instance_type,
        "distribution_hosts": distribution_hosts,
        "distribution_instance_groups": list(distribution_groups),
        "framework_module": framework_module,
        "hosts": list(resource_config["hosts"]),
        "hyperparameters": hps,
        "input_config_dir": str(root.config),
        "input_data_config": dict(input_data_config),
        "input_dir": str(root.input),
        "instance_groups": [g["instance_group_name"] for g in groups],
        "instance_groups_dict": {g["instance_group_name"]: g for g in groups},
        "is_hetero": False,
        "is_master": host == master,
        # the newest toolkit's: SM_HP_MP_PARAMETERS is not in its own environment (null); no
        # smddprun/smddpmprun in a CPU image; topology only for GB200 UltraServers
        "is_modelparallel_enabled": None,
        "is_smddpmprun_installed": False,
        "is_smddprun_installed": False,
        "job_name": job_name,
        "log_level": sm.get("sagemaker_container_log_level", 20),
        "master_hostname": master,
        "model_dir": str(root.model),
        "module_dir": sm.get("sagemaker_submit_directory", str(root.code)),
        "module_name": program[:-3] if program.endswith(".py") else program,
        "network_interface_name": resource_config.get("network_interface_name", "eth0"),
        "num_cpus": num_cpus,
        "num_gpus": num_gpus,
        "num_neurons": 0,
        "output_data_dir": str(root.output_data),
        "output_dir": str(root.output),
        "output_intermediate_dir": str(root.intermediate),
        "resource_config": dict(resource_config),
        "topology": list(resource_config.get("topology", [])),
        "user_entry_point": program,
    }


def sm_variables(env: Mapping[str, Any], region: str) -> dict[str, str]:
    """``training_environment(...)`` -> the ``SM_*`` variables (plus the toolkit's few others)."""
    hps = env["hyperparameters"]
    values: dict[str, Any] = {
        "hosts": env["hosts"],
        "network_interface_name": env["network_interface_name"],
        "hps": hps,
        "user_entry_point": env["user_entry_point"],
        "framework_params": env["additional_framework_parameters"],
        "resource_config": env["resource_config"],
        "input_data_config": env["input_data_config"],
        "output_data_dir": env["output_data_dir"],
        "channels": sorted(env["channel_input_dirs"]),
        "current_host": env["current_host"],
        "current_instance_type": env["current_instance_type"],
        "current_instance_group": env["current_instance_group"],
        "current_instance_group_hosts": env["current_instance_group_hosts"],
        "instance_groups": env["instance_groups"],
        "instance_groups_dict": env["instance_groups_dict"],
        "distribution_instance_groups": env["distribution_instance_groups"],
        "is_hetero": env["is_hetero"],
        "module_name": env["module_name"],
        "log_level": env["log_level"],
        "framework_module": env["framework_module"],
        "input_dir": env["input_dir"],
        "input_config_dir": env["input_config_dir"],
        "output_dir": env["output_dir"],
        "num_cpus": env["num_cpus"],
        "num_gpus": env["num_gpus"],
        "num_neurons": env["num_neurons"],
        "model_dir": env["model_dir"],
        "module_dir": env["module_dir"],
        "training_env": env,
        "user_args": to_cmd_args(hps),
        "output_intermediate_dir": env["output_intermediate_dir"],
    }
    for name, path in env["channel_input_dirs"].items():
        values[f"channel_{name}"] = path
    for key, value in hps.items():
        values[f"hp_{key}"] = value
    variables = {f"SM_{key.upper()}": _format(value) for key, value in values.items()}
    variables.update({
        "TRAINING_JOB_NAME": env["job_name"],
        "CURRENT_HOST": env["current_host"],
        "SAGEMAKER_REGION": region,
    })
    return variables
