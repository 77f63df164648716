"""``PipeModeDataset``: read a Pipe-mode channel as a ``tf.data.Dataset``.

AWS's own ``sagemaker_tensorflow.PipeModeDataset`` is built for TensorFlow <= 2.14 only; this
one has the same constructor and the same behaviour for the TensorFlow the course uses:
each new iterator (each Keras epoch) reads the next FIFO, ``<channel>_0``, ``<channel>_1``, ...
``record_format`` is ``"TFRecord"``, ``"RecordIO"`` or ``"TextLine"``; elements are scalar
``tf.string`` records, ready for ``.map(parse)``.

Differences from AWS's: it runs in Python (``Dataset.from_generator``), so it is slower per
record; TFRecord CRCs are not verified; ``benchmark`` and ``max_corrupted_records_to_skip``
are accepted and ignored. In a script meant for AWS too::

    try:
        from sagemaker_tensorflow import PipeModeDataset
    except ImportError:
        from sm_tutorial import PipeModeDataset
"""
from __future__ import annotations

import json
import os
import struct
import threading
import time
from pathlib import Path
from typing import BinaryIO, Iterator

RECORDIO_MAGIC = 0xCED7230A
FORMATS = ("TFRecord", "RecordIO", "TextLine")


def _base() -> Path:
    return Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))


def read_tfrecords(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        header = stream.read(12)  # uint64 length, uint32 masked CRC of the length
        if not header:
            return
        if len(header) < 12:
            raise EOFError("truncated TFRecord header")
        (length,) = struct.unpack("<Q", header[:8])
        data = stream.read(length + 4)  # payload, uint32 masked CRC of the payload
        if len(data) < length + 4:
            raise EOFError("truncated TFRecord")
        yield data[:length]


def read_recordio(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        header = stream.read(8)
        if not header:
            return
        magic, word = struct.unpack("<II", header)
        if magic != RECORDIO_MAGIC:
            raise ValueError(f"not a RecordIO stream (magic {magic:#x}); is the channel's "
                             "RecordWrapperType set to RecordIO?")
        length = word & ((1 << 29) - 1)
        payload = stream.read(length)
        stream.read(-length % 4)
        yield payload


def read_lines(stream: BinaryIO) -> Iterator[bytes]:
    for line in stream:
        yield line.rstrip(b"\n")


READERS = {"TFRecord": read_tfrecords, "RecordIO": read_recordio, "TextLine": read_lines}


class _Epochs:
    """Hands out epoch numbers, one per new iterator, and records them in state_dir."""

    def __init__(self, channel: str, state_dir: Path):
        self.state = state_dir / f"{channel}.json"
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            epoch = json.loads(self.state.read_text())["epoch"] + 1 if self.state.exists() else 0
            self.state.parent.mkdir(parents=True, exist_ok=True)
            self.state.write_text(json.dumps({"epoch": epoch}))
            return epoch


def PipeModeDataset(channel: str, record_format: str = "RecordIO", state_dir: str | None = None,
                    pipe_dir: str | None = None, config_dir: str | None = None,
                    benchmark: bool = False, benchmark_records_interval: int = 0,
                    max_corrupted_records_to_skip: int = 0, wait_seconds: float = 60.0):
    """A ``tf.data.Dataset`` of the records streamed into ``channel``'s FIFOs."""
    import tensorflow as tf

    if record_format not in FORMATS:
        raise ValueError(f"record_format={record_format!r}: use one of {', '.join(FORMATS)}")
    pipes = Path(pipe_dir) if pipe_dir else _base() / "input" / "data"
    config = Path(config_dir) if config_dir else _base() / "input" / "config"
    data_config = config / "inputdataconfig.json"
    if data_config.exists():
        modes = json.loads(data_config.read_text())
        if channel not in modes:
            raise KeyError(f"channel {channel!r} is not in this job's input (channels: "
                           f"{', '.join(sorted(modes))}); check the names passed to fit().")
        if modes[channel]["TrainingInputMode"] != "Pipe":
            raise ValueError(f"channel {channel!r} is in {modes[channel]['TrainingInputMode']} mode: "
                             f"read its files from SM_CHANNEL_{channel.upper()}, or pass "
                             "input_mode='Pipe' to the estimator or TrainingInput.")
    epochs = _Epochs(channel, Path(state_dir) if state_dir else _base() / "pipe_state")
    read = READERS[record_format]

    def records():
        fifo = pipes / f"{channel}_{epochs.next()}"
        deadline = time.time() + wait_seconds
        while not fifo.exists():
            if time.time() > deadline:
                raise FileNotFoundError(f"{fifo} did not appear within {wait_seconds:.0f} s")
            time.sleep(0.005)
        with open(fifo, "rb", buffering=1 << 20) as stream:
            yield from read(stream)

    return tf.data.Dataset.from_generator(records, output_signature=tf.TensorSpec([], tf.string))
