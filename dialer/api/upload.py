"""Receiving ``multipart/form-data`` with one CSV file, streamed to disk under a size limit.

The body is parsed as it arrives (python-multipart's streaming parser): the file part goes
to disk chunk by chunk, never whole into memory, and the request is refused with 413 the
moment the file passes ``max_bytes``, whatever ``Content-Length`` claimed. Text fields are
kept in memory, at most :data:`FIELDS_MAX_BYTES` in all, and the whole body may exceed the
file's limit by little more than that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from dialer.api.errors import ApiError
from dialer.private import open_private

FILE_FIELD = "file"
FIELDS_MAX_BYTES = 1 << 20
_SLACK = FIELDS_MAX_BYTES + (64 << 10)  # fields, part headers and boundaries
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class Upload:
    """The received form: the file's path (its own name, made safe) and the text fields."""

    path: Path
    fields: dict[str, list[str]]


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)
    is_file: bool = False


class _Receiver:
    """python-multipart callbacks: route each part's bytes to the file or to a field."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.fields: dict[str, list[str]] = {}
        self.path: Path | None = None
        self._out: BinaryIO | None = None
        self._file_bytes = 0
        self._field_bytes = 0
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def on_part_begin(self) -> None:
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get(b"content-disposition"))
        if b"name" not in options:
            raise ApiError(400, "a form part has no name")
        self._part.name = _text(options[b"name"], "a part name")
        if b"filename" not in options:
            return
        if self._part.name != FILE_FIELD or self.path is not None:
            raise ApiError(400, f"send exactly one file, in the form field {FILE_FIELD!r}")
        self._part.is_file = True
        self.path = self.directory / _safe_filename(options[b"filename"])
        self._out = open_private(self.path, "xb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._part.is_file:
            self._file_bytes += size
            if self._file_bytes > self.max_bytes:
                raise ApiError(413, f"the file is larger than {self.max_bytes >> 20} MB")
            assert self._out is not None
            self._out.write(data[start:end])
            return
        self._field_bytes += size
        if self._field_bytes > FIELDS_MAX_BYTES:
            raise ApiError(413, f"the form fields are larger than {FIELDS_MAX_BYTES >> 20} MB")
        self._part.data += data[start:end]

    def on_part_end(self) -> None:
        if self._part.is_file:
            self.close()
            return
        value = _text(bytes(self._part.data), f"form field {self._part.name!r}")
        self.fields.setdefault(self._part.name, []).append(value)


async def receive_upload(request: Request, directory: Path, *, max_bytes: int) -> Upload:
    """Parse the request's multipart body into ``directory``. ApiError 400 if it is not
    multipart or has no file, 413 past ``max_bytes`` (what was written is the caller's to
    remove: ``directory`` is meant to be a per-request one)."""
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise ApiError(400, "send the file as multipart/form-data")
    too_large = ApiError(413, f"the upload is larger than {max_bytes >> 20} MB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + _SLACK:
        raise too_large
    receiver = _Receiver(directory, max_bytes)
    try:
        parser = MultipartParser(
            options[b"boundary"],
            {
                "on_part_begin": receiver.on_part_begin,
                "on_header_field": receiver.on_header_field,
                "on_header_value": receiver.on_header_value,
                "on_header_end": receiver.on_header_end,
                "on_headers_finished": receiver.on_headers_finished,
                "on_part_data": receiver.on_part_data,
                "on_part_end": receiver.on_part_end,
            },
        )
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + _SLACK:
                raise too_large
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise ApiError(400, "the multipart body is malformed") from None
    finally:
        receiver.close()
    if receiver.path is None:
        raise ApiError(400, f"no file: send the CSV in the form field {FILE_FIELD!r}")
    return Upload(path=receiver.path, fields=receiver.fields)


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, f"{what} is not UTF-8 text") from None


def _safe_filename(raw: bytes) -> str:
    """The upload's own base name, kept for messages and the campaign's ``source_file``."""
    name = _SAFE_NAME.sub("_", raw.decode("utf-8", "replace").replace("\\", "/").rsplit("/")[-1])
    name = name.strip(" .")[:120]
    return name or "upload.csv"
