"""Job overhead: a trivial script through `fit()` versus the same script run with `python`.

Measured side by side in one run, several times each, in both container modes (the job's own
/opt/ml in a Linux namespace, and /opt/ml relocated, the fallback); prints medians, the
difference, the ratio and the machine. Also times the local endpoint from start to its first
answered call.

    python benchmarks/job_overhead.py [--repeat 5]
Targets: P1, overhead <= 0.25 s per job with namespaces on (issue 12; 1.0 s in issue 3);
P4, endpoint start to first answer <= 1.0 s (issue 12).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = "import os\nopen(os.path.join(os.environ.get('SM_MODEL_DIR', '.'), 'm.txt'), 'w').write('m')\n"


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("SM_TUTORIAL_WORKSPACE", tempfile.mkdtemp(prefix="sm-bench-"))

    import sm_tutorial  # noqa: F401  (imports the SDK: not part of either measurement)
    from sm_tutorial.container import mounts
    from sm_tutorial.platform.endpoint import Endpoint
    started = time.perf_counter()
    endpoint = Endpoint(workspace=Path(os.environ["SM_TUTORIAL_WORKSPACE"]) / "probe").start()
    endpoint.client("sagemaker").list_training_jobs()
    endpoint_start = time.perf_counter() - started
    endpoint.stop()

    from sagemaker.estimator import Estimator
    sess = sm_tutorial.session()
    src = Path(tempfile.mkdtemp(prefix="sm-bench-src-"))
    (src / "train.py").write_text(SCRIPT)
    modes = {"own /opt/ml (namespace)": None, "relocated (fallback)": "off"}
    if mounts.unavailable():
        print(f"no namespaces here ({mounts.unavailable()}): the fallback only")
        del modes["own /opt/ml (namespace)"]
    direct, fitted = [], {mode: [] for mode in modes}
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "train.py"], cwd=src, check=True)
        direct.append(time.perf_counter() - t)
        for mode, setting in modes.items():  # alternated, so both see the same machine load
            fitted[mode].append(fit_once(sess, src, Estimator, sm_tutorial, mounts.SETTING, setting))

    d = statistics.median(direct)
    print(f"machine: {machine()}")
    print(f"P4 endpoint start to first answered call: {endpoint_start:.2f} s (target <= 1.0 s)")
    print(f"script run directly with python: median {d:.3f} s over {args.repeat}")
    for mode, times in fitted.items():
        f = statistics.median(times)
        print(f"through fit(), {mode + ':':<26} median {f:.3f} s; P1 job overhead {f - d:.3f} s "
              f"(target <= 0.25 s), ratio {f / d:.1f}x")
    print("(a real SageMaker job spends minutes in Starting and Downloading before the script runs)")


def fit_once(sess, src, Estimator, sm_tutorial, variable, setting) -> float:
    if setting is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = setting
    try:
        est = Estimator(entry_point="train.py", source_dir=str(src), role=sm_tutorial.role(),
                        image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.16-cpu-py310",
                        instance_type="ml.m5.xlarge", instance_count=1, sagemaker_session=sess,
                        disable_profiler=True)
        t = time.perf_counter()
        est.fit(logs=False)
        return time.perf_counter() - t
    finally:
        os.environ.pop(variable, None)


if __name__ == "__main__":
    main()
