"""Lesson 8's job: the digits classifier trained by every host of the job at once, with
tf.distribute.MultiWorkerMirroredStrategy (data parallelism).

Each host reads its own share of the training files (the `train` channel is ShardedByS3Key),
computes gradients on it, and the hosts average their gradients over the network at every
step, so all of them hold the same weights. The loop is written out (Keras 3's model.fit does
not run with two workers: lesson 8 says why). The same file runs on AWS, on one host or many.
"""
import argparse
import glob
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")     # keep the job's log to what we print
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--steps-per-epoch", type=int, default=20)   # the same on every host
parser.add_argument("--batch-size", type=int, default=32)        # per host
parser.add_argument("--learning-rate", type=float, default=0.5)
args, _ = parser.parse_known_args()  # the TensorFlow estimator adds --model_dir
host = os.environ["SM_CURRENT_HOST"]

# TF_CONFIG is set by SageMaker for distribution=multi_worker_mirrored_strategy; without it
# the strategy is one worker alone.
strategy = tf.distribute.MultiWorkerMirroredStrategy()   # reads TF_CONFIG, connects to the other hosts
task = json.loads(os.environ.get("TF_CONFIG", '{"task": {"index": 0}}'))["task"]
print(f"{host}: worker {task['index']}, num_replicas_in_sync={strategy.num_replicas_in_sync}")

FEATURES = {"image": tf.io.FixedLenFeature([64], tf.int64),
            "label": tf.io.FixedLenFeature([1], tf.int64)}


def parse(record):
    example = tf.io.parse_single_example(record, FEATURES)
    return tf.cast(example["image"], tf.float32) / 16.0, example["label"][0]


def files(channel):
    return sorted(glob.glob(os.path.join(os.environ[f"SM_CHANNEL_{channel.upper()}"], "*.tfrecord")))


mine = files("train")  # this host's share: SageMaker already split the files between hosts
print(f"{host}: trains on {[os.path.basename(f) for f in mine]}")


def this_hosts_data(context):
    # Not split again: tf.distribute would otherwise shard the (already sharded) files itself.
    data = tf.data.TFRecordDataset(mine).map(parse).cache()
    return data.shuffle(1024, seed=task["index"]).repeat().batch(args.batch_size)


batches = iter(strategy.distribute_datasets_from_function(this_hosts_data))

with strategy.scope():  # variables mirrored on every host, starting equal
    init = tf.keras.initializers.GlorotUniform(seed=0)
    params = [tf.Variable(init((64, 32))), tf.Variable(tf.zeros(32)),
              tf.Variable(init((32, 10))), tf.Variable(tf.zeros(10))]


def logits(x):
    w1, b1, w2, b2 = params
    return tf.nn.relu(x @ w1 + b1) @ w2 + b2


@tf.function
def train_step(iterator):
    def on_this_host(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits(x)))
        grads = tape.gradient(loss, params)
        # The one line that talks to the other hosts: average the gradients of every host.
        grads = tf.distribute.get_replica_context().all_reduce("mean", grads)
        for p, g in zip(params, grads):
            p.assign_sub(args.learning_rate * g)
        return loss
    return strategy.reduce("mean", strategy.run(on_this_host, args=next(iterator)), axis=None)


for epoch in range(1, args.epochs + 1):
    # Every host must take the same number of steps: each step waits for all of them.
    losses = [float(train_step(batches)) for _ in range(args.steps_per_epoch)]
    print(f"{host}: epoch {epoch}/{args.epochs} loss={np.mean(losses):.4f}")

x_val, y_val = next(iter(tf.data.TFRecordDataset(files("validation")).map(parse).batch(10_000)))
accuracy = float(tf.reduce_mean(tf.cast(tf.argmax(logits(x_val), 1) == y_val, tf.float32)))
checksum = sum(float(tf.reduce_sum(p)) for p in params)
print(f"{host}: val_accuracy={accuracy:.3f} weights_checksum={checksum:.6f}")

if task["index"] == 0:  # the chief saves the model; the others hold the same weights
    np.savez(os.path.join(os.environ["SM_MODEL_DIR"], "weights.npz"), *[p.numpy() for p in params])
    print(f"{host}: saved weights.npz")
