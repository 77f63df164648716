"""A job's own /opt/ml on Linux: an unprivileged user namespace with its own mount namespace.

The launcher (``launcher.py``) calls ``enter(job_root)`` before it starts the script. In the
new mount namespace ``/opt`` is a fresh tmpfs into which every entry of the host's ``/opt`` is
bound back (so ``/opt/conda`` and the like still work), and ``/opt/ml`` is the job's folder,
bound read-write. Everything else is the host's file system, unchanged. Nothing is mounted on
the host: the namespace, and its mounts, end with the last process of the job.

Why the system calls (``unshare(2)``, ``mount(2)`` through ctypes) and not util-linux's
``unshare`` tool or bubblewrap: they need nothing installed (bubblewrap rarely is; the options
of ``unshare`` differ between util-linux versions), they run in the launcher itself, so the
launcher stays the first process of the job and its subreaper, and there is one code path to
test. The user namespace maps the learner's own user and group to themselves: the script runs
with exactly the learner's rights on the host (root stays root, as in AWS's containers).

Standard library only: imported by the launcher, which never imports sm_tutorial. Run by file
path with ``--probe`` it tries all of this in a throwaway process and prints why not, if not.
"""
import ctypes
import errno
import os
import shutil
import subprocess
import sys
import tempfile

OPT_ML = "/opt/ml"
SETTING = "SM_TUTORIAL_NAMESPACES"  # "off": always the relocated root (the fallback)
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000


class Unavailable(Exception):
    """No namespace here; the message says why, and how to get one where that is possible."""


def _libc():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                               ctypes.c_ulong, ctypes.c_char_p]
        return libc
    except (OSError, AttributeError) as error:
        raise Unavailable(f"the C library's unshare/mount cannot be called ({error})")


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    encode = (lambda s: s.encode() if s is not None else None)
    if libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount {target}: {os.strerror(code)}")


def _sysctl(name: str) -> str | None:
    try:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            return f.read().strip()
    except OSError:
        return None


def why_not(code: int) -> str:
    """What an unshare(CLONE_NEWUSER) failing with ``code`` means here, and the fix."""
    if _sysctl("kernel.apparmor_restrict_unprivileged_userns") == "1":
        return ("AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later). "
                "Allow them with: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0 "
                "(or give python an AppArmor profile with 'userns,')")
    if _sysctl("kernel.unprivileged_userns_clone") == "0":
        return ("unprivileged user namespaces are switched off. Switch them on with: "
                "sudo sysctl kernel.unprivileged_userns_clone=1")
    if _sysctl("user.max_user_namespaces") == "0":
        return ("user namespaces are switched off (user.max_user_namespaces=0). Switch them on "
                "with: sudo sysctl user.max_user_namespaces=15000")
    if code in (errno.EPERM, errno.ENOSYS, errno.EACCES):
        return ("this machine does not allow user namespaces (typically a container whose "
                "seccomp profile blocks unshare, e.g. Docker's default). Run it with "
                "--security-opt seccomp=unconfined, or use a machine or VM that allows them")
    return f"unshare failed: {os.strerror(code)}"


def enter(job_root: str) -> None:
    """Make ``job_root`` this process's /opt/ml, in a new user and mount namespace. Call it
    single-threaded (the kernel refuses a user namespace to a threaded process) and before
    starting anything; the capabilities it needs end at the next exec of a non-root user."""
    if not sys.platform.startswith("linux"):
        raise Unavailable(f"{sys.platform} has no Linux mount namespaces")
    if not os.path.isdir("/opt"):
        raise Unavailable("this machine has no /opt folder to hold /opt/ml. Create it "
                          "(sudo mkdir /opt): the course then mounts /opt/ml inside each job only")
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        raise Unavailable(why_not(ctypes.get_errno()))
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount reaches the host
        opt = os.path.realpath("/opt")
        old = os.open(opt, os.O_RDONLY | os.O_DIRECTORY)  # the host's /opt, under the tmpfs
        try:
            entries = [e for e in os.listdir(old) if e != "ml"]
            _mount(libc, "tmpfs", opt, "tmpfs", 0, "mode=0755")
            for entry in entries:
                source, target = f"/proc/self/fd/{old}/{entry}", os.path.join(opt, entry)
                if os.path.islink(source):
                    os.symlink(os.readlink(source), target)
                    continue
                if os.path.isdir(source):
                    os.mkdir(target)
                elif os.path.isfile(source):
                    open(target, "w").close()
                else:
                    continue  # a socket or device directly in /opt: not carried over
                _mount(libc, source, target, None, MS_BIND | MS_REC)
        finally:
            os.close(old)
        os.mkdir(os.path.join(opt, "ml"))
        _mount(libc, job_root, os.path.join(opt, "ml"), None, MS_BIND | MS_REC)
    except OSError as error:
        raise Unavailable(f"setting up the job's mount namespace failed: {error}")


_probed: list = []  # this process's probe result, once


def unavailable() -> str | None:
    """None when jobs get their own /opt/ml here, else why not and how to get it."""
    if os.environ.get(SETTING, "").strip().lower() in ("off", "0", "no", "false"):
        return f"{SETTING}=off is set. Unset it to give each job its own /opt/ml"
    if not _probed:
        _probed.append(probe())
    return _probed[0]


def probe() -> str | None:
    """None when ``enter`` works on this machine, else why not (tried in a child process, as
    the launcher would: the caller's own namespaces are never touched)."""
    if not sys.platform.startswith("linux"):
        return (f"{sys.platform} has no Linux mount namespaces; nothing to enable: scripts read "
                "their folders from the SM_* variables (or SAGEMAKER_BASE_DIR), as they should")
    folder = tempfile.mkdtemp(prefix="sm-tutorial-probe-")
    try:
        open(os.path.join(folder, "probe"), "w").close()
        done = subprocess.run([sys.executable, "-I", "-S", os.path.abspath(__file__), "--probe",
                               folder], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        return f"the namespace probe could not run ({error})"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.returncode == 0 and done.stdout.strip() == "ok":
        return None
    return (done.stdout.strip() or done.stderr.strip().splitlines()[-1:] or ["unknown"])[-1]


if __name__ == "__main__" and sys.argv[1:2] == ["--probe"]:
    try:
        enter(sys.argv[2])
        print("ok" if os.path.exists(os.path.join(OPT_ML, "probe")) else "/opt/ml not mounted")
    except Unavailable as error:
        print(error)
        sys.exit(1)
