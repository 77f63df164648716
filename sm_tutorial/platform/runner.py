"""Carries one job through AWS's lifecycle: Starting, Downloading, Training, Uploading, then
Completed, Failed or Stopped. Runs in its own thread inside the endpoint's process."""
from __future__ import annotations

import json
import os
import posixpath
import shlex
import signal
import subprocess
import sys
import tarfile
import threading
import time
import traceback
from pathlib import Path

from ..container import arguments, layout, process
from ..container.layout import ContainerRoot
from . import channels, commands, disk, frameworks, hints, images, instances, shown_paths
from .artifacts import UnsafeMember, pack, unpack
from .cloudwatch import LogStream
from .job import TrainingJob
from .storage import Storage

FAILURE_REASON_LIMIT = 1024
OUT_OF_MEMORY = ("OutOfMemoryError: Please use an instance type with more memory, or reduce the "
                 "size of job data processed on an instance.")


class JobFailed(Exception):
    """Ends a job as Failed with this FailureReason."""


class JobRunner:
    def __init__(self, job: TrainingJob, storage: Storage, logs_client, endpoint_url: str,
                 region: str, credentials: dict[str, str], stop_grace_seconds: float = 10.0,
                 fastfile_prefetch: bool = True):
        self.job, self.storage, self.logs_client = job, storage, logs_client
        self.endpoint_url, self.region, self.credentials = endpoint_url, region, credentials
        self.stop_grace_seconds = stop_grace_seconds
        self.fastfile_prefetch = fastfile_prefetch
        self.root = ContainerRoot(job.folder / "opt" / "ml")
        self.log: LogStream | None = None
        self.streamed: list = []  # Pipe and FastFile channels: fed while the script runs
        self._tail: list[str] = []  # the script's last lines, for the FailureReason
        self._muted = False  # set once the job's output is complete
        self._framework_env: dict[str, str] = {}  # TF_USE_LEGACY_KERAS for a Keras 2 job
        self.image = images.lookup(job.folder.parent.parent,  # a registered image's folder
                                   job.request["AlgorithmSpecification"].get("TrainingImage", ""))
        self._shown = shown_paths.replacements(job.folder)  # /opt/ml etc., as on AWS

    # -- the lifecycle -------------------------------------------------------------------
    def run(self) -> None:
        outcome, reason = "Failed", None
        try:
            outcome, reason = self._run()
        except Exception as error:  # _run catches its own; this is the last line of defence
            reason = disk.failure(error) or f"InternalServerError: the simulated platform failed: {error!r}"
        finally:  # whatever happened (a full disk too), the job reaches a final status
            try:
                if reason:
                    self.job.update(FailureReason=self._as_container(reason)[:FAILURE_REASON_LIMIT])
                if self.log:
                    self.log.close()
            except Exception:
                pass  # the last log lines matter less than ending the job
            finally:
                self.job.transition(outcome)

    def _run(self) -> tuple[str, str | None]:
        r = self.job.request
        deadline = time.time() + r.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
        outcome, reason = "Completed", None
        try:
            self.root.create()
            self.log = LogStream(self.logs_client, self.job.name, self.job.folder / "algo-1.log")
            self._say("\n".join(self._announce()))
            self.job.transition("Downloading")
            downloaded = self._download_inputs()
            if self.job.stop_requested.is_set():
                outcome = "Stopped"
            else:
                self.job.transition("Training")
                self._say("\n".join(downloaded))
                outcome = self._train(deadline)
        except JobFailed as failure:
            outcome, reason = "Failed", str(failure)
        except Exception as error:  # a bug of ours must still end the job, with the reason
            outcome, reason = "Failed", disk.failure(error)
            if reason is None:
                reason = f"InternalServerError: the simulated platform failed: {error!r}"
                self._say(traceback.format_exc())
        if outcome == "Failed" and self.root.failure_file.exists():
            reason = self.root.failure_file.read_text(errors="replace")  # the script's own words win
        elif outcome == "Completed" and (removed := self._removed_by_script()):
            outcome, reason = "Failed", removed
        try:
            if outcome == "Completed":
                self.job.transition("Uploading")
            self._upload_outputs()  # a failed or stopped job keeps what it wrote, as on AWS
        except Exception as error:
            outcome, reason = "Failed", reason or disk.failure(error) or \
                f"ClientError: uploading artifacts failed: {error!r}"
        if outcome == "Completed":
            try:
                (self.root.output / "success").touch()
            except OSError as error:
                outcome, reason = "Failed", disk.failure(error) or \
                    f"InternalServerError: the simulated platform failed: {error!r}"
        note = disk.failure(self.job.save_error or (self.log.copy_error if self.log else None))
        if note and not (reason and disk.PREFIX in reason):  # its state or log could not be saved
            outcome, reason = "Failed", note + (f"\n{reason}" if reason else "")
        if reason:
            self._say(f"Reporting training FAILURE\n{reason}")
        elif outcome == "Completed":
            self._say("Reporting training SUCCESS")
        return outcome, reason

    def _removed_by_script(self) -> str | None:
        """The FailureReason when the script deleted the folder where success is reported."""
        for folder, name in ((self.root.path, "/opt/ml (SAGEMAKER_BASE_DIR)"),
                             (self.root.output, "/opt/ml/output (SM_OUTPUT_DIR)")):
            if not folder.is_dir():
                return (f"AlgorithmError: the script deleted {name}, where the training toolkit "
                        "writes output/success or output/failure, so the job cannot report "
                        "success. Delete only files you wrote (under SM_OUTPUT_DATA_DIR or "
                        "SM_MODEL_DIR) and leave these folders in place.")
        return None

    def _announce(self) -> list[str]:
        """The log's first lines: the framework asked for and what runs it, the instance."""
        lines, self._framework_env = frameworks.prepare(self.job.request)
        if self.image is not None:  # bring your own image: its own program, not a framework's
            lines = [f"Image {self.image.name} (sm-tutorial image add): its train runs here, "
                     f"with this machine's interpreters (local Python {sys.version.split()[0]})."]
        instance_type = self.job.request["ResourceConfig"]["InstanceType"]
        spec = instances.lookup(instance_type)
        gpus = f", {spec.gpus} GPU{'s' if spec.gpus != 1 else ''}" if spec.gpus else ""
        lines.append(f"Instance {instance_type}: {spec.vcpus} vCPUs{gpus} ({spec.source}) in "
                     "SM_NUM_CPUS/SM_NUM_GPUS; the script runs on this machine's CPUs.")
        return lines

    def _as_container(self, text: str) -> str:
        """The job's folders written as the container's (/opt/ml...), as AWS's logs show them."""
        return shown_paths.as_container(text, self._shown)

    def _say(self, text: str) -> None:
        if self.log:
            for line in self._as_container(text).splitlines():
                self.log.write(line)

    # -- Downloading ---------------------------------------------------------------------
    def _download_inputs(self) -> list[str]:
        """Fetch the code and every channel; returns a line per channel for the log."""
        r = self.job.request
        submit = arguments.sagemaker_hyperparameters(r.get("HyperParameters", {})).get(
            "sagemaker_submit_directory")
        if commands.kind(r, self.image) is None:
            raise JobFailed(
                "AlgorithmError: this simulation runs script-mode jobs, containers with a "
                "ContainerEntrypoint and images registered with sm-tutorial image add: give the "
                "estimator an entry_point (and source_dir), so the SDK sends sagemaker_program "
                "and sagemaker_submit_directory, or a container_entry_point.")
        if submit:
            self._fetch_code(submit)
        return self._fetch_channels()

    def _fetch_code(self, submit: str) -> None:
        try:
            archive = self.storage.download(submit, self.job.folder / "sourcedir.tar.gz")
        except Exception as error:
            raise JobFailed(f"ClientError: could not fetch the source code from {submit}: {error}")
        try:
            unpack(archive, self.root.code)
        except UnsafeMember as error:
            raise JobFailed(f"ClientError: the source archive {submit} has a member that would "
                            f"land outside /opt/ml/code or is no plain file ({error}); nothing was "
                            "extracted outside the job. Remove "
                            "absolute paths, '..', device files and links pointing out of source_dir.")
        except (tarfile.TarError, OSError) as error:
            raise JobFailed(disk.failure(error, "The source code could not be unpacked.") or
                            f"ClientError: the source archive {submit} could not be unpacked into "
                            f"/opt/ml/code ({type(error).__name__}: {error}). Check that source_dir "
                            "packs into a valid tar.gz.")
        archive.unlink()

    def _fetch_channels(self) -> list[str]:
        r, lines = self.job.request, []
        for channel in r.get("InputDataConfig") or []:
            name, source = channel["ChannelName"], channel["DataSource"]["S3DataSource"]
            mode = layout.channel_mode(channel, r)
            try:
                objects = channels.list_channel(self.storage, source, r["RoleArn"])
            except channels.ChannelUnreadable as error:  # NoSuchBucket, AccessDenied, bad manifest
                raise JobFailed(f"ClientError: Data download failed:{error}")
            if not objects:
                uri, bucket = source["S3Uri"], source["S3Uri"].split("/")[2]
                raise JobFailed(
                    f'ClientError: Data download failed:No S3 objects found under S3 URL "{uri}" '
                    f"given in input data source. Please ensure that the bucket exists in the "
                    f"selected region ({self.region}), that objects exist under that S3 prefix, "
                    f'and that the role "{r["RoleArn"]}" has "s3:ListBucket" permissions on '
                    f'bucket "{bucket}".' + hints.EMPTY_CHANNEL)
            size = sum(o.size for o in objects)
            if mode == "Pipe":
                self.streamed.append(channels.PipeChannel(
                    self.storage, name, objects, self.root.data,
                    channel.get("RecordWrapperType", "None"), channel.get("CompressionType", "None")))
                verb = "streamed on demand (Pipe)"
            elif mode == "FastFile":
                try:
                    channels.check_inside(self.root.channel(name), objects)
                except channels.OutsideChannel as error:
                    raise JobFailed(f"ClientError: Data download failed: {error}")
                self.streamed.append(channels.FastFileChannel(
                    self.storage, name, objects, self.root.channel(name),
                    self.job.folder / "fastfile-store" / name, prefetch=self.fastfile_prefetch))
                verb = "listed, fetched on first read (FastFile)"
            else:
                try:
                    channels.download(self.storage, objects, self.root.channel(name))
                except (channels.OutsideChannel, channels.DownloadFailed) as error:
                    raise JobFailed(f"ClientError: Data download failed: {error}")
                verb = "downloaded (File)"
            lines.append(f"Channel {name}: {len(objects)} objects ({size / 1e6:.2f} MB) {verb} "
                         f"from {source['S3Uri']}")
        checkpoint = r.get("CheckpointConfig")
        if checkpoint:
            try:
                found = channels.list_channel(self.storage, {"S3Uri": checkpoint["S3Uri"]}, r["RoleArn"])
            except channels.ChannelUnreadable as error:
                raise JobFailed(f"ClientError: Data download failed (checkpoints):{error}")
            channels.download(self.storage, found, self._checkpoint_dir())
        return lines

    def _checkpoint_dir(self) -> Path:
        local = posixpath.normpath(self.job.request["CheckpointConfig"].get("LocalPath", "/opt/ml/checkpoints"))
        return self.root.path / Path(local).relative_to("/opt/ml")  # validated: under /opt/ml

    # -- Training ------------------------------------------------------------------------
    def _command(self) -> commands.Command:
        platform_env = {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_REGION": self.region,
                        "AWS_DEFAULT_REGION": self.region, **self.credentials, **self._framework_env}
        try:
            command = commands.build(self.root, self.job.request, job_name=self.job.name,
                                     job_arn=self.job.arn, region=self.region,
                                     platform_env=platform_env, image_folder=self.image)
            problem = process.unpassable(command.argv, command.env)
            if problem:
                raise commands.CommandError(f"AlgorithmError: framework error: {problem}")
            if command.kind == "script":
                commands.check_script(self.root, command)
        except commands.CommandError as error:
            raise JobFailed(str(error))
        return command

    def _train(self, deadline: float) -> str:
        command = self._command()
        argv, env, shown = command.argv, command.env, command.shown
        packages = self._install_requirements(env) if command.kind == "script" else None
        if self.job.stop_requested.is_set():
            return "Stopped"  # stopped while requirements were installing: never start the script
        if command.kind == "script":
            paths = [str(process.bootstrap(self.root))] + ([str(packages)] if packages else [])
            env["PYTHONPATH"] = os.pathsep.join(paths)
        self._say(("Invoking script" if command.kind == "script" else "Starting the container")
                  + " with the following command:\n\n" + shlex.join(shown) + "\n")
        proc = None
        try:
            for channel in self.streamed:
                channel.start()
            fastfile = {k: v for p in self.streamed if isinstance(p, channels.FastFileChannel)
                        for k, v in p.entries().items()}
            if fastfile:
                (self.job.folder / "fastfile.json").write_text(json.dumps(fastfile))
            proc = process.start(self.root, argv, env, self.stop_grace_seconds)
            pid_file = self.job.folder / "process.json"  # lets a later endpoint stop an orphan
            pid_tmp = pid_file.with_suffix(".json.tmp")  # atomic: a kill mid-write leaves no half file
            pid_tmp.write_text(json.dumps({"pid": proc.pid, "code": str(self.root.code)}))
            os.replace(pid_tmp, pid_file)
            reader = threading.Thread(target=self._pump, args=(proc,), daemon=True)
            reader.start()
            outcome = self._supervise(proc, deadline)
            reader.join(timeout=5)  # at once: the launcher has ended all that held the pipe
            self._muted = True  # a process that escaped (no subreaper) writes after the end
        finally:
            if proc is not None and proc.poll() is None:
                self._terminate(proc)  # an error of ours must not leave the script running
            for channel in self.streamed:
                channel.stop()
            (self.job.folder / "process.json").unlink(missing_ok=True)
        broken = [c for c in self.streamed if getattr(c, "error", None)]
        if broken and outcome == "Completed":
            raise JobFailed(f"ClientError: streaming channel {broken[0].name} failed: {broken[0].error}")
        if outcome != "Completed":
            return outcome
        if proc.returncode == 137 or proc.returncode == -signal.SIGKILL:
            raise JobFailed(OUT_OF_MEMORY)
        if proc.returncode != 0 and command.kind != "script":
            raise JobFailed(commands.exit_failure(command, proc.returncode, self._last_error()))
        if proc.returncode != 0:
            error = self._last_error()
            raise JobFailed(
                "AlgorithmError: ExecuteUserScriptError:\n"
                f"ExitCode {proc.returncode}\nErrorMessage \"{error}\"\n"
                f"Command \"{shlex.join(shown)}\", exit code: {proc.returncode}"
                + hints.for_script_error(error, self.job.request, "\n".join(self._tail)))
        return "Completed"

    def _install_requirements(self, env: dict[str, str]) -> Path | None:
        try:
            return process.install_requirements(self.root, env)
        except subprocess.CalledProcessError as error:
            last = (error.stderr or error.stdout or "").strip().splitlines()[-3:]
            self._say("pip install -r requirements.txt failed:\n" + "\n".join(last))
            raise JobFailed("AlgorithmError: InstallRequirementsError: pip could not install "
                            "code/requirements.txt: " + " ".join(last) +
                            " Check the package names and versions in requirements.txt.")

    def _pump(self, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stdout.readline, b""):
            if self._muted:
                continue
            line = raw.decode("utf-8", errors="replace")
            self._tail = (self._tail + [line.rstrip()])[-20:]
            try:
                self.log.write(self._as_container(line))
            except Exception:  # the pipe must be drained whatever the log does, or the script blocks
                pass
        proc.stdout.close()

    def _last_error(self) -> str:
        lines = [l for l in self._tail if l.strip()]
        errors = [l for l in lines if "Error" in l or "Exception" in l]
        return (errors or lines or [""])[-1].strip()

    def _supervise(self, proc: subprocess.Popen, deadline: float) -> str:
        """Wait for the script; on StopTrainingJob or MaxRuntime, SIGTERM then SIGKILL."""
        checkpoint = self.job.request.get("CheckpointConfig")
        next_sync = time.time() + 10
        while proc.poll() is None:
            time.sleep(0.05)
            self.log.flush(force=False)
            if checkpoint and time.time() > next_sync:
                self._sync_checkpoints()
                next_sync = time.time() + 10
            stopped = self.job.stop_requested.is_set()
            if stopped or time.time() > deadline:
                self._terminate(proc)
                if not stopped:
                    self._say("Job exceeded MaxRuntimeInSeconds: stopped with SIGTERM.")
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

    # -- Uploading -----------------------------------------------------------------------
    def _sync_checkpoints(self) -> None:
        checkpoint = self.job.request["CheckpointConfig"]
        folder = self._checkpoint_dir()
        if folder.exists():
            try:
                self.storage.upload_folder(folder, checkpoint["S3Uri"])
            except FileNotFoundError:
                pass  # the script replaced a checkpoint mid-sync; the next sync takes the new one

    def _upload_outputs(self) -> None:
        r = self.job.request
        base = f"{r['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{self.job.name}/output"
        if not self.root.model.is_dir():  # ModelArtifacts must name an object that exists
            self._say("Warning: the script deleted the model directory (SM_MODEL_DIR); "
                      "model.tar.gz will hold nothing. Leave SM_MODEL_DIR in place and save "
                      "your model under it.")
        elif not any(self.root.model.iterdir()):
            self._say("Warning: the model directory (SM_MODEL_DIR) is empty; model.tar.gz "
                      "will hold nothing. Save your model under SM_MODEL_DIR.")
        self.storage.upload(pack(self.root.model, self.job.folder / "model.tar.gz"),
                            f"{base}/model.tar.gz")
        if self.root.output_data.exists():
            self.storage.upload(pack(self.root.output_data, self.job.folder / "output.tar.gz"),
                                f"{base}/output.tar.gz")
        if r.get("CheckpointConfig"):
            self._sync_checkpoints()
