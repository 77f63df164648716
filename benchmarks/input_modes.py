"""File vs FastFile vs Pipe on 32, 128 and 512 MiB of TFRecords, side by side in one run.

Prints, per size and mode, the time from fit() to the script's first record and to the end of
one epoch, and the endpoint's extra memory; writes a chart in the style of AWS's File-vs-Pipe
figure to benchmarks/results/input_modes.png.

    python benchmarks/input_modes.py [--sizes 32 128 512]
Targets (issue 4): Pipe's first record <= 0.1x File's at 512 MiB and about flat as the data
grows; Pipe's full epoch no slower than File's download-then-read; endpoint memory bounded.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from job_overhead import machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128, 512])
    args = parser.parse_args()
    os.environ.setdefault("SM_TUTORIAL_WORKSPACE", tempfile.mkdtemp(prefix="sm-bench-"))
    import sm_tutorial
    from sm_tutorial.course.measure import compare_input_modes, plot

    sess = sm_tutorial.session()
    rows = compare_input_modes(sess, sm_tutorial.role(), sizes_mib=args.sizes, shard_mib=16)
    print(f"machine: {machine()}")
    print(f"{'MiB':>5} {'mode':<9} {'first record s':>15} {'epoch s':>8} {'records':>8} {'extra mem MiB':>14}")
    for r in rows:
        print(f"{r['size_mib']:>5} {r['mode']:<9} {r['first_record_s']:>15.3f} {r['epoch_s']:>8.2f} "
              f"{r['records']:>8} {r['extra_memory_mib']:>14.0f}")
    largest = max(args.sizes)
    by = {(r["size_mib"], r["mode"]): r for r in rows}
    pipe, file = by[(largest, "Pipe")], by[(largest, "File")]
    print(f"Pipe/File time to first record at {largest} MiB: "
          f"{pipe['first_record_s'] / file['first_record_s']:.3f}x (target <= 0.1x)")
    print(f"Pipe/File full epoch at {largest} MiB: {pipe['epoch_s'] / file['epoch_s']:.2f}x (target <= 1x)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    plot(rows, out / "input_modes.png")
    print(f"chart: {out / 'input_modes.png'}")


if __name__ == "__main__":
    main()
