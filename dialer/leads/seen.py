"""The numbers an import has accepted so far, each with the row of the file that brought it:
what tells a later row that it repeats a number, and which row it repeats.

A file of ten million rows accepts about eight million numbers. As Python strings in a dict
they cost ~100 bytes each (~0.7 GB at 10M, more than the rest of the import together); here
a number is an int64 (the digits of its E.164 form: a ``+``, then at most 15 digits, the
first not 0, so that distinct numbers stay distinct) and its row another: 16 bytes a number.
They are held in sorted runs, searched with ``searchsorted``, one run per batch added and
merged as they accumulate (see ``SeenNumbers.add``). Anything that is not E.164 in that
shape (none of what the importer accepts) is kept in a dict beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

# A run is merged with the one before it only while the result stays within a quarter of
# all the numbers held (or this many), so that a merge briefly needs at most about a third
# more memory than the runs hold; there are then at most ~8 runs of the largest size. Each
# run costs a lookup one searchsorted pass (~1 ms for a chunk's numbers in a million).
_MIN_MERGED = 1 << 20
_MERGED_SHARE = 4
_E164 = r"^\+[1-9][0-9]{0,14}$"

Numbers: TypeAlias = pa.Array | npt.NDArray[np.object_] | Sequence[str]
"""Numbers as text: an arrow string array, a numpy object array of ``str`` or a list."""


class SeenNumbers:
    """A map from number (E.164 text) to row (a non-negative int), for the importer's
    de-duplication: ``rows`` looks a batch of numbers up, ``add`` adds a batch.

    ``rows`` may run on one thread while ``add`` runs on another: a lookup sees each number
    either as before the ``add`` or as after it.
    """

    def __init__(self) -> None:
        self._runs: tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]], ...] = ()
        self._others: dict[str, int] = {}

    @classmethod
    def of(cls, rows: dict[str, int] | Iterable[tuple[str, int]]) -> SeenNumbers:
        """The numbers and rows of a dict or of (number, row) pairs."""
        seen = cls()
        pairs = list(rows.items() if isinstance(rows, dict) else rows)
        if pairs:
            numbers = np.empty(len(pairs), dtype=object)
            numbers[:] = [number for number, _ in pairs]
            seen.add(numbers, np.array([row for _, row in pairs], dtype=np.int64))
        return seen

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs) + len(self._others)

    def rows(self, numbers: Numbers) -> npt.NDArray[np.int64]:
        """For each number, its row, or -1 when it has none."""
        runs, others = self._runs, self._others
        found = np.full(len(numbers), -1, dtype=np.int64)
        if not len(numbers) or not (runs or others):
            return found
        keys, plain = _keys(numbers)
        # Sorted needles: searchsorted then walks each run from left to right.
        order = np.argsort(keys)
        keys = keys[order]
        for run_keys, run_rows in runs:
            at = np.searchsorted(run_keys, keys)
            np.minimum(at, len(run_keys) - 1, out=at)
            hit = np.flatnonzero(run_keys[at] == keys)
            found[order[hit]] = run_rows[at[hit]]
        if others:
            odd = np.flatnonzero(~plain)
            if odd.size:
                text = _text(numbers).take(pa.array(odd)).to_pylist()
                found[odd] = [others.get(number, -1) for number in text]
        return found

    def add(self, numbers: Numbers, rows: npt.NDArray[np.int64]) -> None:
        """Add numbers with their rows; none of them may be held already, nor repeated.

        The batch becomes a run of its own; then, while the run before the newest is no more
        than twice its size (and the two together within the limit above), the two are merged.
        Runs therefore shrink from the oldest to the newest and a lookup searches O(log n).
        """
        if not len(numbers):
            return
        keys, plain = _keys(numbers)
        rows = np.asarray(rows, dtype=np.int64)
        if not plain.all():
            odd = np.flatnonzero(~plain)
            text = _text(numbers).take(pa.array(odd)).to_pylist()
            self._others.update(zip(text, rows[odd].tolist(), strict=True))
            keys, rows = keys[plain], rows[plain]
        if not keys.size:
            return
        order = np.argsort(keys, kind="stable")
        runs = [*self._runs, (keys[order], rows[order])]
        limit = max(_MIN_MERGED, (len(self) + keys.size) // _MERGED_SHARE)
        while len(runs) > 1:
            older, newer = len(runs[-2][0]), len(runs[-1][0])
            if older > 2 * newer or older + newer > limit:
                break
            runs[-2:] = [_merge(runs[-2], runs[-1])]
        self._runs = tuple(runs)


def _merge(
    older: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    newer: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Two sorted runs with no key in common as one sorted run."""
    (keys_a, rows_a), (keys_b, rows_b) = older, newer
    size = len(keys_a) + len(keys_b)
    # Where each of b's keys lands: after the a keys below it and the b keys before it.
    into = np.searchsorted(keys_a, keys_b) + np.arange(len(keys_b))
    from_a = np.ones(size, dtype=bool)
    from_a[into] = False
    keys = np.empty(size, dtype=np.int64)
    rows = np.empty(size, dtype=np.int64)
    keys[into], rows[into] = keys_b, rows_b
    keys[from_a], rows[from_a] = keys_a, rows_a
    return keys, rows


def _text(numbers: Numbers) -> pa.Array:
    if isinstance(numbers, pa.Array):
        return numbers.cast(pa.large_string())
    return pa.array(numbers, type=pa.large_string(), from_pandas=False)


def _keys(numbers: Numbers) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Each number's digits as an int64 and whether it is E.164 in the shape above (``plain``;
    the key of any other is 0, which no plain number has)."""
    text = _text(numbers)
    plain = pc.fill_null(pc.match_substring_regex(text, _E164), False)
    digits = pc.utf8_slice_codeunits(pc.if_else(plain, text, "+0"), 1)
    keys = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
    return keys, plain.to_numpy(zero_copy_only=False)
