"""A multi-instance job's hosts (``InstanceCount`` N > 1): algo-1 ... algo-N run together, each
its own container (own /opt/ml, own process tree under its own launcher) on the job's own
network (``container/netns.py``).

Where each host's files are (``jobs/<job>`` is the job's folder):

- algo-1: ``jobs/<job>/opt/ml``, as a one-instance job's (so ``sm_tutorial.job_root(job)`` is
  algo-1's /opt/ml);
- algo-N (N >= 2): ``jobs/<job>/algo-N/opt/ml`` (``job_root(job, host="algo-N")``);
- every host's log copy: ``jobs/<job>/algo-N.log``.

The network: one *cluster* process per job holds the job's user and network namespace (a
bridge); each host's launcher joins it with a namespace of its own (``eth0`` 10.213.0.N,
hostname algo-N, /etc/hosts naming every host). The local AWS stand-in is reached from inside
through a relay: 127.0.0.1:PORT in each host, carried to a Unix socket this module serves.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from ..container import mounts, netns
from ..container.layout import ContainerRoot, host_names

NETNS = Path(netns.__file__)


@dataclass
class Host:
    """One host of a job: its name, its place (0-based), its folder and /opt/ml."""
    name: str
    index: int
    folder: Path
    root: ContainerRoot
    log: object = None            # its LogStream
    streamed: list = field(default_factory=list)
    shown: list = field(default_factory=list)  # its folders as the container's paths
    run: object = None            # its HostRun


def hosts_of(job_folder: Path, count: int) -> list[Host]:
    hosts = []
    for index, name in enumerate(host_names(count)):
        folder = job_folder if index == 0 else job_folder / name
        hosts.append(Host(name, index, folder, ContainerRoot(folder / "opt" / "ml")))
    return hosts


def max_hosts() -> int:
    """How many hosts this machine runs in one job: two per CPU core, at least 4, and no
    more than one per 0.5 GB of memory (a TensorFlow process takes about that)."""
    cpus = os.cpu_count() or 1
    limit = max(4, 2 * cpus)
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        limit = min(limit, max(2, kb // (512 * 1024)))
    except (OSError, StopIteration, ValueError):
        pass
    return limit


_probed: list = []


def unavailable() -> str | None:
    """None when multi-instance jobs run here, else why not (checked once per process)."""
    problem = mounts.unavailable()
    if problem:
        return problem
    if not _probed:
        try:
            network = Network(2, None)
            network.close()
            _probed.append(None)
        except NetworkFailed as error:
            _probed.append(str(error))
    return _probed[0]


class NetworkFailed(Exception):
    pass


class Network:
    """The job's network: the cluster process, the hosts file, the relay to the endpoint."""

    def __init__(self, count: int, endpoint_url: str | None, wait: bool = True):
        """Starts the cluster process; with ``wait`` (else call ``ready()`` later: the job
        starts it while it downloads) waits until the network is made."""
        self.count, self.endpoint_url, self.made = count, endpoint_url, False
        self.folder = Path(tempfile.mkdtemp(prefix="smt-net-"))  # short: a Unix socket path
        if len(str(self.folder)) > 80:  # a long TMPDIR: sockets' paths end at 107 bytes
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = Path(tempfile.mkdtemp(prefix="smt-net-", dir="/tmp"))
        self.listener: socket.socket | None = None
        self.relay = None
        self.cluster = subprocess.Popen([sys.executable, "-I", "-S", str(NETNS), "--cluster"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        if wait:
            self.ready()

    def ready(self) -> "Network":
        """Wait for the cluster process; NetworkFailed (closed) if it could not make the network."""
        if self.made:
            return self
        line = self.cluster.stdout.readline().decode(errors="replace").strip()
        if line != "ready":
            self.close()
            raise NetworkFailed(line or "the job's network process ended at once")
        self.made = True
        (self.folder / "hosts").write_text(netns.hosts_file(self.count))
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            self.relay = {"socket": str(self.folder / "endpoint.sock"), "port": parts.port or 80}
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(self.relay["socket"])
            self.listener.listen(64)
            target = (parts.hostname or "127.0.0.1", self.relay["port"])
            threading.Thread(target=netns.relay, daemon=True, name="endpoint-relay",
                             args=(self.listener, lambda: socket.create_connection(target))).start()
        return self

    def spec(self, host: Host) -> Path:
        """The file the host's launcher reads (``launcher.py --cluster``)."""
        path = host.folder / "cluster.json"
        path.write_text(json.dumps({"pid": self.cluster.pid, "index": host.index + 1,
                                    "host": host.name, "hosts_file": str(self.folder / "hosts"),
                                    "relay": self.relay}))
        return path

    def close(self) -> None:
        """End the cluster process and the relay (the hosts have ended); idempotent."""
        if self.cluster.stdout.closed:
            return
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
        try:
            self.cluster.stdin.close()
            self.cluster.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.cluster.kill()
            self.cluster.wait()
        self.cluster.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def run_together(hosts: list[Host], train: Callable[[Host], str], stop: threading.Event,
                 job_stop: threading.Event) -> tuple[str, tuple[Host, Exception] | None]:
    """Run ``train(host)`` for every host at once, each in its own thread. The first host to
    fail (an exception) sets ``stop``, so the others end as stopped; a StopTrainingJob
    (``job_stop``) sets it too. Returns (the outcome, (failed host, its exception) or None)."""
    results: dict[str, object] = {}
    failed: list = []
    lock, all_done = threading.Lock(), threading.Event()

    def one(host: Host) -> None:
        try:
            results[host.name] = train(host)
        except Exception as error:  # JobFailed, or a bug of ours: the job fails either way
            results[host.name] = error
            with lock:
                if not failed:
                    failed.append((host, error))
            stop.set()
        finally:
            with lock:
                results.setdefault(host.name, None)
                if len(results) == len(hosts):
                    all_done.set()

    threads = [threading.Thread(target=one, args=(h,), name=f"host-{h.name}", daemon=True)
               for h in hosts]
    for thread in threads:
        thread.start()
    while not all_done.wait(0.02):  # returns at once when the last host ends
        if job_stop.is_set():
            stop.set()
    for thread in threads:
        thread.join()
    if failed:
        return "Failed", failed[0]
    outcomes = [results[h.name] for h in hosts]
    if job_stop.is_set():
        return "Stopped", None
    if "MaxRuntimeExceeded" in outcomes:
        return "MaxRuntimeExceeded", None
    if "Stopped" in outcomes:
        return "Stopped", None
    return "Completed", None
