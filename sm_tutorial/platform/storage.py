"""The platform's S3 work, done through the endpoint like any other client
(channel data is ``channels``' business)."""
from __future__ import annotations

from pathlib import Path

from .validation import parse_s3_uri


class Storage:
    def __init__(self, s3_client):
        self.s3 = s3_client

    def list(self, uri: str) -> list[dict]:
        """Objects under an S3 prefix, in key order (S3 lists in UTF-8 binary order)."""
        bucket, prefix = parse_s3_uri(uri, "s3Uri")
        objects = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            objects += page.get("Contents", [])
        return [o for o in objects if not o["Key"].endswith("/")]

    def download(self, uri: str, path: Path) -> Path:
        bucket, key = parse_s3_uri(uri, "s3Uri")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.s3.download_file(bucket, key, str(path))
        return path

    def upload(self, path: Path, uri: str) -> None:
        bucket, key = parse_s3_uri(uri, "s3Uri")
        self.s3.upload_file(str(path), bucket, key)

    def restore(self, path: Path, uri: str) -> None:
        """Put back an object the stand-in's in-memory S3 lost with its restart (its bucket too)."""
        bucket, _ = parse_s3_uri(uri, "s3Uri")
        try:
            self.s3.head_bucket(Bucket=bucket)
        except Exception:
            self.s3.create_bucket(Bucket=bucket)
        self.upload(path, uri)

    def upload_folder(self, folder: Path, uri: str) -> int:
        count = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            self.upload(path, uri.rstrip("/") + "/" + path.relative_to(folder).as_posix())
            count += 1
        return count
