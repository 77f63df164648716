"""The repository's promises: pins in step, the README's two commands, CI running the second."""
import re
try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

import pytest

from conftest import REPO


def pyproject_deps():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]


def environment_yml_pip_deps():
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "- pip:")
    deps = [l.strip()[2:].strip().strip('"') for l in lines[start + 1:] if l.strip().startswith("- ")]
    return [d for d in deps if d != "-e ."], deps


def test_environment_yml_matches_pyproject():
    deps, everything = environment_yml_pip_deps()
    assert deps == pyproject_deps()
    assert "-e ." in everything  # the conda env installs the package itself


def test_constraints_pin_every_dependency():
    pinned = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[re.sub(r"[-_.]+", "-", name.lower())] = version
    for dep in pyproject_deps():
        name = re.sub(r"[-_.]+", "-", re.split(r"[\[<>=;! ]", dep)[0].lower())
        if name == "tensorflow":
            continue  # only on non-x86-64 Linux; the lock is resolved on x86-64 Linux
        assert name in pinned, f"{name} is not pinned in constraints.txt"
    assert pinned["sagemaker"].startswith("2.")


def quick_start_commands():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", section, re.S).group(1)
    return [l for l in block.splitlines() if l.strip() and not l.strip().startswith("#")]


def test_readme_quick_start_has_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert "lab" in commands[0] and "test" in commands[1]


def test_ci_runs_the_readmes_second_command_verbatim():
    lines = [l for l in (REPO / ".ci" / "run").read_text().splitlines()
             if l.strip() and not l.startswith("#") and not l.startswith(("set ", "cd "))]
    assert lines[-1] == quick_start_commands()[1]  # the test command, last and verbatim
    browser_step = lines[:-1]  # the one marked extra step: the browser for test_browser.py
    assert all("chromium" in l or l.strip() in ("fi",) for l in browser_step), browser_step


def test_make_test_installs_before_testing():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: setup", makefile, re.M)
    assert "-c constraints.txt -e ." in makefile


@pytest.mark.parametrize("path", ["notebooks", "sm_tutorial", "data", "tests", "benchmarks",
                                  "environment.yml", "pyproject.toml", "README.md", ".ci/run"])
def test_layout(path):
    assert (REPO / path).exists()
