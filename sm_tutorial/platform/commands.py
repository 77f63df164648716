"""What a job's container runs, and with which environment, as AWS starts it.

Three kinds, decided by the request:
- ``script``: a framework image in script mode (``sagemaker_program``): the toolkit runs
  ``python <entry point> ARGS`` with the ``SM_*`` environment;
- ``entrypoint``: ``AlgorithmSpecification.ContainerEntrypoint`` (+ ``ContainerArguments``), as
  ``docker run --entrypoint``: the program runs with the arguments as its argv, and the same
  ``SM_*`` environment (the simulation's stand-in for the toolkit a framework image carries),
  except for ModelTrainer's driver (``drivers``), which sets its own;
- ``image``: an image registered with ``sm-tutorial image add`` and no entry point: ``train``,
  as ``docker run IMAGE train``. Such a container gets what AWS gives a bring-your-own
  container: the files in ``input/config`` and the channels, ``TRAINING_JOB_NAME``,
  ``TRAINING_JOB_ARN`` and the request's ``Environment`` (no ``SM_*``: those come from the
  toolkit), plus ``SAGEMAKER_BASE_DIR`` where this simulation relocates /opt/ml.

``root`` is where the job's /opt/ml is kept; ``view`` is /opt/ml as the process sees it:
``layout.OPT_ML`` in its own mount namespace, else ``root`` itself (relocated).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..container import arguments, distribution, environment, layout, mounts, process
from ..container.layout import ContainerRoot
from . import drivers, instances


class CommandError(Exception):
    """The container cannot start; the message is the job's FailureReason."""


@dataclass
class Command:
    kind: str             # "script", "entrypoint" or "image"
    argv: list[str]       # what the launcher runs
    env: dict[str, str]
    shown: list[str]      # the command as the log shows it
    entry: str = ""       # a script's entry point (under torchrun, not argv[1])


def kind(request: Mapping[str, Any], image_folder: Path | None) -> str | None:
    """The kind of job (module docstring), or None when there is nothing this simulation runs."""
    algorithm = request.get("AlgorithmSpecification") or {}
    if algorithm.get("ContainerEntrypoint"):
        return "entrypoint"
    if image_folder is not None:
        return "image"
    sm = arguments.sagemaker_hyperparameters(request.get("HyperParameters") or {})
    return "script" if sm.get("sagemaker_program") and sm.get("sagemaker_submit_directory") else None


def build(root: ContainerRoot, request: Mapping[str, Any], *, job_name: str, job_arn: str,
          region: str, platform_env: Mapping[str, str], image_folder: Path | None,
          view: ContainerRoot | None = None, host: str = "algo-1") -> Command:
    """Write input/config/*.json and return the command and environment for the launcher, on
    ``host`` of the job's ``InstanceCount`` hosts."""
    view = view or root
    hps = request.get("HyperParameters") or {}
    instance_type = request["ResourceConfig"]["InstanceType"]
    hosts = layout.host_names(request["ResourceConfig"].get("InstanceCount", 1))
    resources = layout.resource_config(instance_type, host, hosts)
    data_config = layout.input_data_config(request)
    root.write_config(hps, resources, data_config)
    how = kind(request, image_folder)
    trainer = how == "entrypoint" and drivers.is_model_trainer(request)
    if trainer:  # ModelTrainer's driver: it sets the SM_* variables itself, at literal /opt/ml
        reason = drivers.problem(request, root.data, None if view is not root else
                                 mounts.unavailable() or "/opt/ml is relocated for this job")
        if reason:
            raise CommandError(reason)
    variables = {"TRAINING_JOB_NAME": job_name, "TRAINING_JOB_ARN": job_arn}
    if how != "image" and not trainer:  # the toolkit's SM_* variables
        image = request["AlgorithmSpecification"].get("TrainingImage", "")
        spec = instances.lookup(instance_type)
        training_env = environment.training_environment(
            view, job_name=job_name, hyperparameters=hps, resource_config=resources,
            input_data_config=data_config, num_cpus=spec.vcpus, num_gpus=spec.gpus,
            framework_module="sagemaker_tensorflow_container.training:main" if "tensorflow" in image
            else "sagemaker_pytorch_container.training:main" if "pytorch" in image else None)
        variables.update(environment.sm_variables(training_env, region))
        if "tensorflow" in image:  # the TensorFlow toolkit's TF_CONFIG for distribution=
            variables.update(distribution.tensorflow_variables(training_env))
    variables.update(platform_env)
    variables.update(request.get("Environment") or {})
    env = process.base_environment(root, variables, relocated=view is root)
    if how == "script":
        args = arguments.to_cmd_args(training_env["hyperparameters"])
        argv = distribution.torchrun_argv(training_env, sys.executable, args) or \
            process.command(training_env["user_entry_point"], args)
        if argv[1:3] == ["-m", "torch.distributed.run"] and importlib.util.find_spec("torch") is None \
                and not (root.code / "torch").is_dir():  # nor shipped in source_dir
            raise CommandError("AlgorithmError: distribution={'torch_distributed': ...} runs the "
                               "script with torchrun, which needs PyTorch, and this environment "
                               "has none: pip install torch (PyTorch is optional for the course), "
                               "or train without that distribution.")
        shown = ["torchrun", *argv[3:]] if argv[1:3] == ["-m", "torch.distributed.run"] else \
            ["python", *argv[1:]]
        return Command(how, argv, env, shown, training_env["user_entry_point"])
    # a container's own program: this environment's Python is the image's python/python3
    path = [os.path.dirname(sys.executable), env.get("PATH", os.defpath)]
    python_path = [str(process.bootstrap(root))]
    if image_folder is not None:
        path.insert(0, str(image_folder / "program"))
        if (image_folder / "packages").is_dir():
            python_path.append(str(image_folder / "packages"))
    env["PATH"] = os.pathsep.join(path)
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    if trainer:
        env.update(drivers.environment(root.path.parent / "packages", env))
    algorithm = request["AlgorithmSpecification"]
    argv = list(algorithm.get("ContainerEntrypoint") or []) + \
        list(algorithm.get("ContainerArguments") or ([] if how == "entrypoint" else ["train"]))
    shown = list(argv)
    argv[0] = _resolve(root, argv[0], env["PATH"], how, relocated=view is root)
    return Command(how, argv, env, shown)


def _resolve(root: ContainerRoot, program: str, path: str, how: str, relocated: bool) -> str:
    """The program to exec (a /opt/ml path becomes its stand-in where /opt/ml is relocated), or
    CommandError as the container runtime fails when it is missing or not executable."""
    what = "ContainerEntrypoint" if how == "entrypoint" else "The image's command"
    if program.startswith("/opt/ml/"):
        found: str | None = str(root.path / program[len("/opt/ml/"):])
    elif "/" in program:
        found = str(root.code / program) if not os.path.isabs(program) else program
    else:
        found = shutil.which(program, path=path) or shutil.which(program, mode=os.F_OK, path=path)
    if not found or not os.path.isfile(found):
        where = "executable file not found in $PATH" if "/" not in program else \
            f"stat {program}: no such file or directory"
        raise CommandError(
            f"ClientError: Cannot start the container: {what} {program!r} failed: exec: "
            f"\"{program}\": {where}. Name a program the image has: an absolute path such as "
            "/bin/bash, or a name on the image's PATH.")
    if not os.access(found, os.X_OK):
        raise CommandError(
            f"ClientError: Cannot start the container: {what} {program!r} failed: exec: "
            f"\"{program}\": permission denied. Make it executable (chmod +x) or run it through "
            "its interpreter, e.g. ContainerEntrypoint [\"/bin/bash\", \"script.sh\"].")
    return found if program.startswith("/opt/ml/") and relocated else program


def check_script(root: ContainerRoot, command: Command) -> None:
    """A script-mode entry point missing from source_dir: CommandError."""
    program = command.entry or command.argv[1]
    if not (root.code / program).is_file():
        found = sorted(p.name for p in root.code.iterdir())[:10]
        raise CommandError(f"AlgorithmError: entry point {program!r} is not in source_dir "
                           f"(found: {', '.join(found) or 'nothing'}). Check entry_point and "
                           "source_dir.")


def exit_failure(command: Command, code: int, error: str) -> str:
    """The FailureReason of a container program (not a script) that exited with ``code``."""
    import shlex
    return (f"AlgorithmError: See job logs for more information. The container's command "
            f"\"{shlex.join(command.shown)}\" exited with code {code}; its last error line: "
            f"\"{error}\"")
