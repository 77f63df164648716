"""The repository's promises: one Python range, one lock for it, the README's two commands, CI running the second."""
import re
try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

import pytest

from conftest import REPO
from sm_tutorial.python_support import NEWEST, OLDEST, RANGE, TENSORFLOW


def pyproject_deps():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]


def environment_yml_pip_deps():
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "- pip:")
    deps = [l.strip()[2:].strip().strip('"') for l in lines[start + 1:] if l.strip().startswith("- ")]
    return [d for d in deps if d not in ("-e .", "-c constraints.txt")], deps


def test_environment_yml_matches_pyproject():
    deps, everything = environment_yml_pip_deps()
    assert deps == pyproject_deps()
    assert everything[0] == "-c constraints.txt"  # the conda env installs from the same lock
    assert "-e ." in everything  # the conda env installs the package itself
    python = [l.strip() for l in (REPO / "environment.yml").read_text().splitlines()
              if l.strip().startswith("- python")]
    assert python == [f"- python{requires_python()}"]


def requires_python():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]


def normalise(name):
    return re.sub(r"[-_.]+", "-", name.lower())


def lock_for(python, platform="linux", machine="x86_64"):
    """The pins constraints.txt gives one environment: {name: version}; a name twice fails."""
    from packaging.markers import Marker
    env = {"python_full_version": python, "python_version": python.rsplit(".", 1)[0],
           "sys_platform": platform, "platform_machine": machine, "platform_system": platform.title(),
           "os_name": "posix", "implementation_name": "cpython",
           "platform_python_implementation": "CPython"}
    pinned = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pin, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker).evaluate(env):
            continue
        name, version = pin.strip().split("==")
        assert normalise(name) not in pinned, f"{name} pinned twice for Python {python}: {line}"
        pinned[normalise(name)] = version
    return pinned


SUPPORTED = [f"3.{minor}.0" for minor in range(OLDEST[1], NEWEST[1] + 1)]


@pytest.mark.parametrize("python", SUPPORTED)
def test_constraints_pin_every_dependency_on_every_supported_python(python):
    from packaging.requirements import Requirement
    pinned = lock_for(python)
    for dep in pyproject_deps():
        requirement = Requirement(dep)
        env = {"python_full_version": python, "sys_platform": "linux", "platform_machine": "x86_64"}
        if requirement.marker and not requirement.marker.evaluate(env):
            continue  # tensorflow: only where tensorflow-cpu has no wheel (checked below)
        name = normalise(requirement.name)
        assert name in pinned, f"{name} is not pinned in constraints.txt for Python {python}"
        assert requirement.specifier.contains(pinned[name]), (name, pinned[name], dep)
    assert pinned["sagemaker"].startswith("2.")
    assert pinned["tensorflow-cpu"].startswith(TENSORFLOW + ".")  # what the doctor's message names


def test_constraints_cover_macos_too():
    pinned = lock_for("3.12.0", platform="darwin", machine="arm64")
    assert "tensorflow" in pinned and "tensorflow-cpu" not in pinned


def test_lock_is_universal_and_the_readme_says_how_to_regenerate_it():
    header = (REPO / "constraints.txt").read_text().splitlines()[:2]
    command = header[1].lstrip("# ").strip()
    assert command.startswith("uv pip compile") and "--universal" in command
    assert f"--python-version {OLDEST[0]}.{OLDEST[1]}" in command  # resolved from the oldest up
    assert f"`{command}`" in (REPO / "README.md").read_text()


def test_one_python_range_everywhere():
    assert requires_python() == f">={OLDEST[0]}.{OLDEST[1]},<{NEWEST[0]}.{NEWEST[1] + 1}"
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```", 1)[0]
    assert f"Python {RANGE}" in quick_start
    assert not re.search(r"3\.1[0-9]-3\.1[0-9]", readme.replace(RANGE, "")), "another range in README"
    makefile = (REPO / "Makefile").read_text()
    setup_recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    gate = setup_recipe.index("$(PYTHON) sm_tutorial/python_support.py")
    assert gate < setup_recipe.index("-m venv"), "the version gate must run before the venv exists"


def test_this_environment_has_exactly_the_locked_versions():
    """What `make setup` installed on this Python is what constraints.txt locks for it."""
    import sys
    from importlib import metadata
    lock = lock_for("%d.%d.%d" % sys.version_info[:3])
    installed = {normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}
    tooling = {"pip", "setuptools", "wheel", "sm-tutorial"}  # the venv's own, and the course
    if "tensorflow-cpu" in lock:  # the keras2 extra's tf-keras (and the tensorflow it names)
        tooling |= {"tf-keras", "tensorflow"}  # live in .venv/keras2, checked below
    off = {name: (version, lock.get(name)) for name, version in installed.items()
           if name in lock and name not in tooling and lock[name] != version}
    assert not off, f"installed (version, locked): {off}; reinstall: rm -rf .venv && make setup"
    assert set(lock) - tooling <= set(installed)  # nothing locked for this Python is missing


def test_keras2_for_old_tensorflow_jobs_is_the_locked_tf_keras_beside_the_environment():
    """`make setup` puts tf-keras (pinned with TensorFlow) in .venv/keras2, not in the environment."""
    import sys
    from importlib import metadata
    from sm_tutorial.platform import frameworks
    lock = lock_for("%d.%d.%d" % sys.version_info[:3])
    found = {d.metadata["Name"]: d.version for d in metadata.distributions(path=[str(frameworks.keras2_folder())])}
    assert found == {"tf_keras": lock["tf-keras"]} or found == {"tf-keras": lock["tf-keras"]}, found
    assert lock["tf-keras"].rsplit(".", 1)[0] == lock.get("tensorflow-cpu", lock["tensorflow"]).rsplit(".", 1)[0]
    assert "tf-keras" not in {normalise(d.metadata["Name"]) for d in metadata.distributions()}


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
    assert lines[-2] == quick_start_commands()[1]  # the test command, verbatim
    browser_step = lines[:-2]  # the one marked extra step before: the browser for test_browser.py
    assert all("chromium" in l or l.strip() in ("fi",) for l in browser_step), browser_step
    assert lines[-1] == ".ci/smoke-python"  # after it: the other supported Pythons, if any


def test_make_test_installs_before_testing():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: setup", makefile, re.M)
    installs = [l.strip() for l in makefile.splitlines() if "pip install" in l and "-e ." in l]
    # one install, from the lock, whatever the Python version
    assert installs == ["$(BIN)/python -m pip install --quiet -c constraints.txt -e ."]


@pytest.mark.parametrize("path", ["notebooks", "sm_tutorial", "data", "tests", "benchmarks",
                                  "environment.yml", "pyproject.toml", "README.md", ".ci/run",
                                  ".ci/smoke-python"])
def test_layout(path):
    assert (REPO / path).exists()


PACKAGE = REPO / "sm_tutorial"
MAX_MODULE_LINES = 400


def module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports():
    """{module: {module of the package it imports}}, from the source with ast: every import
    statement, those inside functions too. `from X import y` counts as importing X.y when that
    is a module of the package, else X."""
    import ast
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")[:len(name.split(".")) - node.level + is_package]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                           for alias in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def test_container_never_imports_the_platform():
    """The contract a script sees does not depend on the service that runs it."""
    offenders = {m: sorted(i for i in imports if i.startswith("sm_tutorial.platform"))
                 for m, imports in package_imports().items() if m.startswith("sm_tutorial.container")}
    offenders = {m: i for m, i in offenders.items() if i}
    assert not offenders, f"the container imports the platform: {offenders}"


def test_no_import_cycles():
    graph = package_imports()
    done, path = set(), []

    def visit(module):
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph[module]):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_modules_stay_small():
    too_long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py")
                if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not too_long, f"over {MAX_MODULE_LINES} lines: {too_long}"
