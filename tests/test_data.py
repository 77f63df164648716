"""The committed digits data is exactly what data/build_digits.py makes."""
import hashlib
import importlib.util
import json

from conftest import REPO


def load_builder():
    spec = importlib.util.spec_from_file_location("build_digits", REPO / "data" / "build_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuild_matches_committed_files(tmp_path):
    committed = json.loads((REPO / "data" / "digits" / "manifest.json").read_text())
    rebuilt = load_builder().build(tmp_path)
    assert rebuilt == committed
    for name, entry in committed["files"].items():
        digest = hashlib.sha256((REPO / "data" / "digits" / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} differs from its manifest entry"


def test_split_counts_and_labels():
    manifest = json.loads((REPO / "data" / "digits" / "manifest.json").read_text())
    assert manifest["records"] == {"train": 1438, "validation": 359}  # sklearn's 1,797 digits
    rows = (REPO / "data" / "digits" / "csv" / "validation.csv").read_text().splitlines()
    assert rows[0].split(",")[:2] == ["label", "p0"] and len(rows[0].split(",")) == 65
    labels = {int(r.split(",")[0]) for r in rows[1:]}
    assert labels == set(range(10))
