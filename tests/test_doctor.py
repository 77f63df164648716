"""`sm-tutorial doctor` says what to fix for each missing piece."""
import subprocess
import sys

import pytest

from sm_tutorial.cli.doctor import check_all, installed_version, report


def by_name(checks):
    return {c.name: c for c in checks}


def test_clean_environment_reports_all_good():
    text, code = report(check_all())
    assert code == 0, text
    assert "All good" in text


def test_missing_tensorflow_names_the_install_command():
    checks = by_name(check_all(version_of=lambda d: None if d.startswith("tensorflow")
                               else installed_version(d)))
    tf = checks["TensorFlow"]
    assert not tf.ok and "not installed" in tf.detail
    assert "pip install" in tf.fix and "tensorflow-cpu" in tf.fix
    text, code = report(list(checks.values()))
    assert code == 1 and "FIX  TensorFlow" in text


def test_sdk_v3_is_refused_with_the_reason():
    checks = by_name(check_all(version_of=lambda d: "3.1.0" if d == "sagemaker" else installed_version(d)))
    sdk = checks["SageMaker Python SDK"]
    assert not sdk.ok and "<3" in sdk.fix and "Estimator" in sdk.fix


def test_old_python_low_disk_and_bad_mode(monkeypatch):
    monkeypatch.setenv("SM_TUTORIAL_MODE", "cloud")
    checks = by_name(check_all(python=(3, 9), free_bytes=lambda p: 10))
    assert not checks["Python"].ok and "make PYTHON=python3." in checks["Python"].fix
    assert not checks["free disk"].ok and "SM_TUTORIAL_WORKSPACE" in checks["free disk"].fix
    assert not checks["mode"].ok


@pytest.mark.parametrize("python", [(3, 10), (3, 11), (3, 12), (3, 13)])
def test_every_supported_python_passes(python):
    assert by_name(check_all(python=python))["Python"].ok


@pytest.mark.parametrize("python", [(3, 14), (3, 15)])
def test_too_new_python_says_tensorflow_has_no_wheel_and_what_to_run(python):
    check = by_name(check_all(python=python))["Python"]
    assert not check.ok
    assert f"Python 3.{python[1]} is too new" in check.detail
    assert "TensorFlow 2.21" in check.detail and f"no wheel for Python 3.{python[1]}" in check.detail
    assert "3.10-3.13" in check.detail
    assert "make PYTHON=python3.1" in check.fix and " lab`" in check.fix
    text, code = report([check])
    assert code == 1 and "FIX  Python: Python 3." in text and "-> " in text


@pytest.mark.parametrize("python", [(3, 9), (3, 6), (2, 7)])
def test_too_old_python_says_why_and_what_to_run(python):
    check = by_name(check_all(python=python))["Python"]
    assert not check.ok
    assert f"Python {python[0]}.{python[1]} is too old" in check.detail
    assert "need Python 3.10 or newer" in check.detail and "TensorFlow" in check.detail
    assert "make PYTHON=python3.1" in check.fix


def test_the_fix_names_a_supported_python_found_on_this_machine_or_one_to_install():
    from sm_tutorial.python_support import fix
    assert fix(["python3.13", "python3.10"]) == (
        "run `make PYTHON=python3.13 lab` instead (python3.13 is on this machine)")
    assert fix([]).startswith("install Python 3.12 (any of 3.10-3.13")
    assert fix([]).endswith("then run `make PYTHON=python3.12 lab`")


def test_real_credentials_are_reported_but_not_used():
    checks = by_name(check_all(environ={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00"}))
    assert "found" in checks["mode"].detail and "never uses them" in checks["mode"].detail


def test_cli_entry_point_runs_doctor():
    done = subprocess.run([sys.executable, "-m", "sm_tutorial", "doctor"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   TensorFlow" in done.stdout
