"""The supported-Python range at work: the Makefile's gate, discovery of the other supported
Pythons, and `.ci/smoke-python`, all without needing other interpreters (fake ones stand in)."""
import io
import os
import subprocess
import sys

from conftest import REPO
from sm_tutorial import python_support

SHIM = "pyenv: {name}: command not found\n\nThe `{name}' command exists in these Python versions:\n"


def fake_python(folder, name, version=None, fail=None):
    """An executable `name` in `folder` that reports `version`, or fails like a pyenv shim."""
    script = folder / name
    if fail:
        script.write_text(f"#!/bin/sh\ncat >&2 <<'EOF'\n{SHIM.format(name=name)}EOF\nexit {fail}\n")
    else:
        script.write_text(f"#!/bin/sh\necho {version}\n")
    script.chmod(0o755)
    return script


def pretend_python(folder, version=(3, 14, 0)):
    """A real Python that says it is `version` while it runs a script: stands in for 3.14."""
    code = (f"import runpy, sys; sys.version_info = {tuple(version) + ('final', 0)!r}; "
            "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    script = folder / f"python{version[0]}.{version[1]}"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -c \"{code}\" \"$@\"\n")
    script.chmod(0o755)
    return script


def test_discovery_runs_each_candidate_and_says_why_it_skipped_one(tmp_path):
    fake_python(tmp_path, "python3.13", "3.13.1")
    fake_python(tmp_path, "python3.12", fail=127)          # a pyenv shim, version not selected
    fake_python(tmp_path, "python3.10", "3.11.2")          # not what its name says
    found, skipped = python_support.others(current=(3, 11), path=str(tmp_path))
    assert found == [("python3.13", (3, 13, 1))]
    why = dict(skipped)
    assert "does not run (exit 127): pyenv: python3.12: command not found" in why["python3.12"]
    assert "pyenv can select it" in why["python3.12"]
    assert "same minor version" in why["python3.11"]        # never the suite's own minor twice
    assert "is Python 3.11.2, not what its name says" in why["python3.10"]
    assert list(why) == ["python3.12", "python3.11", "python3.10"]


def test_discovery_skips_what_is_not_on_path(tmp_path):
    found, skipped = python_support.others(current=(3, 11), path=str(tmp_path))
    assert found == []
    assert dict(skipped)["python3.13"] == "not on PATH"


def test_others_prints_the_found_pythons_and_reports_the_rest(tmp_path):
    fake_python(tmp_path, "python3.12", "3.12.7")
    fake_python(tmp_path, "python3.10", "3.10.15")
    out, err = io.StringIO(), io.StringIO()
    code = python_support.main(["--others"], version=(3, 13, 0), path=str(tmp_path), out=out, err=err)
    assert code == 0
    assert out.getvalue() == "python3.12\npython3.10\n"     # newest first, one a line
    assert "Python 3.13.0 runs the full suite" in err.getvalue()
    assert "found    python3.12 (3.12.7)" in err.getvalue()
    assert "skipped  python3.13: same minor version" in err.getvalue()
    assert "skipped  python3.11: not on PATH" in err.getvalue()


def test_gate_on_an_unsupported_python_names_a_supported_one_found_here(tmp_path):
    fake_python(tmp_path, "python3.12", "3.12.7")
    err = io.StringIO()
    assert python_support.main([], version=(3, 14, 0), path=str(tmp_path), err=err) == 1
    assert "Python 3.14 is too new: TensorFlow 2.21" in err.getvalue()
    assert "run `make PYTHON=python3.12 lab` instead" in err.getvalue()
    assert python_support.main([], version=(3, 13, 0), path=str(tmp_path), err=err) == 0


def test_make_stops_on_python_3_14_before_creating_the_venv(tmp_path):
    python = pretend_python(tmp_path)
    venv = tmp_path / "venv"
    done = subprocess.run(["make", "-C", str(REPO), "setup", f"PYTHON={python}", f"VENV={venv}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Python 3.14 is too new: TensorFlow 2.21" in done.stderr
    assert "make PYTHON=python3.1" in done.stderr           # the command to run instead
    assert not venv.exists()


def smoke(args, path, tmp_path):
    env = dict(os.environ, PATH=f"{path}{os.pathsep}{os.environ['PATH']}", PYTHON=sys.executable,
               TMPDIR=str(tmp_path))
    return subprocess.run([str(REPO / ".ci" / "smoke-python"), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_smoke_check_with_no_other_python_says_what_it_skipped(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for minor in (10, 11, 12, 13):  # shadow any real ones: shims that do not run
        fake_python(bin_dir, f"python3.{minor}", fail=127)
    done = smoke([], bin_dir, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no other supported Python on this machine" in done.stdout
    assert "skipped  python3.13:" in done.stderr and "does not run" in done.stderr
    assert f"skipped  python3.{sys.version_info[1]}: same minor version" in done.stderr


def test_smoke_check_refuses_an_unsupported_python_with_the_reason(tmp_path):
    python = pretend_python(tmp_path)
    done = smoke([str(python)], tmp_path, tmp_path)
    assert done.returncode != 0
    assert "Python 3.14 is too new" in done.stderr
    assert "fresh venv" not in done.stdout                   # stopped before installing anything
