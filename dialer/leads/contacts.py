"""Turning one chunk of lead rows into contacts and rejects: plain functions over DataFrames.

Every row of the chunk ends in exactly one of the two frames this module returns.

A chunk is tens of thousands of rows, so nothing here loops over them in Python: the phone
column is reduced to its distinct values (``phone_cells``), which are what ``dialer.leads.phones``
normalizes; everything per row is numpy indexing or pyarrow compute over those results.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dialer.leads.headers import LeadColumns
from dialer.leads.known_numbers import known_e164s
from dialer.leads.phones import PhoneColumns, normalize_columns
from dialer.leads.regions import REGION_ALIASES
from dialer.leads.seen import SeenNumbers
from dialer.zone_keys import key_for_zones


@dataclass
class ChunkResult:
    """``contacts`` (``CONTACT_IMPORT_COLUMNS``) and ``rejects`` (``REJECT_COLUMNS``); for
    each phone column, in ``LeadColumns.phones`` order, how many contacts it ``supplied``."""

    contacts: pd.DataFrame
    rejects: pd.DataFrame
    supplied: tuple[int, ...]


@dataclass(frozen=True)
class PhoneCells:
    """A chunk's phone cells as ``pairs``, its distinct (value, default region) pairs in order
    of first appearance, and ``position``: for each row of each phone column (column after
    column), the index of its pair. ``values`` and ``regions`` are the pairs' two halves as
    arrow arrays (``regions`` one string when every row has the same)."""

    pairs: list[tuple[str, str]]
    position: npt.NDArray[np.intp]
    values: pa.Array
    regions: pa.Array | str


RowCheck = Callable[[pd.DataFrame, pd.DataFrame], "pd.Series[str]"]
"""Given accepted contacts and their rows of the leads file (same index), a reason per
contact where a provider rule is broken, else ""."""


def phone_cells(frame: pd.DataFrame, *, columns: LeadColumns, region: str) -> PhoneCells:
    """The chunk's distinct phone values, each with the default region its row gives it."""
    raw = _phone_text(frame, columns.phones)
    if columns.country is None:
        encoded = pc.dictionary_encode(raw)
        values = encoded.dictionary
        pairs = [(value, region) for value in values.to_pylist()]
        position = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
        return PhoneCells(pairs=pairs, position=position, values=values, regions=region)
    regions = _arrow_text(_regions(frame, columns.country, region))
    if len(columns.phones) > 1:
        regions = pa.concat_arrays([regions] * len(columns.phones))
    # The region never holds the separator, so splitting at its last one is exact.
    keys = pc.binary_join_element_wise(raw, regions, _text_scalar("\x1f"))
    encoded = pc.dictionary_encode(keys)
    pairs = [_pair(key) for key in encoded.dictionary.to_pylist()]
    position = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    # The dictionary is in order of first appearance: its entries' first rows, ascending.
    _, first = np.unique(position, return_index=True)
    return PhoneCells(
        pairs=pairs,
        position=position,
        values=raw.take(pa.array(first)),
        regions=regions.take(pa.array(first)),
    )


@dataclass(frozen=True)
class Normalized:
    """A chunk's pairs normalized: ``columns`` holds ``normalize_columns`` of the pairs at
    ``parsed`` (all of them when None); every other pair, at ``repeats``, plainly repeats the
    accepted number at the same place in ``repeated``."""

    parsed: npt.NDArray[np.intp] | None
    columns: PhoneColumns
    repeats: npt.NDArray[np.intp] | None = None
    repeated: npt.NDArray[np.object_] | None = None


def normalize_new(cells: PhoneCells, *, seen: SeenNumbers) -> Normalized:
    """``normalize_columns(cells.pairs)``, except for values that plainly repeat an accepted
    number.

    A value ``known_e164s`` reads as a number in ``seen`` (numbers already accepted: valid
    ones) is not parsed: it would read as that valid number, which ``split_chunk`` rejects
    as a duplicate. In a merged list that is about one value in eight, each a parse saved.

    ``seen`` may grow on another thread meanwhile (membership tests see a number or not;
    either answer is right).
    """
    if not seen:
        return Normalized(parsed=None, columns=normalize_columns(cells.pairs))
    known = known_e164s(cells.values, cells.regions)
    candidates = np.flatnonzero(known.is_valid().to_numpy(zero_copy_only=False))
    numbers = known.drop_null()
    repeats = seen.rows(numbers) >= 0
    if not repeats.any():
        return Normalized(parsed=None, columns=normalize_columns(cells.pairs))
    parsed = np.setdiff1d(np.arange(len(cells.pairs)), candidates[repeats])
    pairs = [cells.pairs[i] for i in parsed.tolist()]
    return Normalized(
        parsed=parsed,
        columns=normalize_columns(pairs),
        repeats=candidates[repeats],
        repeated=_objects(numbers.filter(pa.array(repeats)).to_pylist()),
    )


def _pair(key: str) -> tuple[str, str]:
    value, region = key.rsplit("\x1f", 1)
    return value, region


def split_chunk(
    frame: pd.DataFrame,
    *,
    columns: LeadColumns,
    region: str,
    seen: SeenNumbers,
    suppressed: set[str],
    check: RowCheck | None = None,
    normalized: tuple[PhoneCells, Normalized] | None = None,
) -> ChunkResult:
    """Normalize a chunk's phones and split it into new contacts and rejects (row, value,
    reason, detail).

    ``seen`` maps the phones already accepted to the row that brought each (0 for the
    campaign's existing contacts on ``--append``) and is updated with this chunk's. The first
    row with a number wins; later ones are rejected as ``duplicate``, the detail naming that
    row. Each distinct (value, region) is parsed once.
    ``normalized`` is ``phone_cells`` of this chunk and ``normalize_new`` of those, when the
    caller has already computed them (the importer does, overlapping chunks); by default
    the cells are computed and all normalized here.
    """
    if normalized is None:
        cells = phone_cells(frame, columns=columns, region=region)
        results = Normalized(parsed=None, columns=normalize_columns(cells.pairs))
    else:
        cells, results = normalized
    parsed = _Parsed.of(results, len(cells.pairs))
    positions = cells.position.reshape(len(columns.phones), len(frame))
    choice, position = _choose(positions, parsed)

    # Number the distinct E.164 numbers so that duplicates are found by integer work; the
    # sets are consulted once per distinct number, not once per row.
    codes, numbers = pd.factorize(parsed.e164)
    row_code = codes[position]
    row_valid = parsed.valid[position]
    valid_rows = np.flatnonzero(row_valid)
    _, first_rows = np.unique(row_code[valid_rows], return_index=True)
    duplicate = row_valid.copy()
    duplicate[valid_rows[first_rows]] = False
    seen_row = seen.rows(numbers)
    duplicate |= row_valid & (seen_row >= 0)[row_code]
    blocked = row_valid & ~duplicate & _members(numbers, suppressed)[row_code]

    row_reason = parsed.reason[position]
    row_reason[duplicate] = "duplicate"
    row_reason[blocked] = "suppressed"
    accepted = row_valid & ~duplicate & ~blocked
    row_detail = parsed.detail[position]
    row_detail[blocked] = "on a do-not-call list"
    repeated = np.flatnonzero(row_reason == "duplicate")
    if repeated.size:
        firsts = valid_rows[first_rows]
        first_row = np.full(len(numbers), -1, dtype=np.int64)
        first_row[row_code[firsts]] = frame["row"].to_numpy()[firsts]
        row_detail[repeated] = _duplicate_details(row_code[repeated], seen_row, first_row)

    raw = _chosen_text(frame, columns.phones, choice)
    rows = np.flatnonzero(accepted)
    taken = frame.iloc[rows]
    alternates = None
    if columns.alternates is not None:
        alternates = _alternates(positions[:, rows], position[rows], parsed)
    contacts = _contacts(taken, raw.iloc[rows], columns, position[rows], parsed, alternates)
    if check is not None and not contacts.empty:
        broken = check(contacts, taken).to_numpy(dtype=object)
        rejected = broken != ""
        if rejected.any():
            where = rows[rejected]
            row_reason[where] = broken[rejected]
            row_detail[where] = ""
            accepted[where] = False
            contacts = contacts[~rejected]
    seen.add(contacts["phone"].to_numpy(dtype=object), contacts["row"].to_numpy(dtype=np.int64))
    refused = np.flatnonzero(~accepted)
    rejects = pd.DataFrame(
        {
            "row": frame["row"].iloc[refused],
            "value": raw.iloc[refused],
            "reason": pd.Series(row_reason[refused], index=frame.index[refused], dtype=object),
            "detail": pd.Series(row_detail[refused], index=frame.index[refused], dtype=object),
        }
    )
    supplied = np.bincount(choice[accepted], minlength=len(columns.phones))
    return ChunkResult(contacts=contacts, rejects=rejects, supplied=tuple(supplied.tolist()))


def _choose(
    positions: npt.NDArray[np.intp], parsed: _Parsed
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For each row, which phone column is its number (``choice``) and that cell's pair.

    The first column holding a valid number (or one that plainly repeats an accepted number:
    the row is then that number's duplicate); with none, the first column holding something
    other than nothing, whose reason the row is rejected for.
    """
    count = positions.shape[1]
    if len(positions) == 1:
        return np.zeros(count, dtype=np.intp), positions[0]
    usable = (parsed.valid | (parsed.reason == "duplicate"))[positions]
    something = (parsed.reason != "missing")[positions]
    choice = np.where(usable.any(axis=0), usable.argmax(axis=0), something.argmax(axis=0))
    return choice, positions[choice, np.arange(count)]


def _phone_text(frame: pd.DataFrame, phones: Sequence[str]) -> pa.Array:
    """The phone columns' cells, column after column, as one arrow array."""
    if len(phones) == 1:
        return _arrow_text(frame[phones[0]])
    return pa.concat_arrays([_arrow_text(frame[name]) for name in phones])


def _chosen_text(
    frame: pd.DataFrame, phones: Sequence[str], choice: npt.NDArray[np.intp]
) -> pd.Series[str]:
    """Each row's cell of its chosen phone column, as written."""
    if len(phones) == 1:
        return frame[phones[0]].astype(str)
    cells = np.stack([frame[name].astype(str).to_numpy(dtype=object) for name in phones])
    return pd.Series(cells[choice, np.arange(len(frame))], index=frame.index, dtype=object)


def _alternates(
    positions: npt.NDArray[np.intp], chosen: npt.NDArray[np.intp], parsed: _Parsed
) -> pa.Array:
    """Per row, its other valid numbers (``positions``: its pair in each phone column;
    ``chosen``: the pair of its contact's number), in column order, each once, joined by
    ", "; "" when it has none."""
    taken = [parsed.e164[chosen]]
    joined = np.full(len(chosen), "", dtype=object)
    for pairs in positions:
        numbers = parsed.e164[pairs]
        new = parsed.valid[pairs]
        for earlier in taken:
            new &= numbers != earlier
        taken.append(numbers)
        after = new & (joined != "")
        joined[after] += ", "
        joined[new] += numbers[new]
    return _arrow_objects(joined)


@dataclass(frozen=True)
class _Parsed:
    """``normalize_new``'s results as arrays, one entry per distinct value ("" when the value
    was rejected; reason "duplicate", not valid, and the E.164 it repeats when it plainly
    repeats an accepted number)."""

    valid: npt.NDArray[np.bool_]
    e164: npt.NDArray[np.object_]
    reason: npt.NDArray[np.object_]
    detail: npt.NDArray[np.object_]
    extension: npt.NDArray[np.object_]
    number_type: npt.NDArray[np.object_]
    zone_key: npt.NDArray[np.object_]

    @classmethod
    def of(cls, normalized: Normalized, count: int) -> _Parsed:
        results = normalized.columns
        # phonenumbers hands out a few hundred distinct zone tuples: join each once.
        zone_keys = {zones: key_for_zones(zones) for zones in set(results.timezones)}
        fields: dict[str, Sequence[object]] = {
            "e164": results.e164,
            "reason": results.reason,
            "detail": results.detail,
            "extension": results.extension,
            "number_type": results.number_type,
            "zone_key": [zone_keys[zones] for zones in results.timezones],
        }
        if normalized.parsed is None:
            arrays = {name: _objects(values) for name, values in fields.items()}
        else:
            arrays = {}
            for name, values in fields.items():
                arrays[name] = np.full(count, _REPEAT[name], dtype=object)
                arrays[name][normalized.parsed] = _objects(values)
            arrays["e164"][normalized.repeats] = normalized.repeated
        return cls(valid=arrays["reason"] == "", **arrays)


# A value that plainly repeats an accepted number (see normalize_new), as _Parsed holds it.
_REPEAT: dict[str, object] = {
    "e164": "",
    "reason": "duplicate",
    "detail": "",
    "extension": None,
    "number_type": "",
    "zone_key": "",
}


def _objects(values: Sequence[object]) -> npt.NDArray[np.object_]:
    """An object array of exactly these values (numpy would turn a list of str into <U)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _duplicate_details(
    codes: npt.NDArray[np.intp], seen_row: npt.NDArray[np.int64], first_row: npt.NDArray[np.int64]
) -> list[str]:
    """For duplicates of the numbers ``codes``, the earlier row each repeats: the one
    ``seen`` has (``seen_row``; 0 for a number the campaign already held), else this chunk's
    first (``first_row``)."""
    earlier = np.where(seen_row[codes] >= 0, seen_row[codes], first_row[codes])
    return [
        f"same number as row {row}" if row > 0 else "number already in the campaign"
        for row in earlier.tolist()
    ]


def _members(values: npt.NDArray[np.object_], among: set[str]) -> npt.NDArray[np.bool_]:
    if not among:
        return np.zeros(len(values), dtype=bool)
    return np.fromiter((value in among for value in values), dtype=bool, count=len(values))


def _arrow_text(series: pd.Series[Any]) -> pa.Array:
    """A text column as one pyarrow array (no copy when it is already arrow-backed)."""
    array = pa.array(series.astype(str), type=pa.large_string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _regions(frame: pd.DataFrame, country: str | None, default: str) -> pd.Series[str]:
    """Each row's default region: its own ISO country code when given and sane (``UK`` read
    as ``GB``), else ``default``."""
    if country is None:
        return pd.Series(default, index=frame.index, dtype=object)
    codes = frame[country].astype(str).str.strip().str.upper().replace(REGION_ALIASES)
    return codes.where(codes.str.fullmatch(r"[A-Z]{2}"), default).astype(object)


def _contacts(
    taken: pd.DataFrame,
    raw: pd.Series[str],
    columns: LeadColumns,
    pairs: npt.NDArray[np.intp],
    parsed: _Parsed,
    alternates: pa.Array | None,
) -> pd.DataFrame:
    """The contact frame (``CONTACT_IMPORT_COLUMNS``) of the lead rows ``taken``, indexed like
    them; ``raw`` is their phone cells as written, ``pairs`` says which of ``parsed`` is each
    row's phone, ``alternates`` are its other numbers (see ``_alternates``)."""

    def text(column: str | None) -> pd.Series[str]:
        if column is None:
            return pd.Series("", index=taken.index, dtype=object)
        return taken[column].astype(str).str.strip()

    first, last = text(columns.first_name), text(columns.last_name)
    if columns.first_name is None and columns.full_name is not None:
        parts = (
            text(columns.full_name)
            .str.split(n=1, expand=True)
            .reindex(columns=[0, 1], fill_value="")
        )
        first, last = parts[0].fillna(""), parts[1].fillna("")
    table = pa.table(
        {
            "row": pa.array(taken["row"].to_numpy(dtype=np.int64)),
            "phone": _arrow_objects(parsed.e164[pairs]),
            "raw_phone": _arrow_text(raw),
            "first_name": _arrow_text(first),
            "last_name": _arrow_text(last),
            "email": _arrow_text(text(columns.email)),
            "variables": _json_objects(_variables(taken, columns, alternates), len(taken)),
            "extension": _arrow_objects(parsed.extension[pairs]),
            "number_type": _arrow_objects(parsed.number_type[pairs]),
            "zone_key": _arrow_objects(parsed.zone_key[pairs]),
        }
    )
    contacts: pd.DataFrame = table.to_pandas()
    contacts.index = taken.index
    return contacts


def _variables(
    taken: pd.DataFrame, columns: LeadColumns, alternates: pa.Array | None
) -> list[tuple[str, pa.Array]]:
    fields = [(name, _arrow_text(taken[name])) for name in columns.variables]
    if columns.alternates is not None and alternates is not None:
        fields.append((columns.alternates, alternates))
    return fields


def _arrow_objects(values: npt.NDArray[np.object_]) -> pa.Array:
    return pa.array(values, type=pa.large_string(), from_pandas=False)


def _json_objects(fields: list[tuple[str, pa.Array]], count: int) -> pa.Array:
    """Per row, the one-line JSON object of ``fields`` ((name, text column), in order).

    Built by one concatenation: ``{"a":"`` value ``","b":"`` value ... ``"}``. Values holding
    a character JSON must escape (rare in leads) are escaped by ``json.dumps`` first.
    """
    if not fields:
        return pa.array(["{}"] * count, type=pa.large_string())
    parts: list[Any] = []
    for i, (name, values) in enumerate(fields):
        key = json.dumps(name, ensure_ascii=False)
        parts.append(_text_scalar(("{" if i == 0 else '",') + key + ':"'))
        parts.append(_json_escaped(values))
    parts.append(_text_scalar('"}'))
    return pc.binary_join_element_wise(*parts, _text_scalar(""))


def _json_escaped(values: pa.Array) -> pa.Array:
    """The text of each value as it goes between the quotes of a JSON string."""
    special = _needs_escaping(values)
    if special is None:
        return values
    escaped = [
        json.dumps(value, ensure_ascii=False)[1:-1] for value in values.filter(special).to_pylist()
    ]
    return pc.replace_with_mask(values, special, pa.array(escaped, type=pa.large_string()))


def _needs_escaping(values: pa.Array) -> pa.Array | None:
    """Which values hold a quote, a backslash or a control character (what a JSON string
    escapes); None when none does. A scan of the UTF-8 bytes: multi-byte sequences never
    hold bytes below 0x80."""
    _, offsets_buffer, data_buffer = values.buffers()
    if data_buffer is None:
        return None
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    hits = np.flatnonzero((data < 0x20) | (data == 0x22) | (data == 0x5C))
    if not hits.size:
        return None
    special = np.zeros(len(values), dtype=bool)
    special[np.searchsorted(offsets, hits + offsets[0], side="right") - 1] = True
    return pa.array(special)


def _text_scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, type=pa.large_string())
