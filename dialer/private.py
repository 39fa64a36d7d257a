"""Files and directories only their owner can read: the ledger, exports, rejects files and
uploads hold names and phone numbers.

Files are created 0600 and directories 0700 whatever the process's umask (the mode is set
after creation too, since ``open`` and ``mkdir`` only ever remove bits the umask names). A
SQLite database's ``-wal`` and ``-shm`` files take the database file's mode from SQLite itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

FILE_MODE = 0o600
DIR_MODE = 0o700


@overload
def open_private(path: Path, mode: Literal["w", "x"] = "w", **kwargs: Any) -> TextIO: ...
@overload
def open_private(path: Path, mode: Literal["wb", "xb"], **kwargs: Any) -> BinaryIO: ...
def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode, **kwargs)`` for writing (``w``, ``x``, with ``b`` for bytes), the
    file 0600 whether it is new or not."""
    if mode.strip("b") not in ("w", "x"):
        raise ValueError(f"open_private writes: mode {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if "x" in mode else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        return open(descriptor, mode.replace("x", "w"), **kwargs)
    except BaseException:
        os.close(descriptor)
        raise


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it does not exist, and make it 0600 either way."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def private_dir(path: Path) -> Path:
    """``mkdir -p path``, every directory it creates 0700 (existing ones are left alone)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        directory.chmod(DIR_MODE)
    return path
