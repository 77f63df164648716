"""The model of the byo-digits image, in plain Python: one mean image per digit, and a digit
is read as the one whose mean image is nearest. No packages needed, so no requirements.txt."""
import csv
import glob
import os


def load(folder):
    """Every row of every CSV file in a channel's folder: (label, [64 pixel values])."""
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        with open(path, newline="") as f:
            reader = csv.reader(f)
            next(reader)  # the header
            rows += [(int(float(r[0])), [float(v) for v in r[1:]]) for r in reader]
    if not rows:
        raise ValueError(f"no CSV rows in {os.path.basename(folder)!r}")
    return rows


def fit(rows):
    """{digit: its mean image}."""
    sums, counts = {}, {}
    for label, pixels in rows:
        total = sums.setdefault(label, [0.0] * len(pixels))
        for i, value in enumerate(pixels):
            total[i] += value
        counts[label] = counts.get(label, 0) + 1
    return {str(label): [v / counts[label] for v in total] for label, total in sorted(sums.items())}


def predict(model, pixels):
    return int(min(model, key=lambda d: sum((m - p) ** 2 for m, p in zip(model[d], pixels))))


def accuracy(model, rows):
    return sum(predict(model, pixels) == label for label, pixels in rows) / len(rows)
