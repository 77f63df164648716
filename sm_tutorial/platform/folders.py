"""Deleting a job's folder even where the job left parts of it read-only."""
from __future__ import annotations

import os
import shutil
import stat
import sys
import warnings
from pathlib import Path

_RETRIED = ("unlink", "remove", "rmdir")


def _add_user_write(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IWUSR:
            os.chmod(path, stat.S_IMODE(mode) | stat.S_IRWXU)
    except OSError:
        pass  # the retry below says whether it mattered


def _retry_writable(func, path, _error) -> None:
    """rmtree's onexc/onerror: a FastFile channel's folders are 0555 while its job runs and
    stay so if the endpoint died first; an entry in them cannot be deleted by a non-root
    user until the folder holding it is writable again. Anything else is re-raised."""
    if getattr(func, "__name__", "") not in _RETRIED:
        raise _error if isinstance(_error, BaseException) else _error[1]
    _add_user_write(os.path.dirname(path))
    func(path)  # raises if it still cannot be deleted: remove_tree reports it


def remove_tree(folder: Path) -> OSError | None:
    """Delete ``folder`` and everything in it. Returns None once it is gone, else the error
    that kept it (never hidden: callers report it)."""
    handler = {"onexc" if sys.version_info >= (3, 12) else "onerror": _retry_writable}
    try:
        shutil.rmtree(folder, **handler)
    except FileNotFoundError:
        pass
    except OSError as error:
        return error
    if os.path.lexists(folder):
        return OSError(f"{folder} is still there after deleting it")
    return None


def remove_job_folder(folder: Path) -> bool:
    """Delete a finished job's folder; a warning names the folder if it could not be."""
    error = remove_tree(folder)
    if error is not None:
        warnings.warn(f"Could not delete the job folder {folder}: {error}. Make it writable "
                      f"(chmod -R u+w {folder}) and delete it by hand.", RuntimeWarning,
                      stacklevel=3)
    return error is None
