"""P6: deploy to first prediction for the course's digits model.

Trains the course's TensorFlow digits script once (with ``export-version=1``, so model.tar.gz
holds the SavedModel TensorFlow Serving needs; not timed), then times
``estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large")`` followed by the
first ``predictor.predict(...)`` on five validation rows, then deletes the endpoint.

The service keeps one spare serving container with the frameworks imported, started when a
TensorFlow or scikit-learn training job completes (a deploy usually follows) or at the first
CreateModel. Printed, with the machine: "after fit", the deploy started the moment fit()
returns, as a notebook's next cell does (the spare is still importing TensorFlow); "warm", the
spare ready; "cold", no spare at all (the container imports TensorFlow itself).

    python benchmarks/deploy.py [--repeat 3]
Target: P6, deploy to first prediction <= 2 s (issue 14; AWS: minutes).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from job_overhead import machine  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SM_TUTORIAL_WORKSPACE", tempfile.mkdtemp(prefix="sm-bench-"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import sm_tutorial
    from sagemaker.tensorflow import TensorFlow
    from sm_tutorial.client.sdk import local_endpoint

    sess = sm_tutorial.session()
    data = sm_tutorial.upload_digits(sess)
    est = TensorFlow(entry_point="train.py", source_dir=str(REPO / "notebooks" / "scripts" / "digits"),
                     role=sm_tutorial.role(), instance_type="ml.m5.xlarge", instance_count=1,
                     framework_version="2.16", py_version="py310", sagemaker_session=sess,
                     disable_profiler=True, hyperparameters={"epochs": 3, "export-version": 1})
    est.fit({"train": data["train"], "validation": data["validation"]}, logs=False)
    rows = np.loadtxt(REPO / "data" / "digits" / "csv" / "validation.csv", delimiter=",",
                      skiprows=1)[:5]
    instances = (rows[:, 1:] / 16.0).tolist()
    hosting = local_endpoint().service.hosting

    def deploy_and_predict() -> float:
        started = time.perf_counter()
        predictor = est.deploy(initial_instance_count=1, instance_type="ml.m5.large")
        answer = predictor.predict({"instances": instances})
        took = time.perf_counter() - started
        labels = np.argmax(answer["predictions"], axis=1).tolist()
        predictor.delete_endpoint()
        print(f"  {took:.2f} s, predicted {labels} for labels {rows[:, 0].astype(int).tolist()}")
        return took

    print("after fit (the spare started when the training job completed):")
    after_fit = deploy_and_predict()
    warm = []
    for _ in range(args.repeat):
        deadline = time.time() + 120  # let the spare finish its imports, as between two cells
        while not (hosting._spare and hosting._spare.standing_by.is_set()) and time.time() < deadline:
            time.sleep(0.1)
        print("warm (a spare container waits with TensorFlow imported):")
        warm.append(deploy_and_predict())
    hosting.keep_spare = False
    if hosting._spare:
        hosting._discard(hosting._spare)
        hosting._spare = None
    print("cold (no spare: the container imports TensorFlow):")
    cold = deploy_and_predict()
    print(f"\n{machine()}")
    print(f"deploy to first prediction right after fit(): {after_fit:.2f} s (target <= 2 s)")
    print(f"deploy to first prediction, cold: {cold:.2f} s")
    print(f"deploy to first prediction, warm: median {statistics.median(warm):.2f} s over "
          f"{len(warm)} (target <= 2 s)")


if __name__ == "__main__":
    main()
