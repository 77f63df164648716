"""One host's container: its command and environment, the launcher process that runs it, the
pump that carries its output to CloudWatch, and its end (exit, StopTrainingJob, MaxRuntime).

A job runs one of these per host. Where this machine allows it (``container/mounts.py``), the
container has its own mount namespace in which the host's folder is /opt/ml itself; elsewhere
/opt/ml is relocated to that folder and the script finds it through SAGEMAKER_BASE_DIR.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from ..container import layout, mounts, process
from ..container.layout import ContainerRoot
from . import channels, commands, hints
from .errors import JobFailed
from .job import TrainingJob

SPOT_INTERRUPTION = "spot-interruption.json"  # in the job's folder: {"capacity_after": seconds}
OUT_OF_MEMORY = ("OutOfMemoryError: Please use an instance type with more memory, or reduce the "
                 "size of job data processed on an instance.")


def container_mode() -> tuple[str, str | None]:
    """(a line for the job log's start, None or why /opt/ml is relocated)."""
    problem = mounts.unavailable()
    if problem is None:
        return ("Container: /opt/ml is this job's own folder (a Linux user and mount namespace); "
                "the script sees AWS's paths.", None)
    return ("Container: /opt/ml is relocated to a folder of the course workspace "
            "($SAGEMAKER_BASE_DIR; SM_* variables point there) because " + problem + ".", problem)


class HostRun:
    def __init__(self, job: TrainingJob, root: ContainerRoot, *, own_opt_ml: bool,
                 streamed: list, write_log: Callable[[str], None], say: Callable[[str], None],
                 flush_log: Callable[[], None], sync_checkpoints: Callable[[], None],
                 platform_env: dict[str, str], image: Path | None, stop_grace_seconds: float,
                 host: str = "algo-1", stop: threading.Event | None = None,
                 cluster_spec: Path | None = None):
        self.job, self.root, self.own_opt_ml, self.streamed = job, root, own_opt_ml, streamed
        self.host, self.cluster_spec = host, cluster_spec
        self.stop = stop or job.stop_requested  # a multi-instance job's hosts share another
        self.folder = root.path.parent.parent  # jobs/<job>[/algo-N]: the host's own files
        self.interruption = job.folder / SPOT_INTERRUPTION  # written by interrupt_spot()
        self.view = layout.OPT_ML if own_opt_ml else root  # /opt/ml as the script sees it
        self.write_log, self.say, self.flush_log = write_log, say, flush_log
        self.sync_checkpoints, self.platform_env, self.image = sync_checkpoints, platform_env, image
        self.stop_grace_seconds = stop_grace_seconds
        self.tail: list[str] = []  # the script's last lines, for the FailureReason
        self.muted = False  # set once the job's output is complete

    def command(self) -> commands.Command:
        try:
            command = commands.build(self.root, self.job.request, job_name=self.job.name,
                                     job_arn=self.job.arn, region=self.platform_env["AWS_REGION"],
                                     platform_env=self.platform_env, image_folder=self.image,
                                     view=self.view, host=self.host)
            problem = process.unpassable(command.argv, command.env)
            if problem:
                raise commands.CommandError(f"AlgorithmError: framework error: {problem}")
            if command.kind == "script":
                commands.check_script(self.root, command)
        except commands.CommandError as error:
            raise JobFailed(str(error))
        return command

    def train(self, deadline: float) -> str:
        """Run the container to its end: "Completed", "Stopped" or "MaxRuntimeExceeded", or
        JobFailed with the FailureReason."""
        command = self.command()
        argv, env, shown = command.argv, command.env, command.shown
        packages = self._install_requirements(env) if command.kind == "script" else None
        if self.stop.is_set():
            return "Stopped"  # stopped while requirements were installing: never start the script
        if command.kind == "script":  # the framework's own (Keras 2 for an old TensorFlow) last
            paths = [str(process.bootstrap(self.root))] + ([str(packages)] if packages else []) \
                + ([self.platform_env["PYTHONPATH"]] if "PYTHONPATH" in self.platform_env else [])
            env["PYTHONPATH"] = os.pathsep.join(paths)
        self.say(("Invoking script" if command.kind == "script" else "Starting the container")
                 + " with the following command:\n\n" + shlex.join(shown) + "\n")
        proc = None
        try:
            for channel in self.streamed:
                channel.start()
            self._write_fastfile_manifest()
            proc = process.start(self.root, argv, env, self.stop_grace_seconds,
                                 own_opt_ml=self.own_opt_ml, cluster_spec=self.cluster_spec)
            pid_file = self.folder / "process.json"  # lets a later endpoint stop an orphan
            pid_tmp = pid_file.with_suffix(".json.tmp")  # atomic: a kill mid-write leaves no half file
            pid_tmp.write_text(json.dumps({"pid": proc.pid, "code": str(self.root.code)}))
            os.replace(pid_tmp, pid_file)
            reader = threading.Thread(target=self._pump, args=(proc,), daemon=True)
            reader.start()
            outcome = self._supervise(proc, deadline)
            reader.join(timeout=5)  # at once: the launcher has ended all that held the pipe
            self.muted = True  # a process that escaped (no subreaper) writes after the end
        finally:
            if proc is not None and proc.poll() is None:
                self._terminate(proc)  # an error of ours must not leave the script running
            for channel in self.streamed:
                channel.stop()
            (self.folder / "process.json").unlink(missing_ok=True)
        broken = [c for c in self.streamed if getattr(c, "error", None)]
        if broken and outcome == "Completed":
            raise JobFailed(f"ClientError: streaming channel {broken[0].name} failed: {broken[0].error}")
        if outcome != "Completed":
            return outcome
        if proc.returncode == 137 or proc.returncode == -signal.SIGKILL:
            raise JobFailed(OUT_OF_MEMORY)
        if proc.returncode != 0 and command.kind != "script":
            raise JobFailed(commands.exit_failure(command, proc.returncode, self.last_error()))
        if proc.returncode != 0:
            error = self.last_error()
            raise JobFailed(
                "AlgorithmError: ExecuteUserScriptError:\n"
                f"ExitCode {proc.returncode}\nErrorMessage \"{error}\"\n"
                f"Command \"{shlex.join(shown)}\", exit code: {proc.returncode}"
                + hints.for_script_error(error, self.job.request, "\n".join(self.tail)))
        return "Completed"

    def _write_fastfile_manifest(self) -> None:
        """{path the script opens: [bucket, key, target]} for the guard's fetch on first open."""
        host, seen = str(self.root.path), str(self.view.path)
        entries = {seen + path[len(host):]: entry for p in self.streamed
                   if isinstance(p, channels.FastFileChannel) for path, entry in p.entries().items()}
        if entries:
            (self.folder / "fastfile.json").write_text(json.dumps(entries))

    def _install_requirements(self, env: dict[str, str]) -> Path | None:
        try:
            return process.install_requirements(self.root, env)
        except subprocess.CalledProcessError as error:
            last = (error.stderr or error.stdout or "").strip().splitlines()[-3:]
            self.say("pip install -r requirements.txt failed:\n" + "\n".join(last))
            raise JobFailed("AlgorithmError: InstallRequirementsError: pip could not install "
                            "code/requirements.txt: " + " ".join(last) +
                            " Check the package names and versions in requirements.txt.")

    def _pump(self, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stdout.readline, b""):
            if self.muted:
                continue
            line = raw.decode("utf-8", errors="replace")
            self.tail = (self.tail + [line.rstrip()])[-20:]
            try:
                self.write_log(line)
            except Exception:  # the pipe must be drained whatever the log does, or the script blocks
                pass
        proc.stdout.close()

    def last_error(self) -> str:
        lines = [l for l in self.tail if l.strip()]
        errors = [l for l in lines if "Error" in l or "Exception" in l]
        return (errors or lines or [""])[-1].strip()

    def _supervise(self, proc: subprocess.Popen, deadline: float) -> str:
        """Wait for the script; on StopTrainingJob or MaxRuntime, SIGTERM then SIGKILL."""
        checkpoint = self.job.request.get("CheckpointConfig")
        next_sync = time.time() + 10
        while proc.poll() is None:
            time.sleep(0.05)
            self.flush_log()
            if checkpoint and time.time() > next_sync:
                self.sync_checkpoints()
                next_sync = time.time() + 10
            if self.interruption.exists():  # sm_tutorial.interrupt_spot: capacity reclaimed
                self.say("Spot interruption: capacity reclaimed; the script gets SIGTERM, its "
                         "checkpoints are saved to S3.")
                self._terminate(proc)
                if checkpoint:
                    self.sync_checkpoints()
                return "Interrupted"
            stopped = self.stop.is_set()
            if stopped or time.time() > deadline:
                self._terminate(proc)
                if not stopped:
                    self.say("Job exceeded MaxRuntimeInSeconds: stopped with SIGTERM.")
                    return "MaxRuntimeExceeded"
                return "Stopped"
        return "Completed"

    def _terminate(self, proc: subprocess.Popen) -> None:
        """SIGTERM to the launcher: it passes it to every process of the job, SIGKILLs them
        after the grace, and exits. Its process group gets SIGKILL if it does not."""
        try:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=self.stop_grace_seconds + 5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
