"""The first process of the simulated container: runs the training script, and when the script
ends (or the job is stopped) ends every process the script started, whatever its session or
process group, as AWS's container teardown does. Nothing the job started outlives it, and
nothing holds the log pipe open after the job has ended.

    python -I -S launcher.py GRACE_SECONDS [CODE_DIR] [--opt-ml JOB_ROOT] -- python train.py ARGS...

CODE_DIR (the job's code folder, also its working directory) is not used here: it is in the
command line so that ``ps`` shows whose launcher this is where there is no /proc (macOS).
With ``--opt-ml``, the launcher first enters its own user and mount namespace in which
JOB_ROOT is /opt/ml (``mounts.py``), and starts the script in /opt/ml/code.

Started by file path with the standard library only (it never imports sm_tutorial). On Linux
it becomes a child subreaper (prctl), so double-forked and setsid() daemons are re-parented to
it and can be found and reaped. Elsewhere it reaches the processes still under it (``ps``); the
platform also ends the launcher's process group.

Signals: SIGTERM (StopTrainingJob, MaxRuntime) is passed to every process of the job, and
those still running GRACE_SECONDS later get SIGKILL; SIGUSR1 (an orphaned job) is SIGKILL for
all at once. The launcher exits as the script did (same code, or the same signal).
"""
import os
import signal
import subprocess
import sys
import time

sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # -I leaves our folder out
import mounts  # noqa: E402  (standard library only, like this file)

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # inside: a Python built without _ctypes still runs jobs (no subreaper)
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


def _parents() -> dict[int, list[int]]:
    """{parent pid: [child pids]} for every process on the machine."""
    children: dict[int, list[int]] = {}
    if os.path.isdir("/proc"):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # it ended while we looked
            children.setdefault(ppid, []).append(int(entry))
        return children
    try:
        listing = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid="], capture_output=True,
                                 text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return children
    for line in listing.splitlines():
        pid, ppid = (int(f) for f in line.split())
        children.setdefault(ppid, []).append(pid)
    return children


def descendants(root: int) -> list[int]:
    children, found, todo = _parents(), [], [root]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def signal_all(sig: int) -> None:
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, sig)
        except OSError:
            pass  # ended meanwhile


def sweep(patience: float = 5.0) -> None:
    """SIGKILL every process still under us and reap them, until none is left. Bounded: a
    process we cannot see (no /proc, no ps) is not waited for longer than ``patience``."""
    give_up = time.monotonic() + patience
    while True:
        signal_all(signal.SIGKILL)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no child left
        if pid == 0:
            if time.monotonic() > give_up:
                return
            time.sleep(0.01)


def exit_as(code: int) -> None:
    if code < 0:  # the script died of a signal: die of the same one
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        code = 128 - code  # a signal whose default is not to end a process
    sys.exit(code)


def main(argv: list[str]) -> None:
    grace, command = float(argv[0]), argv[argv.index("--") + 1:]
    options = argv[:argv.index("--")]
    if "--opt-ml" in options:  # before anything else: the kernel wants one thread here
        try:
            mounts.enter(options[options.index("--opt-ml") + 1])
            os.chdir(os.path.join(mounts.OPT_ML, "code"))
        except (mounts.Unavailable, OSError) as error:
            print(f"sm-tutorial: the job's container could not be set up: {error}", flush=True)
            sys.exit(70)
    become_subreaper()
    stopping = []

    def on_stop(signum, frame):
        if not stopping:
            stopping.append(signum)
            signal_all(signal.SIGTERM)
            signal.setitimer(signal.ITIMER_REAL, max(grace, 0.01))  # then SIGKILL for the rest

    signal.signal(signal.SIGTERM, on_stop)
    def on_kill(signum, frame):
        stopping.append(signal.SIGKILL)
        signal_all(signal.SIGKILL)

    signal.signal(signal.SIGALRM, on_kill)
    signal.signal(signal.SIGUSR1, on_kill)
    script = subprocess.Popen(command)  # same cwd, environment, stdin/stdout/stderr as ours
    if stopping:  # the stop came while the script was being started
        os.kill(script.pid, signal.SIGKILL if signal.SIGKILL in stopping else signal.SIGTERM)
    code = None
    while code is None:
        try:
            pid, status = os.waitpid(-1, 0)  # the script, or an orphan re-parented to us
        except ChildProcessError:
            code = 1
            break
        if pid == script.pid:
            code = os.waitstatus_to_exitcode(status)
    script.returncode = code
    signal.setitimer(signal.ITIMER_REAL, 0)
    sweep()  # the script has ended: the container goes, and everything in it
    exit_as(code)


if __name__ == "__main__":
    main(sys.argv[1:])
