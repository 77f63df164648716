"""Carries one job through AWS's lifecycle: Starting, Downloading, Training, Uploading, then
Completed, Failed or Stopped. Runs in its own thread inside the endpoint's process."""
from __future__ import annotations

import sys
import time
import traceback

from ..container import arguments
from ..container.layout import ContainerRoot
from . import commands, disk, frameworks, images, inputs, instances, shown_paths
from .artifacts import pack
from .cloudwatch import LogStream
from .errors import JobFailed
from .host import HostRun, container_mode
from .job import TrainingJob
from .metrics import MetricTap
from .storage import Storage

FAILURE_REASON_LIMIT = 1024


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
        self.host: HostRun | None = None
        self._own_opt_ml = False  # decided when the job starts (container_mode)
        self._framework_env: dict[str, str] = {}  # TF_USE_LEGACY_KERAS for a Keras 2 job
        self.image = images.lookup(job.folder.parent.parent,  # a registered image's folder
                                   job.request["AlgorithmSpecification"].get("TrainingImage", ""))
        self._shown = shown_paths.replacements(job.folder)  # /opt/ml etc., as on AWS
        self.metrics, self.cloudwatch = MetricTap(job.request), None  # MetricDefinitions' values

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
            try:
                self.metrics.publish(self.job, self.cloudwatch)  # FinalMetricDataList first
            except Exception:
                pass  # CloudWatch Metrics gone: the job still ends
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
        mode_line, relocated = container_mode()
        self._own_opt_ml = relocated is None
        if self.image is not None:  # bring your own image: its own program, not a framework's
            lines = [f"Image {self.image.name} (sm-tutorial image add): its train runs here, "
                     f"with this machine's interpreters (local Python {sys.version.split()[0]})."]
        instance_type = self.job.request["ResourceConfig"]["InstanceType"]
        spec = instances.lookup(instance_type)
        gpus = f", {spec.gpus} GPU{'s' if spec.gpus != 1 else ''}" if spec.gpus else ""
        told = "" if self.image is not None else " in SM_NUM_CPUS/SM_NUM_GPUS"  # no toolkit: no SM_*
        lines.append(f"Instance {instance_type}: {spec.vcpus} vCPUs{gpus} ({spec.source}){told}; "
                     "the script runs on this machine's CPUs.")
        return lines + [mode_line]

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
            inputs.fetch_code(self.storage, submit, self.job.folder, self.root)
        lines, self.streamed = inputs.fetch_channels(self.storage, r, self.root, self.job.folder,
                                                     self.region, self.fastfile_prefetch)
        return lines

    # -- Training ------------------------------------------------------------------------
    def _train(self, deadline: float) -> str:
        platform_env = {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_REGION": self.region,
                        "AWS_DEFAULT_REGION": self.region, **self.credentials, **self._framework_env}
        self.host = HostRun(self.job, self.root, own_opt_ml=self._own_opt_ml,
                            streamed=self.streamed, write_log=self._write, say=self._say,
                            flush_log=lambda: self.log.flush(force=False),
                            sync_checkpoints=self._sync_checkpoints, platform_env=platform_env,
                            image=self.image, stop_grace_seconds=self.stop_grace_seconds)
        return self.host.train(deadline)

    def _write(self, line: str) -> None:
        self.log.write(self._as_container(line))
        self.metrics.feed(line)

    # -- Uploading -----------------------------------------------------------------------
    def _sync_checkpoints(self) -> None:
        checkpoint = self.job.request["CheckpointConfig"]
        folder = inputs.checkpoint_dir(self.job.request, self.root)
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
