"""Turning one chunk of lead rows into contacts and rejects: plain functions over DataFrames.

Every row of the chunk ends in exactly one of the two frames this module returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dialer.phones import PhoneNumber, normalize_many, zone_key

FIRST_NAME_COLUMNS = ("first_name", "firstname", "first", "given_name", "forename")
LAST_NAME_COLUMNS = ("last_name", "lastname", "last", "surname", "family_name")
FULL_NAME_COLUMNS = ("name", "full_name", "fullname", "contact_name", "lead_name")
EMAIL_COLUMNS = ("email", "e_mail", "email_address", "e_mail_address", "mail")

REJECT_COLUMNS = ("row", "value", "reason")


@dataclass(frozen=True)
class LeadColumns:
    """Which of the file's (snake_case) columns hold what."""

    phone: str
    country: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    email: str | None
    variables: tuple[str, ...]

    @classmethod
    def detect(cls, columns: Sequence[str], phone: str, country: str | None) -> LeadColumns:
        def first_of(names: Iterable[str]) -> str | None:
            return next((name for name in names if name in columns), None)

        return cls(
            phone=phone,
            country=country,
            first_name=first_of(FIRST_NAME_COLUMNS),
            last_name=first_of(LAST_NAME_COLUMNS),
            full_name=first_of(FULL_NAME_COLUMNS),
            email=first_of(EMAIL_COLUMNS),
            variables=tuple(c for c in columns if c != "row"),
        )


@dataclass
class ChunkResult:
    contacts: pd.DataFrame
    rejects: pd.DataFrame


RowCheck = Callable[[pd.DataFrame], "pd.Series[str]"]
"""Given accepted contacts, a reason per row where a provider rule is broken, else ""."""


def split_chunk(
    frame: pd.DataFrame,
    *,
    columns: LeadColumns,
    region: str,
    seen: set[str],
    suppressed: set[str],
    check: RowCheck | None = None,
) -> ChunkResult:
    """Normalize a chunk's phones and split it into new contacts and rejects (row, value, reason).

    ``seen`` holds the phones already accepted (earlier chunks, or the campaign's existing
    contacts on ``--append``) and is updated with this chunk's. The first row with a number
    wins; later ones are rejected as ``duplicate``. Each distinct (value, region) is parsed once.
    """
    raw = frame[columns.phone].astype(str)
    regions = _regions(frame, columns.country, region)
    keys = raw + "\x1f" + regions
    unique_keys = pd.unique(keys.to_numpy())
    pairs = [tuple(k.split("\x1f", 1)) for k in unique_keys]
    results = normalize_many([(p[0], p[1]) for p in pairs])
    position = pd.Index(unique_keys).get_indexer(pd.Index(keys.to_numpy()))

    e164 = np.array([r.e164 if isinstance(r, PhoneNumber) else "" for r in results], dtype=object)
    reason = np.array(
        ["" if isinstance(r, PhoneNumber) else r.reason for r in results], dtype=object
    )
    ext = np.array(
        [r.extension if isinstance(r, PhoneNumber) else None for r in results], dtype=object
    )
    kind = np.array(
        [r.number_type if isinstance(r, PhoneNumber) else "" for r in results], dtype=object
    )
    zones = np.array(
        [zone_key(r.timezones) if isinstance(r, PhoneNumber) else "" for r in results],
        dtype=object,
    )

    row_phone = pd.Series(e164[position], index=frame.index)
    row_reason = pd.Series(reason[position], index=frame.index)
    valid = row_reason == ""
    duplicate = valid & (row_phone.duplicated(keep="first") | row_phone.isin(seen))
    row_reason = row_reason.mask(duplicate, "duplicate")
    blocked = (row_reason == "") & row_phone.isin(suppressed)
    row_reason = row_reason.mask(blocked, "suppressed")

    accepted = row_reason == ""
    contacts = _contacts(frame[accepted], columns, row_phone[accepted])
    contacts["extension"] = ext[position][accepted.to_numpy()]
    contacts["number_type"] = kind[position][accepted.to_numpy()]
    contacts["zone_key"] = zones[position][accepted.to_numpy()]
    if check is not None and not contacts.empty:
        broken = check(contacts)
        if (broken != "").any():
            row_reason.loc[broken[broken != ""].index] = broken[broken != ""]
            contacts = contacts[broken == ""]
            accepted = row_reason == ""
    seen.update(contacts["phone"])
    rejects = pd.DataFrame(
        {"row": frame["row"][~accepted], "value": raw[~accepted], "reason": row_reason[~accepted]}
    )
    return ChunkResult(contacts=contacts, rejects=rejects)


def _regions(frame: pd.DataFrame, country: str | None, default: str) -> pd.Series[str]:
    """Each row's default region: its own ISO country code when given and sane, else ``default``."""
    if country is None:
        return pd.Series(default, index=frame.index, dtype=object)
    codes = frame[country].astype(str).str.strip().str.upper()
    return codes.where(codes.str.fullmatch(r"[A-Z]{2}"), default).astype(object)


def _contacts(rows: pd.DataFrame, columns: LeadColumns, phones: pd.Series[str]) -> pd.DataFrame:
    def text(column: str | None) -> pd.Series[str]:
        if column is None:
            return pd.Series("", index=rows.index, dtype=object)
        return rows[column].astype(str).str.strip()

    first, last = text(columns.first_name), text(columns.last_name)
    if columns.first_name is None and columns.full_name is not None:
        parts = text(columns.full_name).str.split(n=1, expand=True).reindex(columns=[0, 1])
        first, last = parts[0].fillna(""), parts[1].fillna("")
    variables = rows.loc[:, list(columns.variables)].astype(str)
    as_json = variables.to_json(orient="records", lines=True, force_ascii=False) or ""
    return pd.DataFrame(
        {
            "row": rows["row"].astype(int),
            "phone": phones,
            "raw_phone": rows[columns.phone].astype(str),
            "first_name": first,
            "last_name": last,
            "email": text(columns.email),
            # Split on "\n" only: JSON escapes it inside strings, but not U+2028 and friends,
            # which str.splitlines would also split on.
            "variables": as_json.removesuffix("\n").split("\n") if len(rows) else [],
        },
        index=rows.index,
    )
