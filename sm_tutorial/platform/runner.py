"""Carries one job through AWS's lifecycle: Starting, Downloading, Training, Uploading, then
Completed, Failed or Stopped. Runs in its own thread inside the endpoint's process."""
from __future__ import annotations

import sys
import threading
import time
import traceback

from ..container import arguments
from ..container.layout import ContainerRoot
from . import cluster, commands, disk, frameworks, images, inputs, instances, shown_paths, spot
from .artifacts import pack, pack_merged
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
        count = job.request["ResourceConfig"].get("InstanceCount", 1)
        self.hosts = cluster.hosts_of(job.folder, count)  # algo-1's folder is the job's
        for host in self.hosts:
            host.shown = shown_paths.replacements(host.folder)
        self.root: ContainerRoot = self.hosts[0].root
        self.log: LogStream | None = None  # algo-1's
        self.host: HostRun | None = None  # algo-1's
        self.network: cluster.Network | None = None  # a multi-instance job's
        self._own_opt_ml = False  # decided when the job starts (container_mode)
        self._framework_env: dict[str, str] = {}  # TF_USE_LEGACY_KERAS for a Keras 2 job
        self.image = images.lookup(job.folder.parent.parent,  # a registered image's folder
                                   job.request["AlgorithmSpecification"].get("TrainingImage", ""))
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
                if self.network:
                    self.network.close()
                for host in self.hosts:
                    if host.log:
                        host.log.close()
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
            if len(self.hosts) > 1:  # made while the job starts and the hosts download
                self.network = cluster.Network(len(self.hosts), self.endpoint_url, wait=False)
            for host in self.hosts:
                host.root.create()
                host.log = LogStream(self.logs_client, self.job.name,
                                     self.job.folder / f"{host.name}.log", host=host.name)
            self.log = self.hosts[0].log
            self._say("\n".join(self._announce()))
            while True:  # again after a spot interruption, on a fresh container
                self.job.transition("Downloading")
                downloaded = self._download_inputs()
                if self.job.stop_requested.is_set():
                    outcome = "Stopped"
                    break
                self.job.transition("Training")
                for host in self.hosts:
                    self._say("\n".join(downloaded[host.name]), host)
                outcome = self._train(deadline)
                if outcome != "Interrupted" or not spot.resume(self, r):
                    break
            if outcome == "Interrupted":
                outcome = "MaxWaitTimeExceeded"
        except JobFailed as failure:
            outcome, reason = "Failed", str(failure)
        except Exception as error:  # a bug of ours must still end the job, with the reason
            outcome, reason = "Failed", disk.failure(error)
            if reason is None:
                reason = f"InternalServerError: the simulated platform failed: {error!r}"
                self._say(traceback.format_exc())
        failed = getattr(self, "failed_host", self.hosts[0])
        if outcome == "Failed" and failed.root.failure_file.exists():  # the script's own words win
            reason = self._prefix(failed, failed.root.failure_file.read_text(errors="replace"))
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
                for host in self.hosts:
                    (host.root.output / "success").touch()
            except OSError as error:
                outcome, reason = "Failed", disk.failure(error) or \
                    f"InternalServerError: the simulated platform failed: {error!r}"
        copy_error = next((h.log.copy_error for h in self.hosts if h.log and h.log.copy_error), None)
        note = disk.failure(self.job.save_error or copy_error)
        if note and not (reason and disk.PREFIX in reason):  # its state or log could not be saved
            outcome, reason = "Failed", note + (f"\n{reason}" if reason else "")
        if reason:
            self._say(f"Reporting training FAILURE\n{reason}")
        elif outcome == "Completed":
            self._say("Reporting training SUCCESS")
        return outcome, reason

    def _removed_by_script(self) -> str | None:
        """The FailureReason when the script deleted the folder where success is reported."""
        for host in self.hosts:
            for folder, name in ((host.root.path, "/opt/ml (SAGEMAKER_BASE_DIR)"),
                                 (host.root.output, "/opt/ml/output (SM_OUTPUT_DIR)")):
                if folder.is_dir():
                    continue
                return self._prefix(host, (
                    f"AlgorithmError: the script deleted {name}, where the training toolkit "
                    "writes output/success or output/failure, so the job cannot report "
                    "success. Delete only files you wrote (under SM_OUTPUT_DATA_DIR or "
                    "SM_MODEL_DIR) and leave these folders in place."))
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
        if len(self.hosts) > 1:
            lines.append(f"Hosts: {', '.join(h.name for h in self.hosts)}, each its own container "
                         "on the job's own network (host names, eth0 10.213.0.N); each has its "
                         "own log stream.")
        return lines + [mode_line]

    def _as_container(self, text: str, host: cluster.Host | None = None) -> str:
        """The job's folders written as the container's (/opt/ml...), as AWS's logs show them."""
        for pairs in ([host.shown] if host else [h.shown for h in reversed(self.hosts)]):
            text = shown_paths.as_container(text, pairs)
        return text

    def _prefix(self, host: cluster.Host, reason: str) -> str:
        """A multi-instance job's FailureReason names the host: "algo-2: ..."."""
        return f"{host.name}: {reason}" if len(self.hosts) > 1 else reason

    def _say(self, text: str, host: cluster.Host | None = None) -> None:
        """A line in ``host``'s log, or in every host's."""
        for one in [host] if host else self.hosts:
            if one.log:
                for line in self._as_container(text, one).splitlines():
                    one.log.write(line)

    # -- Downloading ---------------------------------------------------------------------
    def _download_inputs(self) -> dict[str, list[str]]:
        """Fetch the code and every channel, for every host; returns each host's lines for
        its log."""
        r = self.job.request
        submit = arguments.sagemaker_hyperparameters(r.get("HyperParameters", {})).get(
            "sagemaker_submit_directory")
        if commands.kind(r, self.image) is None:
            raise JobFailed(
                "AlgorithmError: this simulation runs script-mode jobs, containers with a "
                "ContainerEntrypoint and images registered with sm-tutorial image add: give the "
                "estimator an entry_point (and source_dir), so the SDK sends sagemaker_program "
                "and sagemaker_submit_directory, or a container_entry_point.")
        said = {}
        if submit:  # once, into every host's code/
            inputs.fetch_code(self.storage, submit, self.job.folder, self.root,
                              tuple(h.root for h in self.hosts[1:]))
        for host in self.hosts:
            try:
                lines, host.streamed = inputs.fetch_channels(
                    self.storage, r, host.root, host.folder, self.region, self.fastfile_prefetch,
                    host.index, len(self.hosts))
            except JobFailed as failure:
                raise JobFailed(self._prefix(host, str(failure)))
            said[host.name] = lines
        return said

    # -- Training ------------------------------------------------------------------------
    def _train(self, deadline: float) -> str:
        platform_env = {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_REGION": self.region,
                        "AWS_DEFAULT_REGION": self.region, **self.credentials, **self._framework_env}
        several = len(self.hosts) > 1
        stop = threading.Event() if several else self.job.stop_requested
        try:
            network = self.network.ready() if several else None
        except cluster.NetworkFailed as error:
            raise JobFailed(f"InternalServerError: the job's network could not be made: {error}")
        for host in self.hosts:
            host.run = HostRun(
                self.job, host.root, own_opt_ml=self._own_opt_ml, streamed=host.streamed,
                write_log=lambda line, h=host: self._write(line, h),
                say=lambda text, h=host: self._say(text, h),
                flush_log=lambda h=host: h.log.flush(force=False),
                sync_checkpoints=lambda h=host: self._sync_checkpoints(h),
                platform_env=platform_env, image=self.image,
                stop_grace_seconds=self.stop_grace_seconds, host=host.name, stop=stop,
                cluster_spec=network.spec(host) if network else None)
        self.host = self.hosts[0].run
        if not several:
            return self.host.train(deadline)
        outcome, failed = cluster.run_together(self.hosts, lambda h: h.run.train(deadline),
                                               stop, self.job.stop_requested)
        if failed:
            self.failed_host, error = failed
            if isinstance(error, JobFailed):
                raise JobFailed(self._prefix(failed[0], self._as_container(str(error), failed[0])))
            raise error
        return outcome

    def _write(self, line: str, host: cluster.Host) -> None:
        host.log.write(self._as_container(line, host))
        if host.index == 0:  # MetricDefinitions read the master's (algo-1's) output
            self.metrics.feed(line)

    # -- Uploading -----------------------------------------------------------------------
    def _sync_checkpoints(self, host: cluster.Host | None = None) -> None:
        checkpoint = self.job.request["CheckpointConfig"]
        folder = inputs.checkpoint_dir(self.job.request, (host or self.hosts[0]).root)
        if folder.exists():
            try:
                self.storage.upload_folder(folder, checkpoint["S3Uri"])
            except FileNotFoundError:
                pass  # the script replaced a checkpoint mid-sync; the next sync takes the new one

    def _upload_outputs(self) -> None:
        r = self.job.request
        base = f"{r['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{self.job.name}/output"
        for host in self.hosts:
            if not host.root.model.is_dir():  # ModelArtifacts must name an object that exists
                self._say("Warning: the script deleted the model directory (SM_MODEL_DIR); "
                          "model.tar.gz will hold nothing from this host. Leave SM_MODEL_DIR in "
                          "place and save your model under it.", host)
            elif not any(host.root.model.iterdir()) and len(self.hosts) == 1:
                self._say("Warning: the model directory (SM_MODEL_DIR) is empty; model.tar.gz "
                          "will hold nothing. Save your model under SM_MODEL_DIR.", host)
        if len(self.hosts) == 1:
            self.storage.upload(pack(self.root.model, self.job.folder / "model.tar.gz"),
                                f"{base}/model.tar.gz")
            if self.root.output_data.exists():
                self.storage.upload(pack(self.root.output_data, self.job.folder / "output.tar.gz"),
                                    f"{base}/output.tar.gz")
        else:  # every host's, merged into one archive each, as AWS does
            for name, folder in (("model.tar.gz", "model"), ("output.tar.gz", "output_data")):
                archive, clashes = pack_merged(
                    [(h.name, getattr(h.root, folder)) for h in self.hosts],
                    self.job.folder / name)
                for clash in clashes:
                    self._say(f"Warning: {name}: more than one host wrote {clash}. Give each "
                              "host's files their own names (e.g. with SM_CURRENT_HOST).",
                              self.hosts[0])
                self.storage.upload(archive, f"{base}/{name}")
        if r.get("CheckpointConfig"):
            for host in self.hosts:
                self._sync_checkpoints(host)
