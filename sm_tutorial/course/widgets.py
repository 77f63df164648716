"""Widgets for the lessons, each with a plain-text twin.

In JupyterLab they are ipywidgets; their ``text/plain`` is the text twin, so nbval, a terminal
or an exported notebook still show something meaningful (and stable).
"""
from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any, Mapping

import ipywidgets as w

from ..container import arguments, environment


class _WithText(w.VBox):
    """A VBox whose text/plain is ``self.text()`` instead of the widget's repr."""

    def text(self) -> str:  # pragma: no cover - overridden
        return ""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()
        return bundle


# -- the container tree --------------------------------------------------------------------
HIDDEN = ("build", "__pycache__")  # pip's build debris in code/, not part of the contract


def _entries(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir()
                   if p.name not in HIDDEN and not p.name.endswith(".egg-info")),
                  key=lambda p: (not p.is_dir(), p.name))


def tree_lines(root: Path, max_files: int = 6) -> list[str]:
    """An indented listing of ``root`` (the job's /opt/ml), a few files per folder."""
    lines = ["/opt/ml"]

    def walk(folder: Path, depth: int) -> None:
        entries = _entries(folder)
        files = [p for p in entries if not p.is_dir()]
        for entry in entries:
            if entry.is_dir():
                lines.append("  " * depth + entry.name + "/")
                walk(entry, depth + 1)
        for entry in files[:max_files]:
            size = entry.lstat().st_size if not entry.is_symlink() else 0
            lines.append("  " * depth + f"{entry.name} ({size} B)")
        if len(files) > max_files:
            lines.append("  " * depth + f"... {len(files) - max_files} more files")
    walk(root, 1)
    return lines


class ContainerTree(_WithText):
    """Browse a finished job's /opt/ml: folders expand, files show their content."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._viewer = w.HTML(value="<i>Click a file to see it.</i>")
        super().__init__([w.HBox([self._folder(self.root, "/opt/ml"), self._viewer])])

    def _folder(self, folder: Path, label: str) -> w.Widget:
        children, titles = [], []
        for entry in _entries(folder):
            if entry.is_dir():
                children.append(self._folder(entry, entry.name + "/"))
                titles.append(entry.name + "/")
        files = [e for e in _entries(folder) if not e.is_dir()]
        buttons = [w.Button(description=f.name, layout=w.Layout(width="auto")) for f in files]
        for button, path in zip(buttons, files):
            button.on_click(lambda _, p=path: self.show(p))
        box = w.VBox(([w.Accordion(children=children, titles=tuple(titles))] if children else []) + buttons,
                     layout=w.Layout(min_width="260px"))
        return box if folder != self.root else w.VBox([w.HTML(f"<b>{label}</b>"), box])

    def show(self, path: Path) -> str:
        """Put a file's text in the viewer (also returned)."""
        try:
            text = path.read_text()[:4000]
        except (UnicodeDecodeError, OSError):
            text = f"({path.stat().st_size} bytes of binary data)"
        if path.suffix == ".json":
            try:
                text = json.dumps(json.loads(text), indent=2)
            except ValueError:
                pass
        self._viewer.value = f"<b>{html.escape(str(path.relative_to(self.root)))}</b><pre>{html.escape(text)}</pre>"
        return text

    def text(self) -> str:
        return "\n".join(tree_lines(self.root))


def container_tree(root: Path) -> ContainerTree:
    return ContainerTree(root)


# -- the job timeline ----------------------------------------------------------------------
STAGES = ("Starting", "Downloading", "Training", "Uploading")


def timeline_text(description: Mapping[str, Any]) -> str:
    """``Starting -> Downloading -> Training -> Uploading -> Completed``."""
    return " -> ".join(t["Status"] for t in description.get("SecondaryStatusTransitions", []))


class JobTimeline(_WithText):
    """A progress bar per stage of a job, updated while it runs."""

    def __init__(self, session, job_name: str, poll: float = 0.1):
        self.session, self.job_name, self.poll = session, job_name, poll
        self._bars = {s: w.FloatProgress(min=0, max=1, description=s, bar_style="info") for s in STAGES}
        self._status = w.HTML()
        self.description: dict = {}
        super().__init__([w.HTML(f"<b>Training job</b> {html.escape(job_name)}"),
                          *self._bars.values(), self._status])

    def refresh(self) -> dict:
        d = self.session.describe_training_job(self.job_name)
        self.description = d
        seen = [t["Status"] for t in d.get("SecondaryStatusTransitions", [])]
        for stage, bar in self._bars.items():
            if stage in seen:
                done = stage != seen[-1] or d["TrainingJobStatus"] != "InProgress"
                bar.value = 1.0 if done else 0.5
                bar.bar_style = "success" if done else "info"
        final = d["TrainingJobStatus"]
        self._status.value = f"Status: <b>{final}</b> ({d['SecondaryStatus']})" + (
            f"<br>Reason: {html.escape(d['FailureReason'])}" if d.get("FailureReason") else "")
        return d

    def wait(self, timeout: float = 600) -> dict:
        deadline = time.time() + timeout
        while self.refresh()["TrainingJobStatus"] in ("InProgress", "Stopping") and time.time() < deadline:
            time.sleep(self.poll)
        return self.description

    def text(self) -> str:
        return f"Timeline of training job {self.job_name} (a live widget in JupyterLab)"


def watch_job(session, job_name: str, timeout: float = 600) -> dict:
    """Show a job's timeline widget, follow it to the end, then print the timeline as text."""
    from IPython.display import display
    timeline = JobTimeline(session, job_name)
    display(timeline)
    description = timeline.wait(timeout)
    print(timeline_text(description))
    return description


# -- the hyperparameter explorer -----------------------------------------------------------
def hyperparameter_views(hps: Mapping[str, Any]) -> dict[str, Any]:
    """What one dict becomes on its way into the container: the wire, argv and SM_HP_*."""
    wire = {k: json.dumps(v) for k, v in hps.items()}  # what framework estimators send
    user = arguments.user_hyperparameters(wire)
    env = {f"SM_HP_{k.upper()}": environment._format(v) for k, v in user.items()}
    return {"wire": wire, "argv": arguments.to_cmd_args(user), "env": env}


def hyperparameter_text(hps: Mapping[str, Any]) -> str:
    views = hyperparameter_views(hps)
    lines = ["wire (HyperParameters in CreateTrainingJob):"]
    lines += [f"  {k!r}: {v!r}" for k, v in views["wire"].items()]
    lines += ["argv (python train.py + these):", f"  {views['argv']}", "environment:"]
    lines += [f"  {k}={v}" for k, v in views["env"].items()]
    return "\n".join(lines)


class HyperparameterExplorer(_WithText):
    """Edit a hyperparameter dict (as Python) and watch the wire, argv and SM_HP_* change."""

    def __init__(self, hps: Mapping[str, Any]):
        self.hps = dict(hps)
        self._editor = w.Textarea(value=repr(self.hps), layout=w.Layout(width="100%", height="80px"))
        self._out = w.HTML()
        self._editor.observe(self._changed, names="value")
        self._render()
        super().__init__([w.HTML("<b>hyperparameters=</b> (edit me)"), self._editor, self._out])

    def _changed(self, change) -> None:
        import ast
        try:
            value = ast.literal_eval(change["new"])
            if not isinstance(value, dict):
                raise ValueError("not a dict")
            self.hps = value
            self._render()
        except (ValueError, SyntaxError) as error:
            self._out.value = f"<i>Not a Python dict yet: {html.escape(str(error))}</i>"

    def _render(self) -> None:
        self._out.value = f"<pre>{html.escape(hyperparameter_text(self.hps))}</pre>"

    def text(self) -> str:
        return hyperparameter_text(self.hps)


# -- the hosts of a multi-instance job -----------------------------------------------------
def hosts_rows(seen: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """The side-by-side rows of what each host saw (``seen``: lesson 8's ``hosts_seen``)."""
    from .lessons.lesson8 import short_names
    hosts = list(seen)
    every = sorted({f for info in seen.values() for files in info["channels"].values() for f in files})
    short, pattern = short_names(every)
    name = dict(zip(every, short))
    rows = [("SM_CURRENT_HOST", [seen[h]["SM_CURRENT_HOST"] for h in hosts]),
            ("SM_HOSTS", [seen[h]["SM_HOSTS"] for h in hosts])]
    configs = [json.loads(seen[h]["TF_CONFIG"]) if seen[h].get("TF_CONFIG") else None for h in hosts]
    rows.append(("TF_CONFIG task", [json.dumps(c["task"], sort_keys=True) if c else "(not set)"
                                    for c in configs]))
    channels = sorted({c for info in seen.values() for c in info["channels"]})
    for channel in channels:
        rows.append((f"{channel}/", [", ".join(name[f] for f in seen[h]["channels"].get(channel, []))
                                     or "(empty)" for h in hosts]))
    notes = []
    clusters = {json.dumps(c["cluster"], sort_keys=True) for c in configs if c}
    if len(clusters) == 1:
        notes.append(("TF_CONFIG cluster", [f"{clusters.pop()} (the same on every host)"]))
    if pattern:
        notes.append(("files", [pattern]))
    return rows + notes, hosts


def hosts_text(seen: Mapping[str, Mapping[str, Any]]) -> str:
    rows, hosts = hosts_rows(seen)
    label = max(len(r[0]) for r in rows) + 2
    widths = [max([len(h)] + [len(r[1][i]) for r in rows if len(r[1]) == len(hosts)]) + 2
              for i, h in enumerate(hosts)]
    lines = [" " * label + "".join(h.ljust(w) for h, w in zip(hosts, widths))]
    for title, cells in rows:
        if len(cells) == len(hosts) and len(hosts) > 1 or title in ("SM_CURRENT_HOST", "SM_HOSTS"):
            lines.append(title.ljust(label) + "".join(c.ljust(w) for c, w in zip(cells, widths)))
        else:
            lines.append(title.ljust(label) + cells[0])
    return "\n".join(line.rstrip() for line in lines)


class HostsView(_WithText):
    """What each host of a job was told and given: pick a host to see its details."""

    def __init__(self, seen: Mapping[str, Mapping[str, Any]]):
        self.seen = dict(seen)
        self._picker = w.ToggleButtons(options=list(self.seen), description="host")
        self._detail = w.HTML()
        self._picker.observe(lambda change: self.show(change["new"]), names="value")
        self.show(self._picker.value)
        table = w.HTML(f"<pre>{html.escape(hosts_text(self.seen))}</pre>")
        super().__init__([w.HTML("<b>The job's hosts, side by side</b>"), table, self._picker, self._detail])

    def show(self, host: str) -> str:
        """Put one host's full record in the viewer (also returned)."""
        info = dict(self.seen[host])
        if info.get("TF_CONFIG"):
            info["TF_CONFIG"] = json.loads(info["TF_CONFIG"])
        text = json.dumps(info, indent=2)
        self._detail.value = f"<b>{html.escape(host)}</b><pre>{html.escape(text)}</pre>"
        return text

    def text(self) -> str:
        return hosts_text(self.seen)


def hosts_view(seen: Mapping[str, Mapping[str, Any]]) -> HostsView:
    return HostsView(seen)


# -- predicted digits ----------------------------------------------------------------------
def predictions_text(predicted, labels) -> str:
    """``predicted 1 2 5 ... / true 1 2 5 ...``, and how many agree."""
    predicted, labels = [int(p) for p in predicted], [int(t) for t in labels]
    right = sum(p == t for p, t in zip(predicted, labels))
    return (f"predicted {' '.join(map(str, predicted))}\n"
            f"true      {' '.join(map(str, labels))}\n"
            f"{right} of {len(labels)} right")


def _digit_png(pixels, size: int = 48) -> bytes:
    """One 8x8 digit (pixels 0-16) as a small grey PNG, dark ink on white."""
    import io
    import numpy as np
    from PIL import Image
    ink = (255 - np.asarray(pixels, dtype=float).reshape(8, 8) * 255 / 16).clip(0, 255)
    image = Image.fromarray(ink.astype("uint8")).resize((size, size), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class DigitPredictions(_WithText):
    """Each digit as a small image, with what the endpoint said and the true label under it
    (red where they differ)."""

    def __init__(self, images, predicted, labels):
        self.predicted, self.labels = list(predicted), list(labels)
        cells = []
        for pixels, guess, truth in zip(images, self.predicted, self.labels):
            colour = "green" if int(guess) == int(truth) else "red"
            cells.append(w.VBox([w.Image(value=_digit_png(pixels), format="png", width=48, height=48),
                                 w.HTML(f"<span style='color:{colour}'>{int(guess)}</span> "
                                        f"<small>(true {int(truth)})</small>")]))
        super().__init__([w.HBox(cells)])

    def text(self) -> str:
        return predictions_text(self.predicted, self.labels)


def digit_predictions(images, predicted, labels) -> DigitPredictions:
    return DigitPredictions(images, predicted, labels)
