"""The rejects file: one line (row, value, reason, detail) per source row that is not a
contact. ``reason`` is a word from a fixed vocabulary (``missing``, ``unparseable``,
``invalid``, ``duplicate``, ``suppressed``) or the provider's rule; ``detail`` says more,
e.g. ``same number as row 17`` for a duplicate.

It is written beside its final name and moved there only when the import succeeds, so a
failed import never leaves a rejects file that describes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import pandas as pd

from dialer.csvsafe import neutralise
from dialer.private import open_private

REJECT_COLUMNS = ("row", "value", "reason", "detail")


class RejectsWriter:
    """Writes the header, then each chunk's rejects (``split_chunk``'s frame), to ``out``."""

    def __init__(self, out: TextIO) -> None:
        self._csv = csv.writer(out)
        self._csv.writerow(REJECT_COLUMNS)

    def write(self, rejects: pd.DataFrame) -> None:
        self._csv.writerows(
            (row, neutralise(value), reason, neutralise(detail))
            for row, value, reason, detail in rejects.itertuples(index=False, name=None)
        )


@contextmanager
def rejects_file(path: Path) -> Iterator[RejectsWriter]:
    """A writer for the rejects file at ``path``, in place once the block exits cleanly."""
    partial = path.with_name(path.name + ".part")
    try:
        with open_private(partial, "w", newline="", encoding="utf-8") as out:
            yield RejectsWriter(out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
