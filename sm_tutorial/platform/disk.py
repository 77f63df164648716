"""When the disk under the workspace is full or read-only: the FailureReason that says so."""
from __future__ import annotations

import errno

FULL = (errno.ENOSPC, errno.EDQUOT)
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
PREFIX = "ClientError: the disk holding the course workspace is "


def failure(error: BaseException | None,
            consequence: str = "The job could not save its state or artifacts.") -> str | None:
    """The FailureReason for a write the disk refused, or None for any other error. It names
    the host path; a job's reason then goes through the runner's ``_as_container``
    (``shown_paths``), so the job's folders appear as /opt/ml, /usr/local/lib/... there."""
    if not isinstance(error, OSError) or error.errno not in FULL + READ_ONLY:
        return None
    what = ("full" if error.errno in FULL else "read-only" if error.errno == errno.EROFS
            else "not writable")
    where = f" ({error.filename})" if error.filename else ""
    return (f"{PREFIX}{what}: {error.strerror}"
            f"{where}. {consequence} "
            + ("Free some space (sm_tutorial.cleanup_jobs() deletes the folders of finished "
               "jobs)" if what == "full" else "Make that folder writable")
            + ", or set SM_TUTORIAL_WORKSPACE to a folder on another disk, then run the job again.")
