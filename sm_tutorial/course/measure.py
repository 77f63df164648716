"""File vs FastFile vs Pipe, measured: time from ``fit()`` to the script's first record, and
to the end of one epoch. Used by ``benchmarks/input_modes.py`` and, smaller, by lesson 4."""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import threading
import time
from pathlib import Path

MODES = ("File", "FastFile", "Pipe")

# The job's script: reads every TFRecord once, in Python, and reports when it saw the first
# record and when it finished. No TensorFlow import, so its start-up does not blur the numbers.
READER = r'''
import glob, json, os, struct, time

def read_tfrecords(stream):  # length, CRC, payload, CRC; self-contained so it runs on AWS too
    while True:
        header = stream.read(12)
        if not header:
            return
        length = struct.unpack("<Q", header[:8])[0]
        yield stream.read(length + 4)[:length]

mode = json.load(open(os.environ["SM_INPUT_CONFIG_DIR"] + "/inputdataconfig.json"))["train"]["TrainingInputMode"]
first, records, size = None, 0, 0
if mode == "Pipe":
    streams = [os.environ["SM_INPUT_DIR"] + "/data/train_0"]
else:
    streams = sorted(glob.glob(os.environ["SM_CHANNEL_TRAIN"] + "/*.tfrecord"))
for path in streams:
    with open(path, "rb", buffering=1 << 20) as stream:
        for record in read_tfrecords(stream):
            if first is None:
                first = time.time()
            records += 1
            size += len(record)
json.dump({"first": first, "end": time.time(), "records": records, "bytes": size},
          open(os.environ["SM_OUTPUT_DATA_DIR"] + "/timing.json", "w"))
'''


def tfrecord(payload: bytes) -> bytes:
    """One TFRecord frame (CRCs left zero: the course's reader does not check them)."""
    return struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4


def upload_dataset(session, size_mib: int, shard_mib: int = 16, record_kib: int = 64) -> str:
    """Upload ``size_mib`` of TFRecords as shards of ``shard_mib``; returns the S3 prefix."""
    s3 = session.boto_session.client("s3")
    bucket = session.default_bucket()
    prefix = f"sm-tutorial/bench/{size_mib}mib"
    record = tfrecord(os.urandom(record_kib * 1024 - 16))
    shard = record * (shard_mib * 1024 // record_kib)
    for i in range(max(1, size_mib // shard_mib)):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/shard-{i:04d}.tfrecord", Body=shard)
    return f"s3://{bucket}/{prefix}"


class _PeakRss:
    """Samples this process's resident memory (the in-process endpoint's) while a job runs."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self):
        self.base = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def time_input_mode(session, role: str, uri: str, mode: str) -> dict:
    """Run the reader job on ``uri`` in ``mode``; returns seconds to first record and to the
    end of the epoch (both from the ``fit()`` call), and how much this process's memory grew
    (the endpoint's, when it runs in this process)."""
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput

    from ..client.results import output_uri, tar_members
    source = Path(tempfile.mkdtemp(prefix="sm-measure-"))
    (source / "train.py").write_text(READER)
    estimator = Estimator(
        entry_point="train.py", source_dir=str(source), role=role, sagemaker_session=session,
        image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.16-cpu-py310",
        instance_type="ml.m5.xlarge", instance_count=1, disable_profiler=True)
    with _PeakRss() as memory:
        started = time.time()
        estimator.fit({"train": TrainingInput(uri, input_mode=mode)}, wait=False)
        name = estimator.latest_training_job.name
        while session.describe_training_job(name)["TrainingJobStatus"] == "InProgress":
            time.sleep(0.05)  # quietly: the SDK's own wait prints a line per status
    shutil.rmtree(source, ignore_errors=True)  # uploaded by fit(); not needed any more
    timing = json.loads(tar_members(session, output_uri(estimator.model_data))["timing.json"])
    return {"mode": mode, "first_record_s": timing["first"] - started,
            "epoch_s": timing["end"] - started, "records": timing["records"],
            "mib": timing["bytes"] / 2**20, "extra_memory_mib": (memory.peak - memory.base) / 2**20}


def compare_input_modes(session, role: str, sizes_mib=(8, 32), modes=MODES, shard_mib: int = 4):
    """One row per (size, mode), sizes in MiB of TFRecords; the jobs run one after another in
    one go, so the modes are compared on the same machine and data."""
    rows = []
    for size in sizes_mib:
        uri = upload_dataset(session, size, shard_mib=min(shard_mib, size))
        for mode in modes:
            rows.append({"size_mib": size, **time_input_mode(session, role, uri, mode)})
    return rows


def plot(rows, path=None):
    """AWS's File-vs-Pipe figure, redrawn from ``rows``: time to first record and to the end of
    the epoch, per mode, against the channel size. Returns the matplotlib figure."""
    import matplotlib
    if path:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    sizes = sorted({r["size_mib"] for r in rows})
    for mode in MODES:
        mine = {r["size_mib"]: r for r in rows if r["mode"] == mode}
        if not mine:
            continue
        for ax, key in zip(axes, ("first_record_s", "epoch_s")):
            ax.plot(sizes, [mine[s][key] for s in sizes], marker="o", label=mode)
    for ax, title in zip(axes, ("Time from fit() to the first record", "Time from fit() to the end of one epoch")):
        ax.set_title(title)
        ax.set_xlabel("channel size (MiB of TFRecords)")
        ax.set_ylabel("seconds")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_ylim(bottom=0)  # seconds from zero, so the gaps between modes are not magnified
        ax.legend()
        ax.grid(alpha=0.3)
    figure.tight_layout()
    if path:
        figure.savefig(path, dpi=100)
    return figure
