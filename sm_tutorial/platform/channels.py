"""Input modes: how a channel's S3 objects reach the script.

- File: every object is downloaded into ``input/data/<channel>/`` before the script starts.
- FastFile: every object is listed there at once and fetched when first read (``FastFileChannel``).
- Pipe: ``input/data/<channel>_<epoch>`` is a FIFO; the objects are streamed into it in key
  order while the script reads (nothing is copied to disk). When the script has read one to
  EOF and closed it, the FIFO of the next epoch appears. ``RecordWrapperType: RecordIO``
  frames each object as a RecordIO record; ``CompressionType: Gzip`` is undone on the way.
"""
from __future__ import annotations

import errno
import json
import os
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from .validation import S3_URI, parse_s3_uri

RECORDIO_MAGIC = 0xCED7230A
CHUNK = 1 << 20


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    relative: str  # path below the channel folder


class ChannelUnreadable(Exception):
    """S3 refused to list a channel (NoSuchBucket, AccessDenied, ...) or its manifest is bad:
    the message is the FailureReason's text after 'ClientError: Data download failed:'."""


def list_channel(storage, source: dict, role: str) -> list[S3Object]:
    """``channel_objects``, with S3's refusals and bad manifests said as what they are (an
    empty list only when the prefix really holds nothing)."""
    uri = source["S3Uri"]
    try:
        return channel_objects(storage, source)
    except ClientError as error:
        e = error.response.get("Error", {})
        code, status = e.get("Code", "Error"), error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        what = f"{code} ({status}): {e.get('Message', '')}".rstrip(": ")
        if code in ("NoSuchBucket",):
            fix = f"Create the bucket or fix the S3 URI (bucket '{uri.split('/')[2]}' does not exist)."
        elif code in ("AccessDenied", "403", "Forbidden"):
            fix = (f'Grant the role "{role}" s3:ListBucket and s3:GetObject on it, or use a '
                   "bucket the role can read.")
        elif source.get("S3DataType") == "ManifestFile" and code in ("NoSuchKey", "404", "NotFound"):
            fix = "The manifest file, or an object it lists, does not exist: upload it or fix the URI."
        else:
            fix = "Check the S3 URI and the role's S3 permissions."
        raise ChannelUnreadable(f"Failed to download data. {what} (S3 URI {uri}). {fix}") from None
    except BadManifest as error:
        raise ChannelUnreadable(f"Failed to download data. The manifest file {uri} is not a "
                                f"valid manifest: {error}. A manifest is a JSON list: "
                                '[{"prefix": "s3://bucket/prefix/"}, "relative/key1", ...].') from None


class BadManifest(ValueError):
    """A ManifestFile that is not ``[{"prefix": "s3://..."}, "key", ...]``."""


def _manifest(storage, bucket: str, key: str) -> tuple[str, str, list[str]]:
    body = storage.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        manifest = json.loads(body)
    except ValueError as error:  # not JSON, or not UTF-8
        raise BadManifest(f"it is not JSON ({error})") from None
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict) \
            or not isinstance(manifest[0].get("prefix"), str):
        raise BadManifest('its first element must be {"prefix": "s3://bucket/prefix/"}')
    if not all(isinstance(item, str) for item in manifest[1:]):
        raise BadManifest("every element after the first must be a key relative to the prefix")
    match = S3_URI.fullmatch(manifest[0]["prefix"])
    if not match:
        raise BadManifest(f"its prefix {manifest[0]['prefix']!r} is not an s3:// URI")
    return match.group(2), match.group(3), manifest[1:]


def channel_objects(storage, source: dict) -> list[S3Object]:
    """The objects a channel reads: everything under an S3Prefix, or what a ManifestFile lists
    (``[{"prefix": "s3://bucket/p/"}, "rel/a", "rel/b", ...]``), in the order AWS uses."""
    uri = source["S3Uri"]
    if source.get("S3DataType", "S3Prefix") == "ManifestFile":
        bucket, key = parse_s3_uri(uri, "s3Uri")
        prefix_bucket, prefix, relatives = _manifest(storage, bucket, key)
        objects = []
        for relative in relatives:
            head = storage.s3.head_object(Bucket=prefix_bucket, Key=prefix + relative)
            objects.append(S3Object(prefix_bucket, prefix + relative, head["ContentLength"], relative))
        return objects
    bucket, prefix = parse_s3_uri(uri, "s3Uri")
    return [S3Object(bucket, o["Key"], o["Size"],
                     o["Key"][len(prefix):].lstrip("/") or Path(o["Key"]).name)
            for o in storage.list(uri)]


class OutsideChannel(ValueError):
    """An S3 key whose path below the prefix climbs out of the channel folder."""


def check_inside(folder: Path, objects: list[S3Object]) -> None:
    """Refuse the whole channel before anything is written if one key would escape."""
    for obj in objects:
        _inside(folder, obj)


def _inside(folder: Path, obj: S3Object) -> Path:
    target = (folder / obj.relative).resolve()
    if folder.resolve() not in target.parents:
        raise OutsideChannel(f"S3 key {obj.key!r} would be written outside the channel folder "
                             f"(its path below the prefix is {obj.relative!r}); nothing was "
                             "written. Rename the object without '..' or a leading '/'.")
    return target


class DownloadFailed(Exception):
    """An object listed for a channel could not be copied (deleted or made unreadable since)."""


def download(storage, objects: list[S3Object], folder: Path) -> int:
    """File mode: copy each object to ``folder/<relative>``; returns the bytes copied."""
    check_inside(folder, objects)
    folder.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        target = _inside(folder, obj)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            storage.s3.download_file(obj.bucket, obj.key, str(target))
        except ClientError as error:
            e = error.response.get("Error", {})
            raise DownloadFailed(
                f"Failed to download data. {e.get('Code', 'Error')} ({e.get('Message', '')}): "
                f"s3://{obj.bucket}/{obj.key} was listed under the channel's S3 prefix but could "
                "not be read; it was deleted or replaced while the job was downloading. Check "
                "that the object exists (aws s3 ls) and run the job again.") from None
    return sum(o.size for o in objects)


def recordio_header(length: int) -> bytes:
    if length >= 1 << 29:
        raise ValueError("a RecordIO record holds at most 512 MiB")
    return struct.pack("<II", RECORDIO_MAGIC, length)


def recordio_padding(length: int) -> bytes:
    return b"\0" * (-length % 4)


class PipeChannel:
    """Feeds one Pipe-mode channel: a thread that serves FIFO after FIFO, one per epoch."""

    def __init__(self, storage, name: str, objects: list[S3Object], data_dir: Path,
                 record_wrapper: str = "None", compression: str = "None"):
        self.storage, self.name, self.objects, self.data_dir = storage, name, objects, data_dir
        self.recordio = record_wrapper == "RecordIO"
        self.gzip = compression == "Gzip"
        self.error: str | None = None  # set when streaming failed (not when the reader left)
        self._stop = threading.Event()
        self._fifos: list[Path] = []
        self._thread = threading.Thread(target=self._serve, name=f"pipe-{name}", daemon=True)

    def fifo(self, epoch: int) -> Path:
        return self.data_dir / f"{self.name}_{epoch}"

    def start(self) -> "PipeChannel":
        self._make_fifo(0)  # epoch 0 exists before the script starts, as on AWS
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the feeder (the script has exited) and remove the FIFOs."""
        self._stop.set()
        self._thread.join(timeout=10)
        for path in self._fifos:
            path.unlink(missing_ok=True)

    # -- the feeder ---------------------------------------------------------------------
    def _make_fifo(self, epoch: int) -> Path:
        path = self.fifo(epoch)
        os.mkfifo(path)
        self._fifos.append(path)
        return path

    def _open_for_reader(self, path: Path) -> int | None:
        """Open the write end once a reader has the FIFO open; None when the job ends first.
        Meanwhile, give EOF to anyone who reopens an epoch already served."""
        while not self._stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                os.set_blocking(fd, True)
                return fd
            except OSError as error:
                if error.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
            self._answer_old_readers()
            time.sleep(0.002)
        return None

    def _answer_old_readers(self) -> None:
        for old in self._fifos[:-1]:
            try:
                os.close(os.open(old, os.O_WRONLY | os.O_NONBLOCK))  # open+close = EOF for them
            except OSError:
                pass

    def _wait_reader_closed(self, path: Path) -> None:
        while not self._stop.is_set():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as error:
                if error.errno == errno.ENXIO:
                    return
                raise
            time.sleep(0.002)

    def _serve(self) -> None:
        epoch = 0
        while not self._stop.is_set():
            path = self.fifo(epoch)
            fd = self._open_for_reader(path)
            if fd is None:
                return
            try:
                self._stream(fd)
            except BrokenPipeError:
                pass  # the reader stopped early and closed: this epoch is over
            except Exception as error:  # S3 failed mid-stream: say so, do not fake an EOF
                self.error = f"{type(error).__name__}: {error}"
                return
            finally:
                os.close(fd)
            self._wait_reader_closed(path)
            if self._stop.is_set():
                return
            epoch += 1
            self._make_fifo(epoch)

    def _stream(self, fd: int) -> None:
        for obj in self.objects:
            if self._stop.is_set():
                return
            body = self.storage.s3.get_object(Bucket=obj.bucket, Key=obj.key)["Body"]
            try:
                self._stream_object(fd, obj, body)
            finally:
                body.close()

    def _stream_object(self, fd: int, obj: S3Object, body) -> None:
        chunks = body.iter_chunks(CHUNK)
        if self.gzip:
            chunks = _gunzip(chunks)
        if self.recordio:
            if self.gzip:  # the record's length is known only once decompressed
                data = b"".join(chunks)
                chunks, length = iter([data]), len(data)
            else:
                length = obj.size
            _write_all(fd, recordio_header(length))
            for chunk in chunks:
                _write_all(fd, chunk)
            _write_all(fd, recordio_padding(length))
        else:
            for chunk in chunks:
                _write_all(fd, chunk)


def _gunzip(chunks):
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for chunk in chunks:
        out = inflater.decompress(chunk)
        if out:
            yield out
    tail = inflater.flush()
    if tail:
        yield tail


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]



READ_ONLY_FILE, READ_ONLY_DIR, WRITABLE_DIR = 0o444, 0o555, 0o755


class FastFileChannel:
    """FastFile mode without a FUSE mount: every object is listed in ``input/data/<channel>/``
    from the start, as a symlink to where its bytes will be; a background thread fetches the
    objects in key order, and a Python ``open()`` of one not fetched yet fetches it on the
    spot (``container/guard.py``). Each file appears whole (atomic rename), never half-written.

    AWS mounts the channel read-only; here its folders are 0555 while the script runs and each
    file is 0444 once fetched. That stops a script run by an ordinary user; root ignores mode
    bits, so a script run as root can still write (the folders where the bytes land stay
    writable: fetching needs them).
    """

    def __init__(self, storage, name: str, objects: list[S3Object], channel_dir: Path,
                 store_dir: Path, prefetch: bool = True):
        self.storage, self.name, self.objects = storage, name, objects
        self.prefetch = prefetch
        self.channel_dir, self.store_dir = channel_dir, store_dir
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._prefetch, name=f"fastfile-{name}", daemon=True)

    def entries(self) -> dict[str, list[str]]:
        """{placeholder path: [bucket, key, target path]} for the guard's on-demand fetch."""
        return {str(self.channel_dir / o.relative): [o.bucket, o.key, str(self.store_dir / o.relative)]
                for o in self.objects}

    def start(self) -> "FastFileChannel":
        self.channel_dir.mkdir(parents=True, exist_ok=True)  # paths checked by the runner
        for obj in self.objects:
            link = self.channel_dir / obj.relative
            link.parent.mkdir(parents=True, exist_ok=True)
            (self.store_dir / obj.relative).parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(self.store_dir / obj.relative)
        self._chmod_folders(READ_ONLY_DIR)
        if self.prefetch:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._chmod_folders(WRITABLE_DIR)  # the job has ended: its folder can be removed

    def _chmod_folders(self, mode: int) -> None:
        for folder in [self.channel_dir, *(p for p in self.channel_dir.rglob("*")
                                           if p.is_dir() and not p.is_symlink())]:
            folder.chmod(mode)

    def _prefetch(self) -> None:
        for obj in self.objects:
            if self._stop.is_set():
                return
            target = self.store_dir / obj.relative
            if target.exists():
                continue  # the script fetched it first
            marker = target.with_name(f".{target.name}.prefetching")  # the guard waits on it
            partial = target.with_name(f".{target.name}.partial")
            marker.touch()
            try:
                self.storage.s3.download_file(obj.bucket, obj.key, str(partial))
                partial.chmod(READ_ONLY_FILE)
                partial.replace(target)
            finally:
                marker.unlink(missing_ok=True)
