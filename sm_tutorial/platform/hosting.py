"""The hosting service: CreateModel, CreateEndpointConfig, CreateEndpoint, UpdateEndpoint,
DeleteEndpoint and the Describe/List/Delete actions of models, endpoint configurations and
endpoints, answered here (not by moto), with each endpoint run as a real serving container
(``serving.ServingContainer``). ``runtime.py`` answers InvokeEndpoint through it.

Statuses as AWS reports them: Creating, then InService once the container answers its first
ping within the start limit (else Failed, with the reason); Updating while a new configuration
starts beside the old one, which keeps answering until the new one is InService (a failed
update leaves the endpoint InService on the old one, with the FailureReason); Deleting, then
gone. Endpoint containers live under ``<workspace>/endpoints/``; one whose simulated AWS died
is ended by the next (``orphans.stop_orphan``), and ends itself before that (serve.py watches
its platform process).

The records (models, endpoint configurations, endpoints, their tags) are kept in
``<workspace>/hosting/`` and restored by the next stand-in, as AWS keeps them when the kernel
ends: an endpoint that was InService is InService again, *dormant*: its container starts when it
is next invoked or updated (a few seconds; Failed, with the reason, if the model cannot start
now), and it is there to be deleted. Records another live stand-in keeps are left to it.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from . import hosting_records as records
from .errors import validation
from .job import _alive
from .orphans import stop_orphan
from .serving import ServingContainer, StartFailed, serving_kind
from .storage import Storage
from .tags import TagActions

TAGGED = (b":model/", b":endpoint-config/", b":endpoint/")  # ARNs whose tags are ours
ACTIONS = ("CreateModel", "DescribeModel", "ListModels", "DeleteModel",
           "CreateEndpointConfig", "DescribeEndpointConfig", "ListEndpointConfigs",
           "DeleteEndpointConfig", "CreateEndpoint", "DescribeEndpoint", "ListEndpoints",
           "UpdateEndpoint", "DeleteEndpoint")

SPARE_IDLE = 600.0  # seconds a spare serving container waits for a deploy before it ends


def _archives(model: records.Resource) -> set[str]:
    """The S3 objects a model's container is made from (what serving.prepare downloads)."""
    container = model.request.get("PrimaryContainer") or (model.request.get("Containers") or [{}])[0]
    uris = {container.get("ModelDataUrl") or "",
            (container.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY", "")}
    return {uri for uri in uris if uri.startswith("s3://")}


def tagged(body: bytes) -> bool:
    """A ListTags/AddTags/DeleteTags request for a model, endpoint config or endpoint."""
    return any(kind in body for kind in TAGGED)


class HostingService(TagActions):
    def __init__(self, workspace: Path, endpoint_url: str, region: str,
                 credentials: dict[str, str], s3_client, logs_client=None):
        self.folder = workspace / "endpoints"
        self.endpoint_url, self.region, self.credentials = endpoint_url, region, credentials
        self.storage, self.logs_client = Storage(s3_client), logs_client
        self.store = records.Store(workspace / "hosting")
        self.models = records.Registry(region, "model", self.store)
        self.configs = records.Registry(region, "endpoint-config", self.store)
        self.endpoints = records.Registry(region, "endpoint", self.store)
        self.start_limit = 240.0   # AWS: the first ping within 4 minutes of the start
        self.stop_grace_seconds = 5.0  # SIGTERM to SIGKILL (AWS waits 30 s)
        self._threads: list[threading.Thread] = []
        self.keep_spare = True  # a standby container: at a framework job's start, or CreateModel
        self._spare: ServingContainer | None = None
        self._spare_lock = threading.Lock()
        self._lock = threading.Lock()  # tag changes, one at a time
        self._closed = False
        self._end_orphans()
        self._restore()

    def _restore(self) -> None:
        """The records an earlier stand-in saved (not those another live one keeps)."""
        mine = lambda data: not (data.get("owner") not in (None, os.getpid())  # noqa: E731
                                 and _alive(data["owner"]))
        for registry in (self.models, self.configs):
            for data in filter(mine, self.store.load(registry.kind)):
                registry.restore(records.Resource.from_dict(data))
        for data in filter(mine, self.store.load("endpoint")):
            endpoint = records.EndpointRecord.from_dict(data, self.region)
            if endpoint.status != "Failed":  # its container ended with the old stand-in
                endpoint.status, endpoint.dormant = "InService", True
            endpoint.on_change = self.endpoints.save
            self.endpoints.restore(endpoint)

    def _end_orphans(self) -> None:
        """Containers left by an endpoint process that died: ended, their folders removed."""
        for folder in sorted(self.folder.glob("*/owner.json")):
            try:
                owner = json.loads(folder.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                owner = None
            if owner and owner != os.getpid() and _alive(owner):
                continue  # another live kernel's (or `serve`'s) endpoint
            stop_orphan(folder.parent)
            shutil.rmtree(folder.parent, ignore_errors=True)

    # -- models ----------------------------------------------------------------------------
    def create_model(self, request: dict[str, Any]) -> dict[str, Any]:
        containers = request.get("Containers") or []
        if not request.get("PrimaryContainer") and not containers:
            raise validation("CreateModel needs a PrimaryContainer (an Image, and usually a "
                             "ModelDataUrl). The SDK's Model(image_uri=..., model_data=...) fills it in.")
        if len(containers) > 1:
            raise validation("This simulation hosts one container per model; pass one "
                             "PrimaryContainer (inference pipelines need a real AWS account).")
        name = request["ModelName"]
        model = records.Resource(request, "ModelName", "ModelArn",
                                 records.arn(self.region, "model", name))
        self.models.add(name, model)
        threading.Thread(target=self._keep_spare, daemon=True).start()
        return {"ModelArn": model.arn}

    def describe_model(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.models.get(request["ModelName"]).describe()

    def list_models(self, request: dict[str, Any]) -> dict[str, Any]:
        return records.page([m.summary() for m in self.models.values()], request,
                            "ModelName", "Models")

    def delete_model(self, request: dict[str, Any]) -> dict[str, Any]:
        model = self.models.remove(request["ModelName"])
        still = {uri for m in self.models.values() for uri in _archives(m)}
        for uri in _archives(model) - still:  # the copies kept for a restored endpoint
            (self.store.folder / "model-data" / uri[len("s3://"):]).unlink(missing_ok=True)
        return {}

    # -- endpoint configurations -----------------------------------------------------------
    def create_endpoint_config(self, request: dict[str, Any]) -> dict[str, Any]:
        variants = request["ProductionVariants"]
        if len(variants) > 1:
            raise validation("This simulation hosts one production variant per endpoint; pass "
                             "one (A/B tests across variants need a real AWS account).")
        for variant in variants:
            self.models.get(variant["ModelName"])  # Could not find model "arn:..."
        name = request["EndpointConfigName"]
        config = records.Resource(request, "EndpointConfigName", "EndpointConfigArn",
                                  records.arn(self.region, "endpoint-config", name))
        self.configs.add(name, config)
        return {"EndpointConfigArn": config.arn}

    def describe_endpoint_config(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.configs.get(request["EndpointConfigName"]).describe()

    def list_endpoint_configs(self, request: dict[str, Any]) -> dict[str, Any]:
        return records.page([c.summary() for c in self.configs.values()], request,
                            "EndpointConfigName", "EndpointConfigs")

    def delete_endpoint_config(self, request: dict[str, Any]) -> dict[str, Any]:
        self.configs.remove(request["EndpointConfigName"])
        return {}

    # -- endpoints -------------------------------------------------------------------------
    def _new_folder(self, name: str) -> Path:
        folder = self.folder / f"{name}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        (folder / "owner.json").write_text(json.dumps({"pid": os.getpid()}))
        return folder

    def _fresh(self) -> ServingContainer:
        return ServingContainer(self._new_folder("standby"), self.region, self.endpoint_url,
                                self.credentials)

    def training_started(self, job) -> None:
        """A framework model in training is often deployed next: have the spare ready by then
        (its imports take seconds). It retires after SPARE_IDLE seconds unused."""
        image = job.request["AlgorithmSpecification"].get("TrainingImage", "")
        if any(name in image for name in ("tensorflow", "scikit-learn")):
            threading.Thread(target=self._keep_spare, daemon=True).start()

    def _keep_spare(self) -> None:
        """One container process always waiting, frameworks imported (once hosting is used)."""
        with self._spare_lock:
            if not self.keep_spare or self._closed or (self._spare and self._spare.running):
                return
            self._spare = spare = self._fresh().standby(self.stop_grace_seconds)
        retire = threading.Timer(SPARE_IDLE, self._retire, args=(spare,))
        retire.daemon = True
        retire.start()

    def _retire(self, spare: ServingContainer) -> None:
        """A spare nobody took within SPARE_IDLE seconds gives its memory back."""
        with self._spare_lock:
            if self._spare is not spare:
                return  # taken by a deploy, or replaced
            self._spare = None
        self._discard(spare)

    def _container(self, endpoint: records.EndpointRecord, config_name: str) -> ServingContainer:
        config = self.configs.get(config_name)
        variant = config.request["ProductionVariants"][0]
        model = self.models.get(variant["ModelName"])
        container = model.request.get("PrimaryContainer") or model.request["Containers"][0]
        # The spare, if it has its imports done; a TensorFlow model takes it even while it
        # imports (it started earlier than a new one would); others start faster without it.
        tensorflow = serving_kind(container.get("Image", "")) == "tensorflow"
        with self._spare_lock:
            spare = self._spare if self._spare and (
                tensorflow or self._spare.standing_by.is_set()) else None
            if spare is not None:
                self._spare = None
        serving = spare if spare is not None and spare.running else self._fresh()
        if spare is not None and spare is not serving:
            self._discard(spare)
        serving.assign(container, variant["VariantName"], endpoint.name, self.logs_client)
        serving.variant_description = records.variant_description(variant, container.get("Image", ""))
        return serving

    def create_endpoint(self, request: dict[str, Any]) -> dict[str, Any]:
        endpoint = records.EndpointRecord(request, self.region)
        endpoint.on_change = self.endpoints.save
        self.configs.get(endpoint.config_name)  # Could not find endpoint configuration "arn:..."
        self.endpoints.add(endpoint.name, endpoint)  # Cannot create already existing endpoint
        try:
            serving = self._container(endpoint, endpoint.config_name)
        except BaseException:
            self.endpoints.remove(endpoint.name)
            raise
        self._run(self._start, endpoint, serving, None)
        return {"EndpointArn": endpoint.arn}

    def _run(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"endpoint-{args[0].name}")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _start(self, endpoint: records.EndpointRecord, serving: ServingContainer,
               config_name: str | None) -> None:
        """Bring ``serving`` up; on success it answers the endpoint (an update: in place of
        the old container, which then ends)."""
        try:
            serving.prepare(self.storage, kept=self.store.folder / "model-data")
            serving.start(self.start_limit, self.stop_grace_seconds)
        except Exception as error:  # StartFailed says why; anything else is ours, said as such
            if not isinstance(error, StartFailed):
                logging.getLogger(__name__).exception("endpoint %s failed to start", endpoint.name)
                error = f"InternalServerError: the simulated endpoint could not start: {error!r}"
            self._discard(serving)
            if config_name is None:
                endpoint.set("Failed", str(error))
            else:
                endpoint.set("InService", f"Failed to update endpoint: {error}")
            return
        threading.Thread(target=self._keep_spare, daemon=True).start()  # for the next deploy
        old = None
        with endpoint.lock:
            if not endpoint.deleted.is_set() and not self._closed:
                old, endpoint.container = endpoint.container, serving
                endpoint.variants = [serving.variant_description]
                if config_name is not None:
                    endpoint.config_name = config_name
        if (endpoint.deleted.is_set() or self._closed) and endpoint.container is not serving:
            self._discard(serving)  # deleted (or the stand-in stopped) while it started
            return
        if old is not None:  # the new one answers already; the old one drains and ends
            self._discard(old)
        endpoint.set("InService")

    def _discard(self, serving: ServingContainer) -> None:
        serving.stop()
        shutil.rmtree(serving.folder, ignore_errors=True)

    def describe_endpoint(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.endpoints.get(request["EndpointName"]).describe()

    def list_endpoints(self, request: dict[str, Any]) -> dict[str, Any]:
        return records.page([e.summary() for e in self.endpoints.values()], request,
                            "EndpointName", "Endpoints")

    def update_endpoint(self, request: dict[str, Any]) -> dict[str, Any]:
        endpoint = self.endpoints.get(request["EndpointName"])
        self.configs.get(request["EndpointConfigName"])
        if endpoint.status != "InService":
            raise validation(f'Cannot update in-progress endpoint "{endpoint.arn}". Its status is '
                             f"{endpoint.status}; update it once it is InService (a Failed "
                             "endpoint is deleted and created again).")
        serving = self._container(endpoint, request["EndpointConfigName"])
        endpoint.dormant = False  # the new configuration's container is the one that starts
        endpoint.set("Updating")
        self._run(self._start, endpoint, serving, request["EndpointConfigName"])
        return {"EndpointArn": endpoint.arn}

    def delete_endpoint(self, request: dict[str, Any]) -> dict[str, Any]:
        endpoint = self.endpoints.get(request["EndpointName"])
        with endpoint.lock:
            endpoint.deleted.set()
            container, endpoint.container = endpoint.container, None
            endpoint.status = "Deleting"
        if container is not None:  # SIGTERM, then SIGKILL after the grace
            self._discard(container)
        self.endpoints.remove(endpoint.name)
        return {}

    def endpoint(self, name: str) -> records.EndpointRecord | None:
        """For InvokeEndpoint: the endpoint (a dormant one woken first), or None."""
        try:
            endpoint = self.endpoints.get(name)
        except Exception:
            return None
        if endpoint.dormant:
            self._awaken(endpoint)
        return endpoint

    def _awaken(self, endpoint: records.EndpointRecord) -> None:
        """Start a restored endpoint's container (once; other callers wait for it)."""
        with endpoint.waking:
            if not endpoint.dormant or endpoint.deleted.is_set():
                return
            endpoint.dormant = False
            try:
                serving = self._container(endpoint, endpoint.config_name)
            except Exception as error:  # its model or configuration was deleted meanwhile
                endpoint.set("Failed", f"The endpoint could not start again: {getattr(error, 'message', error)}")
                return
            self._start(endpoint, serving, None)

    # -- tags of models, endpoint configurations and endpoints ------------------------------
    def _registry(self, arn: str) -> records.Registry:
        kind = arn.rsplit(":", 1)[-1].split("/", 1)[0]
        registry = {"model": self.models, "endpoint-config": self.configs,
                    "endpoint": self.endpoints}.get(kind)
        if registry is None:
            raise validation(f"Resource {arn} is not a model, endpoint configuration or endpoint.")
        return registry

    def _by_arn(self, arn: str):
        registry = self._registry(arn)
        found = next((r for r in registry.values() if r.arn == arn), None)
        if found is None:
            raise records.not_found(self.region, registry.kind, arn.rsplit("/", 1)[-1])
        return found

    def _set_tags(self, resource, arn: str, tags: list[dict[str, str]]) -> None:
        resource.tags = tags
        self._registry(arn).save(resource)

    # -- for the endpoint process's end -----------------------------------------------------
    def stop_all(self) -> None:
        with self._spare_lock:
            self._closed, spare, self._spare = True, self._spare, None
        if spare is not None:
            self._discard(spare)
        for endpoint in self.endpoints.values():  # containers end; the records stay, as on AWS
            with endpoint.lock:
                container, endpoint.container = endpoint.container, None
            if container is not None:
                self._discard(container)
        for thread in list(self._threads):
            thread.join(timeout=10)
        for record in self.folder.glob("*/owner.json"):  # started while we deleted
            try:
                if json.loads(record.read_text())["pid"] == os.getpid():
                    stop_orphan(record.parent)
                    shutil.rmtree(record.parent, ignore_errors=True)
            except (OSError, ValueError, KeyError):
                pass
