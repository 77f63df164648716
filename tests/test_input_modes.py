"""Pipe mode (FIFOs per epoch, raw/RecordIO/Gzip), ManifestFile, and the PipeModeDataset reader."""
import gzip
import json
import struct
import threading

import pytest
from sagemaker.inputs import TrainingInput

from conftest import course_estimator, estimator, output_tar_uri, s3_tar

OBJECTS = {"part-b.bin": b"B" * 5, "part-a.bin": bytes(range(256)) * 3, "sub/part-c.bin": b"C" * 4}
IN_KEY_ORDER = [OBJECTS[k] for k in sorted(OBJECTS)]

READ_EPOCHS = """
import os, time
data = os.environ["SM_INPUT_DIR"] + "/data"
out = os.environ["SM_OUTPUT_DATA_DIR"]
print("at start:", sorted(os.listdir(data)))
for epoch in range(2):
    with open(f"{data}/train_{epoch}", "rb") as f:
        open(f"{out}/epoch{epoch}.bin", "wb").write(f.read())
    deadline = time.time() + 5
    while not os.path.exists(f"{data}/train_{epoch + 1}") and time.time() < deadline:
        time.sleep(0.01)
    print(f"after epoch {epoch}:", sorted(os.listdir(data)))
with open(f"{data}/train_0", "rb") as f:      # the same epoch again: AWS gives EOF
    open(f"{out}/reopened.bin", "wb").write(f.read())
"""


@pytest.fixture(scope="module")
def upload(sess):
    s3 = sess.boto_session.client("s3")
    bucket = sess.default_bucket()

    def put(prefix, objects):
        for key, body in objects.items():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=body)
        return f"s3://{bucket}/{prefix}"
    return put


def no_pipe_debris(root):
    leftovers = [t.name for t in threading.enumerate() if t.name.startswith("pipe-")]
    fifos = [p.name for p in (root / "input" / "data").iterdir() if not p.is_dir()]
    return leftovers, fifos


def run_pipe_job(sess, source, upload, objects, script=READ_EPOCHS, **channel):
    import sm_tutorial
    uri = upload(f"pipe-{len(objects)}-{sorted(channel.items())}", objects)
    est = estimator(sess, source(script))
    est.fit({"train": TrainingInput(uri, input_mode="Pipe", **channel)}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    root = sm_tutorial.job_root(d["TrainingJobName"])
    return d, s3_tar(sess, output_tar_uri(d)), root


def test_raw_stream_epochs_and_reopen(sess, source, upload):
    d, out, root = run_pipe_job(sess, source, upload, OBJECTS)
    assert out["epoch0.bin"] == b"".join(IN_KEY_ORDER)  # key order: part-a, part-b, sub/part-c
    assert out["epoch1.bin"] == out["epoch0.bin"]
    assert out["reopened.bin"] == b""
    log = (root.parent.parent / "algo-1.log").read_text()
    assert "at start: ['train_0']" in log
    assert "after epoch 0: ['train_0', 'train_1']" in log
    assert "after epoch 1: ['train_0', 'train_1', 'train_2']" in log
    assert json.loads((root / "input" / "config" / "inputdataconfig.json").read_text())["train"][
        "TrainingInputMode"] == "Pipe"
    assert no_pipe_debris(root) == ([], [])


def recordio(payload):
    return struct.pack("<II", 0xCED7230A, len(payload)) + payload + b"\0" * (-len(payload) % 4)


def test_recordio_framing_is_byte_exact(sess, source, upload):
    _, out, _ = run_pipe_job(sess, source, upload, OBJECTS, record_wrapping="RecordIO")
    assert out["epoch0.bin"] == b"".join(recordio(p) for p in IN_KEY_ORDER)


def test_gzip_is_decompressed_on_the_way(sess, source, upload):
    zipped = {k + ".gz": gzip.compress(v) for k, v in OBJECTS.items()}
    _, out, _ = run_pipe_job(sess, source, upload, zipped, compression="Gzip")
    assert out["epoch0.bin"] == b"".join(IN_KEY_ORDER)
    _, out, _ = run_pipe_job(sess, source, upload, zipped, compression="Gzip",
                             record_wrapping="RecordIO")
    assert out["epoch0.bin"] == b"".join(recordio(p) for p in IN_KEY_ORDER)


def test_script_that_never_opens_the_fifo(sess, source, upload):
    _, _, root = run_pipe_job(sess, source, upload, OBJECTS, script="print('not reading')\n")
    assert no_pipe_debris(root) == ([], [])


def test_script_that_stops_reading_half_way(sess, source, upload):
    big = {f"big-{i}.bin": bytes([i]) * (1 << 20) for i in range(4)}  # more than a pipe buffer
    script = """
import os
f = open(os.environ["SM_INPUT_DIR"] + "/data/train_0", "rb")
print("read", len(f.read(1000)))
"""
    _, _, root = run_pipe_job(sess, source, upload, big, script=script)
    assert no_pipe_debris(root) == ([], [])


def test_stop_mid_stream(sess, source, upload):
    import time
    import sm_tutorial
    uri = upload("pipe-stop", {f"s-{i}.bin": b"x" * (1 << 20) for i in range(8)})
    est = estimator(sess, source("""
import os, time
with open(os.environ["SM_INPUT_DIR"] + "/data/train_0", "rb") as f:
    while f.read(65536):
        time.sleep(0.05)
"""))
    est.fit({"train": TrainingInput(uri, input_mode="Pipe")}, wait=False)
    name = est.latest_training_job.name
    time.sleep(1.5)
    sess.sagemaker_client.stop_training_job(TrainingJobName=name)
    deadline = time.time() + 30
    while sess.describe_training_job(name)["TrainingJobStatus"] != "Stopped" and time.time() < deadline:
        time.sleep(0.1)
    assert sess.describe_training_job(name)["TrainingJobStatus"] == "Stopped"
    assert no_pipe_debris(sm_tutorial.job_root(name)) == ([], [])


def test_pipe_mode_dataset_reads_tfrecords_for_two_epochs(sess, source, digits):
    script = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from sm_tutorial import PipeModeDataset
ds = PipeModeDataset(channel="train", record_format="TFRecord")
counts = [sum(1 for _ in ds) for epoch in range(2)]
json.dump(counts, open(os.environ["SM_OUTPUT_DATA_DIR"] + "/counts.json", "w"))
"""
    est = estimator(sess, source(script))
    est.fit({"train": TrainingInput(digits["train"], input_mode="Pipe")}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    assert json.loads(s3_tar(sess, output_tar_uri(d))["counts.json"]) == [1438, 1438]


def test_pipe_mode_dataset_on_a_file_channel_says_what_to_do(sess, source, digits):
    from sagemaker.exceptions import UnexpectedStatusException
    est = estimator(sess, source("""
from sm_tutorial import PipeModeDataset
PipeModeDataset(channel="train", record_format="TFRecord")
"""))
    with pytest.raises(UnexpectedStatusException):
        est.fit({"train": digits["train"]}, logs=False)
    reason = est.latest_training_job.describe()["FailureReason"]
    assert "File mode" in reason and "SM_CHANNEL_TRAIN" in reason


def test_course_script_trains_in_pipe_mode(sess, digits):
    est = course_estimator(sess, hyperparameters={"epochs": 6}, input_mode="Pipe")
    est.fit({"train": digits["train"], "validation": digits["validation"]}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    assert d["AlgorithmSpecification"]["TrainingInputMode"] == "Pipe"
    metrics = json.loads(s3_tar(sess, output_tar_uri(d))["metrics.json"])
    assert len(metrics["accuracy"]) == 6 and metrics["val_accuracy"][-1] > 0.85


def test_manifest_file_channel(sess, source, upload):
    bucket = sess.default_bucket()
    upload("manifest-data", {"keep/a.txt": b"a", "keep/b.txt": b"b", "skip/c.txt": b"c"})
    s3 = sess.boto_session.client("s3")
    manifest = [{"prefix": f"s3://{bucket}/manifest-data/"}, "keep/a.txt", "keep/b.txt"]
    s3.put_object(Bucket=bucket, Key="manifests/train.manifest", Body=json.dumps(manifest).encode())
    est = estimator(sess, source("""
import os
root = os.environ["SM_CHANNEL_TRAIN"]
print(sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs))
"""))
    est.fit({"train": TrainingInput(f"s3://{bucket}/manifests/train.manifest",
                                    s3_data_type="ManifestFile")}, logs=False)
    import sm_tutorial
    log = (sm_tutorial.job_root(est.latest_training_job.name).parent.parent / "algo-1.log").read_text()
    assert "['keep/a.txt', 'keep/b.txt']" in log


# ShardedByS3Key across instances: tests/test_multi_host.py (it was refused before issue 13)


FASTFILE_LAZY = """
import json, os
root = os.environ["SM_CHANNEL_TRAIN"]
names = sorted(os.listdir(root))
before = {n: os.path.exists(os.path.join(root, n)) for n in names}
last = open(os.path.join(root, names[-1]), "rb").read()
after = {n: os.path.exists(os.path.join(root, n)) for n in names}
json.dump({"names": names, "before": before, "after": after, "last": last.decode()},
          open(os.environ["SM_OUTPUT_DATA_DIR"] + "/seen.json", "w"))
"""


def test_fastfile_lists_everything_and_fetches_on_first_open(sess, source, upload, endpoint):
    objects = {f"f{i}.txt": f"object {i}".encode() for i in range(5)}
    uri = upload("fastfile-lazy", objects)
    endpoint.service.fastfile_prefetch = False  # so only the script's own open can fetch
    try:
        est = estimator(sess, source(FASTFILE_LAZY))
        est.fit({"train": TrainingInput(uri, input_mode="FastFile")}, logs=False)
    finally:
        endpoint.service.fastfile_prefetch = True
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    seen = json.loads(s3_tar(sess, output_tar_uri(d))["seen.json"])
    assert seen["names"] == sorted(objects)          # all listed when the script starts
    assert not any(seen["before"].values())          # nothing fetched yet
    assert seen["last"] == "object 4"                # first open fetched the right bytes
    assert [n for n, here in seen["after"].items() if here] == ["f4.txt"]  # and only that one


def test_course_script_trains_in_fastfile_mode(sess, digits):
    est = course_estimator(sess, hyperparameters={"epochs": 2}, input_mode="FastFile")
    est.fit({"train": digits["train"], "validation": digits["validation"]}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    metrics = json.loads(s3_tar(sess, output_tar_uri(d))["metrics.json"])
    assert len(metrics["accuracy"]) == 2
    assert not [t.name for t in threading.enumerate() if t.name.startswith("fastfile-")]


DIRECT_S3 = """
import io, json, os
import boto3, pandas as pd
import tensorflow as tf
bucket, key = os.environ["SM_HP_DATA"][5:].split("/", 1)
try:
    pd.read_csv(os.environ["SM_HP_DATA"])
    pandas_s3 = "worked"
except ImportError as error:                    # pandas needs fsspec + s3fs for s3:// paths
    pandas_s3 = "ImportError: " + str(error)[:60]
try:
    tf.io.gfile.exists(os.environ["SM_HP_DATA"])
    tf_s3 = "worked"
except Exception as error:                      # TensorFlow no longer ships its S3 filesystem
    tf_s3 = type(error).__name__
body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]   # the way that works
frame = pd.read_csv(io.BytesIO(body.read()))
json.dump({"rows": len(frame), "columns": list(frame.columns[:2]), "pandas_s3": pandas_s3,
           "tf_s3": tf_s3}, open(os.environ["SM_OUTPUT_DATA_DIR"] + "/direct.json", "w"))
"""


def test_direct_s3_reads_from_a_script(sess, source, digits):
    est = estimator(sess, source(DIRECT_S3), {"data": digits["csv"] + "/validation.csv"},
                    environment={"TF_CPP_MIN_LOG_LEVEL": "3"})
    est.fit(logs=False)  # no channels: the script reads S3 itself, through the local endpoint
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    seen = json.loads(s3_tar(sess, output_tar_uri(d))["direct.json"])
    assert seen["rows"] == 359 and seen["columns"] == ["label", "p0"]
    assert seen["pandas_s3"].startswith("ImportError") and "fsspec" in seen["pandas_s3"]
    assert seen["tf_s3"] != "worked"
