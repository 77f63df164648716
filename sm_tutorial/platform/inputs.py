"""The Downloading phase: the code from ``sagemaker_submit_directory`` into /opt/ml/code, and
every channel into /opt/ml/input/data as its input mode asks (File: now; FastFile: listed,
fetched on first read; Pipe: streamed while the script runs), then the checkpoints."""
from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path
from typing import Any, Mapping

from ..container import layout
from ..container.layout import ContainerRoot
from . import channels, disk, hints
from .artifacts import UnsafeMember, unpack
from .errors import JobFailed
from .storage import Storage


def fetch_code(storage: Storage, submit: str, job_folder: Path, root: ContainerRoot) -> None:
    try:
        archive = storage.download(submit, job_folder / "sourcedir.tar.gz")
    except Exception as error:
        raise JobFailed(f"ClientError: could not fetch the source code from {submit}: {error}")
    try:
        unpack(archive, root.code)
    except UnsafeMember as error:
        raise JobFailed(f"ClientError: the source archive {submit} has a member that would "
                        f"land outside /opt/ml/code or is no plain file ({error}); nothing was "
                        "extracted outside the job. Remove "
                        "absolute paths, '..', device files and links pointing out of source_dir.")
    except (tarfile.TarError, OSError) as error:
        raise JobFailed(disk.failure(error, "The source code could not be unpacked.") or
                        f"ClientError: the source archive {submit} could not be unpacked into "
                        f"/opt/ml/code ({type(error).__name__}: {error}). Check that source_dir "
                        "packs into a valid tar.gz.")
    archive.unlink()


def fetch_channels(storage: Storage, request: Mapping[str, Any], root: ContainerRoot,
                   job_folder: Path, region: str, fastfile_prefetch: bool) -> tuple[list[str], list]:
    """Every channel of the request; returns (a log line per channel, the channels fed while
    the script runs: Pipe and FastFile)."""
    lines, streamed = [], []
    for channel in request.get("InputDataConfig") or []:
        name, source = channel["ChannelName"], channel["DataSource"]["S3DataSource"]
        mode = layout.channel_mode(channel, request)
        try:
            objects = channels.list_channel(storage, source, request["RoleArn"])
        except channels.ChannelUnreadable as error:  # NoSuchBucket, AccessDenied, bad manifest
            raise JobFailed(f"ClientError: Data download failed:{error}")
        if not objects:
            uri, bucket = source["S3Uri"], source["S3Uri"].split("/")[2]
            raise JobFailed(
                f'ClientError: Data download failed:No S3 objects found under S3 URL "{uri}" '
                f"given in input data source. Please ensure that the bucket exists in the "
                f"selected region ({region}), that objects exist under that S3 prefix, "
                f'and that the role "{request["RoleArn"]}" has "s3:ListBucket" permissions on '
                f'bucket "{bucket}".' + hints.EMPTY_CHANNEL)
        size = sum(o.size for o in objects)
        if mode == "Pipe":
            streamed.append(channels.PipeChannel(
                storage, name, objects, root.data,
                channel.get("RecordWrapperType", "None"), channel.get("CompressionType", "None")))
            verb = "streamed on demand (Pipe)"
        elif mode == "FastFile":
            try:
                channels.check_inside(root.channel(name), objects)
            except channels.OutsideChannel as error:
                raise JobFailed(f"ClientError: Data download failed: {error}")
            streamed.append(channels.FastFileChannel(
                storage, name, objects, root.channel(name),
                job_folder / "fastfile-store" / name, prefetch=fastfile_prefetch))
            verb = "listed, fetched on first read (FastFile)"
        else:
            try:
                channels.download(storage, objects, root.channel(name))
            except (channels.OutsideChannel, channels.DownloadFailed) as error:
                raise JobFailed(f"ClientError: Data download failed: {error}")
            verb = "downloaded (File)"
        lines.append(f"Channel {name}: {len(objects)} objects ({size / 1e6:.2f} MB) {verb} "
                     f"from {source['S3Uri']}")
    checkpoint = request.get("CheckpointConfig")
    if checkpoint:
        try:
            found = channels.list_channel(storage, {"S3Uri": checkpoint["S3Uri"]}, request["RoleArn"])
        except channels.ChannelUnreadable as error:
            raise JobFailed(f"ClientError: Data download failed (checkpoints):{error}")
        channels.download(storage, found, checkpoint_dir(request, root))
    return lines, streamed


def checkpoint_dir(request: Mapping[str, Any], root: ContainerRoot) -> Path:
    local = posixpath.normpath(request["CheckpointConfig"].get("LocalPath", "/opt/ml/checkpoints"))
    return root.path / Path(local).relative_to("/opt/ml")  # validated: under /opt/ml
