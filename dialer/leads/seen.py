"""The numbers an import has accepted so far, each with the row of the file that brought it:
what tells a later row that it repeats a number, and which row it repeats.

A file of ten million rows accepts about eight million numbers. As Python strings in a dict
they cost ~130 bytes each (~1 GB at 10M, more than the rest of the import together); here a
number is an int64 (the digits of its E.164 form: a ``+``, then at most 15 digits, the first
not 0, so that distinct numbers stay distinct) and its row a uint32: ~13 bytes a number with
the filter and fences below. They are held in sorted runs, one run per batch added, merged
as they accumulate (see ``SeenNumbers.add``). Anything that is not E.164 in that shape (none
of what the importer accepts) is kept in a dict beside them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

# A run is merged with the one before it only while the result stays within an eighth of
# all the numbers held (or this many), so that a merge briefly needs at most about a sixth
# more memory than the runs hold (~17 MB at 8M numbers); there are then at most ~16 runs of
# the largest size. Each run costs a lookup one pass over its fence.
_MIN_MERGED = 1 << 20
_MERGED_SHARE = 8
# The filter in front of the runs has 4 to 16 bits a number (at least 2**20; 8 MiB at 8M
# numbers): 6-22 % of the numbers never added get past it. Most numbers asked about are new.
_FILTER_BITS = 8
_MIN_FILTER_BITS = 20
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# A lookup finds a number's block of a run through the run's fence (each block's first key:
# a sixteenth of the run, mostly in cache) and compares the block's keys at once. A plain
# binary search over millions of keys waits on ~10 cache misses in a row per number; this
# waits on a few, independent ones.
_BLOCK = 16
_PAD = np.iinfo(np.int64).max
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
        self._runs: tuple[_Run, ...] = ()
        self._others: dict[str, int] = {}
        self._filter = _Filter(_MIN_FILTER_BITS)

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
        return sum(run.size for run in self._runs) + len(self._others)

    def rows(self, numbers: Numbers) -> npt.NDArray[np.int64]:
        """For each number, its row, or -1 when it has none."""
        # The filter before the runs: it holds whatever the runs hold (add sets it first).
        runs, others, known = self._runs, self._others, self._filter
        found = np.full(len(numbers), -1, dtype=np.int64)
        if not len(numbers) or not (runs or others):
            return found
        keys, plain = _keys(numbers)
        maybe = np.flatnonzero(plain & known.may_hold(keys))
        # Sorted needles: searchsorted then walks each fence from left to right.
        order = maybe[np.argsort(keys[maybe])]
        keys = keys[order]
        for run in runs:
            hit, rows = run.find(keys)
            found[order[hit]] = rows
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
        order = np.argsort(keys)
        new_keys, new_rows = _padded(keys.size, _row_type(rows))
        new_keys[: keys.size], new_rows[: keys.size] = keys[order], rows[order]
        runs = [*self._runs, _Run(new_keys, new_rows, keys.size)]
        held = sum(run.size for run in runs)
        if held * _FILTER_BITS > 2 * self._filter.size:
            self._filter = _Filter.of(runs, held)
        else:
            self._filter.add(keys)
        limit = max(_MIN_MERGED, (len(self) + keys.size) // _MERGED_SHARE)
        while len(runs) > 1:
            older, newer = runs[-2].size, runs[-1].size
            if older > 2 * newer or older + newer > limit:
                break
            runs[-2:] = [_merge(runs[-2], runs[-1])]
        self._runs = tuple(runs)


class _Filter:
    """A Bloom filter with one hash over int64 keys: ``may_hold`` is false for every key never
    added, and for most others."""

    def __init__(self, size_log2: int) -> None:
        self.size = 1 << size_log2
        self._shift = np.uint64(64 - size_log2)
        self._bits = np.zeros(self.size // 8, dtype=np.uint8)

    @classmethod
    def of(cls, runs: Sequence[_Run], held: int) -> _Filter:
        """A filter of ``_FILTER_BITS`` a key, at least, holding the runs' keys."""
        built = cls(max(_MIN_FILTER_BITS, (held * _FILTER_BITS - 1).bit_length()))
        for run in runs:
            built.add(run.keys[: run.size])
        return built

    def add(self, keys: npt.NDArray[np.int64]) -> None:
        byte, bit = self._slots(keys)
        np.bitwise_or.at(self._bits, byte, bit)

    def may_hold(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        byte, bit = self._slots(keys)
        held: npt.NDArray[np.bool_] = (self._bits[byte] & bit) != 0
        return held

    def _slots(
        self, keys: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint8]]:
        """Each key's byte of the bitmap and its bit there (multiplicative hashing: the top
        bits of the key times a large odd constant, modulo 2**64)."""
        slot = (keys.view(np.uint64) * _GOLDEN) >> self._shift
        return slot >> np.uint64(3), np.left_shift(1, slot & np.uint64(7)).astype(np.uint8)


class _Run:
    """``size`` keys in ascending order and their rows, padded (keys ``_PAD``, rows 0) to
    whole blocks of ``_BLOCK``; ``fence`` holds each block's first key. Rows are uint32
    (4 bytes a number less) unless one is too large for it."""

    def __init__(self, keys: npt.NDArray[np.int64], rows: npt.NDArray[Any], size: int):
        self.keys, self.rows, self.size = keys, rows, size
        self.fence = keys[::_BLOCK].copy()

    def find(self, needles: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
        """Which of the keys ``needles`` (ascending) the run holds, and their rows."""
        block = np.searchsorted(self.fence, needles, side="right") - 1
        np.maximum(block, 0, out=block)
        equal = self.keys.reshape(-1, _BLOCK)[block] == needles[:, None]
        hit = np.flatnonzero(equal.any(axis=1))
        at = block[hit] * _BLOCK + equal[hit].argmax(axis=1)
        return hit, self.rows[at]


def _padded(
    size: int, row_type: type[np.integer[Any]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Keys and rows of a run of ``size``, all padding yet."""
    length = -(-size // _BLOCK) * _BLOCK
    return np.full(length, _PAD, dtype=np.int64), np.zeros(length, dtype=row_type)


def _row_type(rows: npt.NDArray[np.int64]) -> type[np.integer[Any]]:
    if rows.size and (rows.min() < 0 or rows.max() > np.iinfo(np.uint32).max):
        return np.int64
    return np.uint32


def _merge(older: _Run, newer: _Run) -> _Run:
    """Two runs with no key in common as one."""
    keys_a, rows_a = older.keys[: older.size], older.rows[: older.size]
    keys_b, rows_b = newer.keys[: newer.size], newer.rows[: newer.size]
    size = older.size + newer.size
    # Where each of b's keys lands: after the a keys below it and the b keys before it.
    into = np.searchsorted(keys_a, keys_b) + np.arange(newer.size)
    from_a = np.ones(size, dtype=bool)
    from_a[into] = False
    wide = np.int64 in (older.rows.dtype, newer.rows.dtype)
    keys, rows = _padded(size, np.int64 if wide else np.uint32)
    keys[into], rows[into] = keys_b, rows_b
    keys[:size][from_a], rows[:size][from_a] = keys_a, rows_a
    return _Run(keys, rows, size)


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
