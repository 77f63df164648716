"""model.tar.gz and output.tar.gz, packed as AWS packs them: the folder's contents at the
archive root, no leading ``./``; and a safe unpacker for the source tarball."""
from __future__ import annotations

import os
import tarfile
from pathlib import Path


def pack(folder: Path, archive: Path) -> Path:
    """Write ``archive`` (gzip) with every file and folder under ``folder``, paths relative."""
    with tarfile.open(archive, "w:gz") as tar:
        for current, dirs, files in os.walk(folder):
            dirs.sort()
            for name in dirs + sorted(files):
                path = Path(current) / name
                tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return archive


def unpack(archive: Path, folder: Path) -> list[str]:
    """Extract into ``folder`` and refuse any member that would land outside it."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:  # the "data" filter would quietly make these relative: refuse
            if member.name.startswith("/"):
                raise tarfile.AbsolutePathError(member)
        tar.extractall(folder, members=members, filter="data")
        return [m.name for m in members]
