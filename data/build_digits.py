"""Build the course's digits data from scikit-learn's bundled copy (no network needed).

Writes, next to this file:
  digits/train/digits-train-0000-of-0004.tfrecord ... (TFRecord shards, tf.train.Example)
  digits/validation/digits-validation-0000-of-0001.tfrecord
  digits/csv/train.csv, digits/csv/validation.csv  (label, p0..p63)
  digits/manifest.json                              (record counts and SHA-256 of every file)

Each Example has `image`: 64 int64 pixel intensities (0-16, row-major 8x8) and `label`: int64.
The split and order are fixed by SEED, so a rebuild reproduces the same bytes.

    python data/build_digits.py [--out DIR]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
from pathlib import Path

SEED = 20261128
VALIDATION_FRACTION = 0.2
TRAIN_SHARDS = 4
VALIDATION_SHARDS = 1


def split_digits():
    """Return (train, validation) lists of (pixels, label), shuffled deterministically."""
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(SEED).permutation(len(digits.target))
    images = digits.data.astype("int64")[order]
    labels = digits.target.astype("int64")[order]
    n_val = int(round(len(labels) * VALIDATION_FRACTION))
    rows = [(images[i].tolist(), int(labels[i])) for i in range(len(labels))]
    return rows[n_val:], rows[:n_val]


def write_tfrecords(rows, folder: Path, split: str, shards: int) -> list[Path]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(shards):
        path = folder / f"digits-{split}-{shard:04d}-of-{shards:04d}.tfrecord"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for pixels, label in rows[shard::shards]:
                example = tf.train.Example(features=tf.train.Features(feature={
                    "image": tf.train.Feature(int64_list=tf.train.Int64List(value=pixels)),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                }))
                writer.write(example.SerializeToString(deterministic=True))
        paths.append(path)
    return paths


def write_csv(rows, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["label"] + [f"p{i}" for i in range(64)])
        for pixels, label in rows:
            out.writerow([label] + pixels)
    return path


def build(out: Path) -> dict:
    """Write every file under `out` and return the manifest (also written as manifest.json)."""
    train, validation = split_digits()
    files = {}
    for split, rows, shards in (("train", train, TRAIN_SHARDS),
                                ("validation", validation, VALIDATION_SHARDS)):
        for i, path in enumerate(write_tfrecords(rows, out / split, split, shards)):
            files[path.relative_to(out).as_posix()] = len(rows[i::shards])
        path = write_csv(rows, out / "csv" / f"{split}.csv")
        files[path.relative_to(out).as_posix()] = len(rows)
    manifest = {
        "source": "sklearn.datasets.load_digits (UCI optical recognition of handwritten digits)",
        "seed": SEED,
        "records": {"train": len(train), "validation": len(validation)},
        "files": {
            name: {"records": count,
                   "sha256": hashlib.sha256((out / name).read_bytes()).hexdigest()}
            for name, count in sorted(files.items())
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "digits")
    args = parser.parse_args()
    m = build(args.out)
    print(f"wrote {len(m['files'])} files: {m['records']}")
