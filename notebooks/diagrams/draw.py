"""Draws the course's diagrams as SVG files beside this script, the same bytes every run.

    .venv/bin/python notebooks/diagrams/draw.py [OUTPUT_FOLDER]

Each diagram is boxes, arrows and text on a fixed canvas (no automatic layout, no tight bounding
box), so the output depends only on this script and matplotlib's version (and the DejaVu fonts
it ships). Text is drawn as outlines (``svg.fonttype: path``), so every browser shows the same
picture whatever fonts it has; each lesson carries the words as alt text and a text twin.
``svg.hashsalt`` fixes the ids, and the date is left out. tests/test_course_docs.py checks that
the committed files are what this script draws.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

DRAWN_WITH = "3.11.2"  # the matplotlib version of the committed files (constraints.txt)
HERE = Path(__file__).resolve().parent
NAMES = ("architecture", "job_lifecycle", "opt_ml_tree", "input_modes", "hyperparameters", "archives",
         "hosts")

# Colours by role, the same in every diagram.
YOU = "#dbe9f6"       # your notebook and your script
AWS = "#fde9cf"       # AWS services
JOB = "#e3f1de"       # the training job
BAD = "#f7d9d9"       # failure
GREY = "#eeeeee"
INK = "#222222"

STYLE = {
    "svg.hashsalt": "sm-tutorial-diagrams",
    "svg.fonttype": "path",   # glyphs as outlines: the same look in every browser, fonts or not
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "path.simplify": False,
}


def canvas(width, height, title):
    figure = plt.figure(figsize=(width / 10, height / 10))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.text(2, height - 3, title, fontsize=13, fontweight="bold", va="top", color=INK)
    return figure, ax


def box(ax, x, y, w, h, text, colour=GREY, size=9.5, align="center", family=None, bold_first=False):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=1.2",
                                facecolor=colour, edgecolor=INK, linewidth=1))
    lines = text.split("\n")
    if bold_first and len(lines) > 1:
        ax.text(x + (w / 2 if align == "center" else 1.5), y + h - 1.6, lines[0], ha=align,
                va="top", fontsize=size + 0.5, fontweight="bold", color=INK, family=family)
        text = "\n".join(lines[1:])
        ax.text(x + (w / 2 if align == "center" else 1.5), y + h - 4.6, text, ha=align, va="top",
                fontsize=size, color=INK, family=family, linespacing=1.35)
    else:
        ax.text(x + (w / 2 if align == "center" else 1.5), y + h / 2, text, ha=align,
                va="center", fontsize=size, color=INK, family=family, linespacing=1.35)


def arrow(ax, start, end, label=None, offset=(0, 1.2), size=8.5, style="-|>", colour=INK,
          ls="-", rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=colour,
                                 linewidth=1.2, linestyle=ls,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va="bottom", fontsize=size, color=INK,
                linespacing=1.2)


def architecture():
    figure, ax = canvas(100, 58, "Where a training job runs, and what it touches")
    box(ax, 2, 22, 22, 18, "Your notebook\nkernel + SageMaker\nPython SDK\nestimator.fit()", YOU,
        bold_first=True)
    box(ax, 38, 22, 24, 18, "Training job\nits own instance(s),\na container from the image,\n"
        "the /opt/ml tree,\npython train.py", JOB, bold_first=True)
    box(ax, 76, 38, 22, 12, "Amazon S3\ninput data (channels),\nsourcedir.tar.gz", AWS,
        bold_first=True)
    box(ax, 34, 2, 22, 11, "Amazon ECR\nthe training image", AWS, bold_first=True)
    box(ax, 76, 20, 22, 12, "Amazon S3\nmodel.tar.gz,\noutput.tar.gz", AWS, bold_first=True)
    box(ax, 76, 2, 22, 12, "CloudWatch Logs\nwhat the script prints", AWS, bold_first=True)
    arrow(ax, (24, 34), (38, 34), "1 CreateTrainingJob")
    arrow(ax, (76, 44), (62, 37), "2 download", offset=(0, 1.5))
    arrow(ax, (45, 13), (45, 22), "2 pull image", offset=(-7.5, -1.5))
    arrow(ax, (62, 29), (76, 26), "3 upload", offset=(0, 0.8))
    arrow(ax, (62, 24), (76, 10), "3 log lines", offset=(5, 0))
    arrow(ax, (76, 12), (16, 22), None, ls="--")
    arrow(ax, (76, 23), (24, 25), None, ls="--", rad=0.05)
    ax.text(2, 17, "4 status, logs and\nartifacts read back", fontsize=8.5, va="top", color=INK)
    ax.text(2, 48, "The notebook only sends the job and reads back its status, logs and\n"
            "artifacts; the script runs elsewhere, as the execution role.", fontsize=9,
            va="top", color=INK)
    return figure


def job_lifecycle():
    figure, ax = canvas(104, 54, "The life of a training job: status and secondary status")
    stages = [("Starting", "instances are\nprovisioned"),
              ("Downloading", "image pulled, File\nchannels copied"),
              ("Training", "requirements.txt,\nthen train.py"),
              ("Uploading", "model/ and\noutput/data/ to S3"),
              ("Completed", "artifacts in S3,\ninstances gone")]
    x = 2
    for i, (name, what) in enumerate(stages):
        colour = JOB if name != "Completed" else YOU
        box(ax, x, 24, 17, 14, f"{name}\n{what}", colour, size=8.5, bold_first=True)
        if i < len(stages) - 1:
            arrow(ax, (x + 17, 31), (x + 21, 31))
        x += 21
    ax.add_patch(FancyBboxPatch((2, 41), 80, 4, boxstyle="round,pad=0,rounding_size=0.8",
                                facecolor=GREY, edgecolor=INK, linewidth=0.8))
    ax.text(42, 43, "TrainingJobStatus: InProgress", ha="center", va="center", fontsize=9)
    ax.add_patch(FancyBboxPatch((86, 41), 16, 4, boxstyle="round,pad=0,rounding_size=0.8",
                                facecolor=YOU, edgecolor=INK, linewidth=0.8))
    ax.text(94, 43, "Completed", ha="center", va="center", fontsize=9)
    box(ax, 14, 3, 26, 13, "Failed\nany stage; FailureReason\nsays why", BAD, size=8.5,
        bold_first=True)
    box(ax, 56, 3, 36, 13, "Stopping → Stopped\nStopTrainingJob, or\nMaxRuntimeExceeded (max_run)",
        BAD, size=8.5, bold_first=True)
    for x0 in (10, 31, 52):
        arrow(ax, (x0, 24), (27, 16), ls="--")
    for x0 in (31, 52, 73):
        arrow(ax, (x0 + 2, 24), (74, 16), ls="--")
    ax.text(2, 49, "Secondary status (the stage) in boxes; TrainingJobStatus above them.",
            fontsize=9, va="top")
    return figure


def opt_ml_tree():
    figure, ax = canvas(100, 70, "The /opt/ml tree inside a training job")
    rows = [
        ("/opt/ml", None, ""),
        ("├── input/", None, ""),
        ("│   ├── config/", AWS, "SageMaker writes these before the script starts"),
        ("│   │   ├── hyperparameters.json", AWS, "the hyperparameters, as sent"),
        ("│   │   ├── inputdataconfig.json", AWS, "each channel's input mode"),
        ("│   │   └── resourceconfig.json", AWS, "host names, instance type"),
        ("│   └── data/", AWS, ""),
        ("│       ├── train/  (File, FastFile)", AWS, "SM_CHANNEL_TRAIN"),
        ("│       └── train_0, train_1 ... (Pipe)", AWS, "one FIFO per epoch"),
        ("├── code/", JOB, "sourcedir.tar.gz unpacked; working directory"),
        ("├── model/", YOU, "SM_MODEL_DIR → model.tar.gz"),
        ("├── output/", YOU, "SM_OUTPUT_DIR"),
        ("│   ├── data/", YOU, "SM_OUTPUT_DATA_DIR → output.tar.gz"),
        ("│   └── failure", YOU, "its text → FailureReason"),
        ("└── checkpoints/", YOU, "synced with checkpoint_s3_uri"),
    ]
    y = 59
    for path, colour, note in rows:
        if colour:
            ax.add_patch(FancyBboxPatch((3, y - 1.6), 44, 3.4, boxstyle="round,pad=0,rounding_size=0.6",
                                        facecolor=colour, edgecolor="none"))
        ax.text(4, y, path, family="DejaVu Sans Mono", fontsize=9, va="center", color=INK)
        ax.text(50, y, note, fontsize=9, va="center", color=INK)
        y -= 3.8
    for colour, label, x in ((AWS, "written by SageMaker", 3), (JOB, "by the toolkit", 35),
                             (YOU, "by your script; leaves the job", 60)):
        ax.add_patch(FancyBboxPatch((x, 1.5), 3, 2.4, boxstyle="square,pad=0", facecolor=colour,
                                    edgecolor=INK, linewidth=0.6))
        ax.text(x + 4, 2.7, label, fontsize=9, va="center")
    return figure


def input_modes():
    figure, ax = canvas(104, 58, "File vs FastFile vs Pipe: when the script starts, what it reads")
    ax.text(24, 50, "time after fit() →", fontsize=9, va="center")
    rows = [("File", "files in SM_CHANNEL_TRAIN;\nneeds disk (volume_size)",
             [(24, 38, AWS, "download the whole channel"), (62, 38, JOB, "train: read local files")]),
            ("FastFile", "the same files, streamed\non first read; read-only",
             [(24, 76, JOB, "train at once: each file fetched from S3 when opened")]),
            ("Pipe", "a FIFO per epoch:\ntrain_0, train_1, ...",
             [(24, 24, JOB, "epoch 0: train_0"), (48.5, 24, JOB, "epoch 1: train_1"),
              (73, 24, JOB, "epoch 2: train_2")])]
    y = 37
    for name, sees, spans in rows:
        box(ax, 2, y, 20, 10, f"{name}\n{sees}", YOU, size=8, bold_first=True)
        for x0, w, colour, label in spans:
            box(ax, x0, y + 2, w, 6, label, colour, size=8.5)
        y -= 15
    ax.text(2, 3.5, "File: the script starts after the download. FastFile and Pipe start at once;\n"
            "Pipe streams the objects in key order, each epoch's FIFO can be read once.",
            fontsize=9, va="center")
    return figure


def hyperparameters():
    figure, ax = canvas(104, 67, "A hyperparameter's journey: from your dict to argv and SM_HP_*")
    mono = "DejaVu Sans Mono"
    box(ax, 2, 44, 46, 12, 'hyperparameters={"epochs": 3,\n  "use-bn": True, "layers": [64, 32],\n'
        '  "optimizer": "adam"}', YOU, size=8.5, align="left", family=mono)
    ax.text(2, 57.5, "1  your dict (notebook)", fontsize=9, fontweight="bold")
    box(ax, 56, 44, 46, 12, 'HyperParameters: {"epochs": "3",\n  "use-bn": "true", "layers": "[64, 32]",\n'
        '  "optimizer": "\\"adam\\""}', AWS, size=8.5, align="left", family=mono)
    ax.text(56, 57.5, "2  CreateTrainingJob: strings, JSON-encoded by TensorFlow(...)", fontsize=9, fontweight="bold")
    arrow(ax, (48, 50), (56, 50))
    box(ax, 56, 24, 46, 10, "/opt/ml/input/config/hyperparameters.json:\nthe same strings, exactly as sent",
        JOB, size=8.5)
    ax.text(56, 35.5, "3  in the container", fontsize=9, fontweight="bold")
    arrow(ax, (79, 44), (79, 34))
    box(ax, 2, 14, 46, 12, "python train.py --epochs 3\n  --layers [64, 32] --optimizer adam\n"
        "  --use-bn True", JOB, size=8.5, align="left", family=mono)
    ax.text(2, 27.5, "4  argv: JSON-decoded, str(), sorted", fontsize=9, fontweight="bold")
    box(ax, 56, 2, 46, 14, "SM_HP_EPOCHS=3\nSM_HP_USE-BN=true\nSM_HP_LAYERS=[64,32]\n"
        "SM_HP_OPTIMIZER=adam", JOB, size=8.5, align="left", family=mono)
    ax.text(56, 17.5, "4  SM_HP_*: strings as is, others compact JSON", fontsize=9, fontweight="bold")
    arrow(ax, (56, 27), (48, 22))
    arrow(ax, (79, 24), (79, 19.5))
    ax.text(2, 8, "Framework estimators also add --model_dir\n(an S3 URI); parse with "
            "parse_known_args.\nNever type=bool: \"False\" is truthy.", fontsize=8.5, va="center")
    return figure


def archives():
    figure, ax = canvas(104, 56, "What leaves the job: model vs output archives")
    box(ax, 2, 34, 30, 10, "/opt/ml/model/\nSM_MODEL_DIR", YOU, size=9, bold_first=True)
    box(ax, 2, 20, 30, 10, "/opt/ml/output/data/\nSM_OUTPUT_DATA_DIR", YOU, size=9, bold_first=True)
    box(ax, 2, 6, 30, 10, "/opt/ml/output/failure\nwritten when the script fails", BAD, size=9,
        bold_first=True)
    box(ax, 44, 34, 22, 10, "model.tar.gz\nfor deployment", AWS, size=9, bold_first=True)
    box(ax, 44, 20, 22, 10, "output.tar.gz\nmetrics, plots, extras", AWS, size=9, bold_first=True)
    box(ax, 44, 6, 22, 10, "FailureReason\nin DescribeTrainingJob", GREY, size=9, bold_first=True)
    arrow(ax, (32, 39), (44, 39), "tar")
    arrow(ax, (32, 25), (44, 25), "tar")
    arrow(ax, (32, 11), (44, 11), "first 1,024\ncharacters", offset=(0, 0.4), size=7.5)
    box(ax, 74, 20, 28, 24, "S3\n<output_path>/<job>/output/\n  model.tar.gz\n  output.tar.gz\n\n"
        "estimator.model_data\nis the first one", AWS, size=8.5, bold_first=True)
    arrow(ax, (66, 39), (74, 36))
    arrow(ax, (66, 25), (74, 28))
    ax.text(2, 49, "Anything else the script writes (its working directory, /tmp) is lost with\n"
            "the instance. Checkpoints go to checkpoint_s3_uri instead.", fontsize=9, va="top")
    return figure


def hosts():
    figure, ax = canvas(104, 56, "One job, two hosts: sharded data, one model")
    box(ax, 2, 24, 22, 20, "S3\ntrain/\n  file 0000, 0001,\n  0002, 0003\nvalidation/\n  one file",
        AWS, size=8.5, align="left", bold_first=True)
    box(ax, 40, 33, 32, 14, "algo-1 (its own /opt/ml)\nSM_CURRENT_HOST=algo-1\nTF_CONFIG task index 0\n"
        "train/: 0000, 0002\nvalidation/: all", JOB, size=8.5, align="left", bold_first=True)
    box(ax, 40, 4, 32, 14, "algo-2 (its own /opt/ml)\nSM_CURRENT_HOST=algo-2\nTF_CONFIG task index 1\n"
        "train/: 0001, 0003\nvalidation/: all", JOB, size=8.5, align="left", bold_first=True)
    arrow(ax, (24, 39), (40, 41), "ShardedByS3Key:\nhalf the files", offset=(0, 0.6), size=7.5)
    arrow(ax, (24, 29), (40, 13), "the other half;\nvalidation to both", offset=(-4, -7), size=7.5)
    arrow(ax, (56, 33), (56, 18), style="<|-|>")
    ax.text(57.5, 25.5, "all-reduce the gradients\nat every step (port 8890)", fontsize=7.5, va="center",
            color=INK)
    box(ax, 80, 17, 22, 17, "model.tar.gz\nevery host's\nSM_MODEL_DIR,\nmerged: only the\nchief (algo-1) saves",
        AWS, size=8.5, bold_first=True)
    arrow(ax, (72, 40), (80, 30))
    arrow(ax, (72, 11), (80, 21), ls="--")
    ax.text(2, 18, "instance_count=2: the same\nscript on both hosts, each\nwith its own log stream;\n"
            "N instances bill N times.", fontsize=8.5, va="top", color=INK)
    return figure

DRAW = {"architecture": architecture, "job_lifecycle": job_lifecycle, "opt_ml_tree": opt_ml_tree,
        "input_modes": input_modes, "hyperparameters": hyperparameters, "archives": archives,
        "hosts": hosts}


def draw_all(folder: Path = HERE) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(STYLE):
        for name in NAMES:
            figure = DRAW[name]()
            path = folder / f"{name}.svg"
            figure.savefig(path, format="svg", metadata={"Date": None, "Creator": "notebooks/diagrams/draw.py"})
            plt.close(figure)
            written.append(path)
    return written


if __name__ == "__main__":
    for written in draw_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written.name)
