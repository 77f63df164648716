"""Lesson 10's spot-friendly script: it saves a checkpoint after every epoch and, when it
starts, resumes from the newest one it finds.

Managed spot training copies /opt/ml/checkpoints to checkpoint_s3_uri while the job runs; after
an interruption SageMaker starts the job again on a new instance and copies them back first.
A script that ignores them starts over from epoch 1 (and pays again for every epoch).
The model is deliberately tiny (plain NumPy gradient descent) so that each epoch's numbers are
the same whether or not the job was interrupted; --seconds-per-epoch stands in for real work.
"""
import argparse
import glob
import os
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--learning-rate", type=float, default=0.1)
parser.add_argument("--seconds-per-epoch", type=float, default=0.5)
parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
# No SM_ variable for checkpoints: AWS uses /opt/ml/checkpoints (SAGEMAKER_BASE_DIR moves /opt/ml).
parser.add_argument("--checkpoint-dir", default=os.path.join(
    os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"), "checkpoints"))
args, _unknown = parser.parse_known_args()

rng = np.random.default_rng(0)                 # the same data on every start
X = rng.normal(size=(200, 5))
y = X @ np.array([1.0, -2.0, 0.5, 3.0, -1.0]) + rng.normal(scale=0.1, size=200)

os.makedirs(args.checkpoint_dir, exist_ok=True)
saved = sorted(glob.glob(os.path.join(args.checkpoint_dir, "epoch-*.npz")))
if saved:                                      # a restart: carry on after the newest checkpoint
    state = np.load(saved[-1])
    weights, start = state["weights"], int(state["epoch"]) + 1
    print(f"resuming from {os.path.basename(saved[-1])}: epochs 1-{start - 1} already done", flush=True)
else:
    weights, start = np.zeros(5), 1
    print("no checkpoint found: starting at epoch 1", flush=True)

for epoch in range(start, args.epochs + 1):
    time.sleep(args.seconds_per_epoch)         # the real work of an epoch would be here
    gradient = 2 * X.T @ (X @ weights - y) / len(y)
    weights = weights - args.learning_rate * gradient
    loss = float(np.mean((X @ weights - y) ** 2))
    partial = os.path.join(args.checkpoint_dir, f".partial-epoch-{epoch:02d}.npz")
    np.savez(partial, weights=weights, epoch=epoch)  # whole, or not at all: a SIGTERM may come
    os.replace(partial, os.path.join(args.checkpoint_dir, f"epoch-{epoch:02d}.npz"))  # mid-write
    print(f"epoch {epoch}/{args.epochs} loss={loss:.4f}", flush=True)

np.save(os.path.join(args.model_dir, "weights.npy"), weights)
print(f"final weights: {np.round(weights, 2).tolist()}", flush=True)
