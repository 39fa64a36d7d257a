"""The API server's files: uploads being received, and each campaign's latest rejects file.

Both live under one private directory (a fresh temporary one per server unless given), so a
finished upload's rejects file is moved into place by a rename, never copied. Rejects are kept
for the life of that directory: the API is for importing and downloading right after, the
ledger is the record.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialer.private import private_dir


class FileStore:
    """``root/uploads/<one dir per request>`` and ``root/rejects/<hash of name>.csv``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._uploads = root / "uploads"
        self._rejects = root / "rejects"
        private_dir(self._uploads)
        private_dir(self._rejects)

    @classmethod
    def temporary(cls) -> FileStore:
        """A store in a new private temporary directory (see :meth:`remove`)."""
        return cls(Path(tempfile.mkdtemp(prefix="dialer-api-")))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @contextmanager
    def upload_dir(self) -> Iterator[Path]:
        """A new empty directory for one request, removed with all it holds on exit."""
        path = Path(tempfile.mkdtemp(dir=self._uploads))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def rejects_path(self, campaign: str) -> Path:
        """Where the latest import's rejects of ``campaign`` are kept (any name is safe)."""
        digest = hashlib.sha256(campaign.encode("utf-8", "surrogatepass")).hexdigest()
        return self._rejects / f"{digest}.csv"

    def keep_rejects(self, campaign: str, path: Path) -> None:
        """Make ``path`` (in this store) the campaign's rejects file, replacing an older one."""
        path.replace(self.rejects_path(campaign))
