"""The script side of FastFile mode: fetch an object the moment Python first opens it.

Loaded by ``guard.py`` when the job has FastFile channels. The platform lists each object as a
symlink whose target does not exist until the bytes are there; opening one fetches it (from
the same S3 endpoint the job uses) into a temporary name and renames it into place.
"""
import json
import os
import threading
import time

_state = threading.local()
_locks: dict = {}
_locks_guard = threading.Lock()


def load(manifest_path):
    with open(manifest_path) as f:
        return json.load(f)


def ensure(entry):
    """Make sure the object behind a placeholder is on disk (no-op when it already is)."""
    bucket, key, target = entry
    if os.path.exists(target) or getattr(_state, "busy", False):
        return
    with _locks_guard:
        lock = _locks.setdefault(target, threading.Lock())
    with lock:
        prefetching = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.prefetching")
        while os.path.exists(prefetching) and not os.path.exists(target):
            time.sleep(0.001)  # the platform is fetching this one right now: wait, don't fetch twice
        if os.path.exists(target):
            return
        _state.busy = True  # boto3's own imports and reads must not come back here
        try:
            import boto3
            partial = f"{target}.{os.getpid()}.{threading.get_ident()}.partial"
            boto3.client("s3").download_file(bucket, key, partial)
            os.chmod(partial, 0o444)  # read-only, as AWS's FastFile mount
            os.replace(partial, target)
        finally:
            _state.busy = False
