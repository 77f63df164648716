"""model.tar.gz and output.tar.gz, packed as AWS packs them: the folder's contents at the
archive root, no leading ``./``; and a safe unpacker for the source tarball."""
from __future__ import annotations

import os
import shutil
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


def pack_merged(folders: list[tuple[str, Path]], archive: Path) -> tuple[Path, list[str]]:
    """One archive of several hosts' folders ``[(host, folder), ...]``, merged as AWS merges a
    multi-instance job's model/ and output/data/: a name two hosts wrote holds the later
    host's file. Returns (archive, a line per clash, naming the path and the hosts)."""
    owners: dict[str, str] = {}  # archive name -> host whose entry is kept
    entries: dict[str, Path] = {}
    clashes = []
    for host, folder in folders:
        if not folder.is_dir():
            continue
        for current, dirs, files in os.walk(folder):
            dirs.sort()
            for name in dirs + sorted(files):
                path = Path(current) / name
                arcname = path.relative_to(folder).as_posix()
                if arcname in owners and not (path.is_dir() and entries[arcname].is_dir()):
                    clashes.append(f"{arcname} (written by {owners[arcname]} and {host}: "
                                   f"{host}'s is kept)")
                owners[arcname], entries[arcname] = host, path
    with tarfile.open(archive, "w:gz") as tar:
        for arcname in sorted(entries, key=lambda n: (n.count("/"), n)):
            tar.add(entries[arcname], arcname=arcname, recursive=False)
    return archive, clashes


class UnsafeMember(tarfile.TarError):
    """A member that would land outside the folder, or is a device file: nothing of it is written."""

    def __init__(self, member: tarfile.TarInfo, why: str):
        super().__init__(f"{member.name!r} {why}")
        self.tarinfo, self.why = member, why


def _inside(folder: str, path: str) -> bool:
    return os.path.commonpath([folder, path]) == folder


def unpack(archive: Path, folder: Path) -> list[str]:
    """Extract into ``folder``, refusing what Python's "data" filter refuses: absolute paths,
    ``..`` out of the folder, links (symbolic or hard) that point out, and device files or FIFOs.
    Done member by member, without ``extractall(filter=)``, so it is the same on every Python
    (the filter only exists from 3.10.12 / 3.11.4; Debian 12's 3.11.2 lacks it). Each path is
    resolved on disk just before it is written, so links written earlier cannot be followed out.
    Modes keep only the permission bits ("data" drops setuid and the like); owners are not set."""
    folder.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(folder)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _extract(tar, member, root)
        return [m.name for m in members]


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, root: str) -> None:
    if member.name.startswith("/") or os.path.isabs(member.name):
        raise UnsafeMember(member, "is an absolute path")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeMember(member, "is a device file or FIFO")
    parent, leaf = os.path.split(os.path.normpath(member.name))
    # where it lands: its folder resolved through links already on disk, its own name kept
    target = os.path.normpath(os.path.join(os.path.realpath(os.path.join(root, parent)), leaf))
    if not _inside(root, target):
        raise UnsafeMember(member, "would land outside the folder")
    if member.issym() or member.islnk():
        if os.path.isabs(member.linkname):
            raise UnsafeMember(member, f"links to the absolute path {member.linkname!r}")
        base = os.path.dirname(target) if member.issym() else root
        if not _inside(root, os.path.realpath(os.path.join(base, member.linkname))):
            raise UnsafeMember(member, f"links to {member.linkname!r}, outside the folder")
    if member.isdir():
        os.makedirs(target, exist_ok=True)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target) and not os.path.isdir(target):
        os.unlink(target)  # a later member replaces an earlier one, as tar does
    if member.issym():
        os.symlink(member.linkname, target)
    elif member.islnk():
        os.link(os.path.realpath(os.path.join(root, member.linkname)), target)
    else:
        source = tar.extractfile(member)
        with source, open(target, "xb") as sink:
            shutil.copyfileobj(source, sink)
        mode = member.mode & 0o755 if member.mode & 0o100 else member.mode & 0o644
        os.chmod(target, mode | 0o600)  # as the "data" filter: no setuid, no write for others
        os.utime(target, (member.mtime, member.mtime))
