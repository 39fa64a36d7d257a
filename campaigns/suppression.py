"""Reading do-not-call lists: a CSV with a phone column, or one number per line."""

from __future__ import annotations

from pathlib import Path

from dialer.errors import CsvError, InputError
from dialer.leads.chunks import iter_chunks
from dialer.leads.files import open_leads
from dialer.leads.phones import PhoneNumber, normalize_many


def read_number_list(path: Path, region: str) -> set[str]:
    """The valid E.164 numbers listed in ``path``. Unreadable entries are skipped.

    A file with a recognisable phone column header is read as CSV; anything else as one
    number per line (the usual export of a do-not-call list).
    """
    if not path.is_file():
        raise InputError(f"suppression list {path} not found")
    raws: list[str] = []
    try:
        leads = open_leads(path)
        for chunk in iter_chunks(leads):
            raws.extend(chunk.frame[leads.phone_column].astype(str))
    except CsvError:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        raws = [line.strip().strip('"') for line in text.splitlines() if line.strip()]
    results = normalize_many([(raw, region) for raw in dict.fromkeys(raws)])
    return {r.e164 for r in results if isinstance(r, PhoneNumber)}
