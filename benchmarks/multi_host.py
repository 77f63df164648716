"""P5 (issue 13): a trivial job on 2 hosts against the same job on 1 host, side by side.

Each round runs the script directly with `python`, then through `fit()` with
instance_count=1, 2 and 4 (alternated, so all see the same machine load); prints medians, each
job's overhead over the direct run, and the ratio of the 2-host overhead to the 1-host one.
`fit()` sees the end at the SDK's next poll (every 0.2 s here), so its times move in steps;
the job's own time (CreateTrainingJob to the final status, from its status transitions) is
printed beside it.

    python benchmarks/multi_host.py [--repeat 5]
Target: P5, 2-host overhead <= 1.5x the 1-host overhead.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from job_overhead import SCRIPT, machine  # noqa: E402

COUNTS = (1, 2, 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("SM_TUTORIAL_WORKSPACE", tempfile.mkdtemp(prefix="sm-bench-"))
    import sm_tutorial
    from sagemaker.estimator import Estimator
    from sm_tutorial.platform import cluster
    problem = cluster.unavailable()
    if problem:
        sys.exit(f"no multi-instance jobs on this machine: {problem}")
    sess = sm_tutorial.session()
    src = Path(tempfile.mkdtemp(prefix="sm-bench-src-"))
    (src / "train.py").write_text(SCRIPT)
    direct, fitted, own = [], {n: [] for n in COUNTS}, {n: [] for n in COUNTS}
    fit_once(sess, src, Estimator, sm_tutorial, 2)  # warm-up: imports, moto's first calls
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "train.py"], cwd=src, check=True)
        direct.append(time.perf_counter() - t)
        for count in COUNTS:
            took, job = fit_once(sess, src, Estimator, sm_tutorial, count)
            fitted[count].append(took)
            own[count].append(job)
    d = statistics.median(direct)
    print(f"machine: {machine()}")
    print(f"script run directly with python: median {d:.3f} s over {args.repeat}")
    overhead = {}
    for count, times in fitted.items():
        f = statistics.median(times)
        overhead[count] = f - d
        print(f"through fit(), {count} host{'s' if count > 1 else ' '}: median {f:.3f} s, "
              f"overhead {f - d:.3f} s; the job itself {statistics.median(own[count]):.3f} s")
    print(f"P5 2-host overhead / 1-host overhead: {overhead[2] / overhead[1]:.2f}x (target <= 1.5x)")


def fit_once(sess, src, Estimator, sm_tutorial, count) -> float:
    est = Estimator(entry_point="train.py", source_dir=str(src), role=sm_tutorial.role(),
                    image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.16-cpu-py310",
                    instance_type="ml.m5.xlarge", instance_count=count, sagemaker_session=sess,
                    disable_profiler=True)
    t = time.perf_counter()
    est.fit(logs=False)
    took = time.perf_counter() - t
    transitions = sess.describe_training_job(est.latest_training_job.name)["SecondaryStatusTransitions"]
    return took, (transitions[-1]["StartTime"] - transitions[0]["StartTime"]).total_seconds()


if __name__ == "__main__":
    main()
