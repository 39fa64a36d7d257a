"""The multipart receiver on its own: bytes reach the disk as they arrive, and stop at the limit."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.types import Message

from dialer.api.errors import ApiError
from dialer.api.upload import Upload, receive_upload

BOUNDARY = "xYz"
CHUNK = 16 << 10


def _body(file_bytes: bytes, filename: str = "leads.csv", **fields: str) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        f"\r\n\r\n".encode()
        + file_bytes
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return b"".join(parts)


def _receive(body: bytes, directory: Path, max_bytes: int) -> tuple[Upload, list[int]]:
    """Feed ``body`` in chunks, noting the bytes on disk before each one."""
    on_disk: list[int] = []
    pending = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]

    async def receive() -> Message:
        on_disk.append(sum(p.stat().st_size for p in directory.iterdir()))
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/campaigns",
        "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
    }
    upload = asyncio.run(receive_upload(Request(scope, receive), directory, max_bytes=max_bytes))
    return upload, on_disk


def test_the_file_is_written_as_it_arrives(tmp_path: Path) -> None:
    content = b"Phone\n" + b"+12125552671\n" * 20_000
    upload, on_disk = _receive(_body(content, name="x", question="a"), tmp_path, 1 << 20)
    assert upload.path == tmp_path / "leads.csv"
    assert upload.path.read_bytes() == content
    assert upload.fields == {"name": ["x"], "question": ["a"]}
    growth = [b for a, b in itertools.pairwise(on_disk) if b > a]
    assert len(growth) > 5  # many chunks reached the disk before the body ended


def test_the_limit_stops_the_upload_on_the_way(tmp_path: Path) -> None:
    content = b"Phone\n" + b"+12125552671\n" * 200_000
    with pytest.raises(ApiError) as refused:
        _receive(_body(content), tmp_path, 1 << 20)
    assert (refused.value.status, str(refused.value)) == (413, "the file is larger than 1 MB")
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= 1 << 20


@pytest.mark.parametrize(
    ("filename", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\\\x\\\\l e*ads.csv", "l e_ads.csv"),
        ("...", "upload.csv"),
    ],
)
def test_the_file_keeps_only_a_safe_base_name(tmp_path: Path, filename: str, kept: str) -> None:
    upload, _ = _receive(_body(b"Phone\n", filename=filename), tmp_path, 1 << 20)
    assert upload.path == tmp_path / kept
