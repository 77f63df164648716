"""Getting a job's results into the notebook: download from S3, extract safely."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

from ..platform.artifacts import UnsafeMember, unpack


def download(session, s3_uri: str, folder) -> Path:
    """Download one S3 object into ``folder``; returns its local path."""
    from sagemaker.s3 import S3Downloader
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    S3Downloader.download(s3_uri, str(folder), sagemaker_session=session)
    return folder / s3_uri.rsplit("/", 1)[-1]


def tar_members(session, s3_uri: str) -> dict[str, bytes]:
    """Read a .tar.gz from S3 in memory: {member name: bytes} (b'' for folders)."""
    bucket, key = s3_uri[5:].split("/", 1)
    body = session.boto_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: (tar.extractfile(m).read() if m.isfile() else b"") for m in tar.getmembers()}


def output_uri(model_uri: str) -> str:
    """output.tar.gz lives next to model.tar.gz, under <output_path>/<job>/output/."""
    return model_uri.replace("model.tar.gz", "output.tar.gz")


def extract(archive, folder) -> list[str]:
    """Extract a model.tar.gz or output.tar.gz into ``folder``, refusing any member that would
    land outside it (absolute paths, ``..``, links out, device files): a tarball is input you did not write."""
    try:
        return unpack(Path(archive), Path(folder))
    except UnsafeMember as error:
        raise ValueError(f"{archive}: refused to extract {error.tarinfo.name!r}: it {error.why} "
                         f"({folder}). Do not trust this archive.") from None
