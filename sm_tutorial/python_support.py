"""Which Pythons the course runs on, why not the others, and which supported ones this machine has.

The one place for the range. `sm-tutorial doctor` imports it; the Makefile runs this file with
the chosen Python before anything is installed (so it imports nothing else of the course, and
still runs on old Pythons); `.ci/smoke-python` runs it with `--others` to find the other
supported Pythons on this machine. tests/test_packaging.py checks that pyproject.toml,
environment.yml, the Makefile and README.md say the same.

    python sm_tutorial/python_support.py           exit 0 on a supported Python, else why + fix
    python sm_tutorial/python_support.py --others  print the other supported Pythons on PATH
"""
import os
import shutil
import subprocess
import sys

OLDEST = (3, 10)
NEWEST = (3, 13)
TENSORFLOW = "2.21"      # the release in constraints.txt (a test keeps them in step)
SUGGESTED = "python3.12"  # what to install when no supported Python is found


def label(version):
    return "%d.%d" % tuple(version[:2])


RANGE = "%s-%s" % (label(OLDEST), label(NEWEST))


def supported(version):
    return OLDEST <= tuple(version[:2]) <= NEWEST


def why_not(version):
    """Why the course cannot run on this Python, or None when it can."""
    if supported(version):
        return None
    if tuple(version[:2]) > NEWEST:
        return ("Python %s is too new: TensorFlow %s, which the course's jobs run on, has no wheel "
                "for Python %s yet (the course supports Python %s)"
                % (label(version), TENSORFLOW, label(version), RANGE))
    return ("Python %s is too old: TensorFlow %s and the course's other pinned packages need "
            "Python %s or newer (the course supports Python %s)"
            % (label(version), TENSORFLOW, label(OLDEST), RANGE))


def fix(found=()):
    """The command to run instead: with a supported Python found on PATH, or one to install."""
    if found:
        return "run `make PYTHON=%s lab` instead (%s is on this machine)" % (found[0], found[0])
    return ("install Python %s (any of %s: your package manager, python.org, pyenv or conda), "
            "then run `make PYTHON=%s lab`" % (SUGGESTED[len("python"):], RANGE, SUGGESTED))


def candidates():
    """pythonX.Y for every supported version, newest first."""
    return ["python%d.%d" % (OLDEST[0], minor) for minor in range(NEWEST[1], OLDEST[1] - 1, -1)]


def probe(command, path=None):
    """(version, None) if `command` on PATH runs and is the Python its name says, else (None, why)."""
    where = shutil.which(command, path=path)
    if where is None:
        return None, "not on PATH"
    try:
        done = subprocess.run([where, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, "%s does not run (%s)" % (where, error)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[0]
        hint = ""
        if "pyenv" in done.stderr:  # a shim for a version pyenv has but has not selected
            hint = " (pyenv can select it: `pyenv global` or PYENV_VERSION with several versions)"
        return None, "%s does not run (exit %d): %s%s" % (where, done.returncode, said, hint)
    try:
        version = tuple(int(part) for part in done.stdout.strip().split("."))
    except ValueError:
        return None, "%s printed %r, not a Python version" % (where, done.stdout.strip())
    if "python%s" % label(version) != command:
        return None, "%s is Python %s, not what its name says" % (where, ".".join(map(str, version)))
    return version, None


def others(current=None, path=None):
    """The supported Pythons on PATH other than `current`'s minor version: (found, skipped).

    found: [(command, version)], newest first, one per minor version; skipped: [(command, why)].
    """
    current = tuple((current or sys.version_info)[:2])
    found, skipped = [], []
    for command in candidates():
        if command == "python%s" % label(current):
            skipped.append((command, "same minor version as this Python (%s), which already "
                                     "runs the full suite" % label(current)))
            continue
        version, why = probe(command, path)
        if version is None:
            skipped.append((command, why))
        else:
            found.append((command, version))
    return found, skipped


def main(argv=None, version=None, path=None, out=sys.stdout, err=sys.stderr):
    argv = sys.argv[1:] if argv is None else argv
    version = tuple((version or sys.version_info)[:3])
    if argv == ["--others"]:
        found, skipped = others(version, path)
        err.write("Python %s runs the full suite. Other supported Pythons (%s) on PATH:\n"
                  % (".".join(map(str, version)), RANGE))
        for command, v in found:
            err.write("  found    %s (%s)\n" % (command, ".".join(map(str, v))))
        for command, why in skipped:
            err.write("  skipped  %s: %s\n" % (command, why))
        out.write("".join(command + "\n" for command, _ in found))
        return 0
    if argv:
        err.write("usage: python %s [--others]\n" % os.path.basename(__file__))
        return 2
    why = why_not(version)
    if why is None:
        return 0
    found = others(version, path)[0] if sys.version_info[0] >= 3 else []
    err.write("sm-tutorial: %s.\n  -> %s\n" % (why, fix([command for command, _ in found])))
    return 1


if __name__ == "__main__":
    sys.exit(main())
