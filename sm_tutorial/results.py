"""Getting a job's results into the notebook: download from S3, extract safely."""
from __future__ import annotations

import tarfile
from pathlib import Path

from .platform.artifacts import unpack


def download(session, s3_uri: str, folder) -> Path:
    """Download one S3 object into ``folder``; returns its local path."""
    from sagemaker.s3 import S3Downloader
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    S3Downloader.download(s3_uri, str(folder), sagemaker_session=session)
    return folder / s3_uri.rsplit("/", 1)[-1]


def extract(archive, folder) -> list[str]:
    """Extract a model.tar.gz or output.tar.gz into ``folder``, refusing any member that would
    land outside it (absolute paths, ``..``, links out): a tarball is input you did not write."""
    try:
        return unpack(Path(archive), Path(folder))
    except tarfile.FilterError as error:
        raise ValueError(f"{archive}: refused to extract {error.tarinfo.name!r}, which would "
                         f"land outside {folder} ({type(error).__name__}). Do not trust this "
                         "archive.") from None
