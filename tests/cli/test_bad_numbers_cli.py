"""The CLI around bad numbers, recycling and the attempts export: ``suppress list --source
provider``, ``suppress remove``, ``campaign recycle`` and ``campaign export --attempts``,
against the sandbox, exactly as a user types them (in this process: the commands' logic and
output are the subject)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

from campaigns.export import ATTEMPT_COLUMNS
from tests.cli.running import dialer_here, one_line_error

BAD, GOOD = "+12125552671", "+12125552672"


@pytest.fixture
def dialed(tmp_path: Path, sandbox_url: str) -> Path:
    """Campaign ``spring`` dialed once: GOOD placed, BAD answered as an invalid number."""
    (tmp_path / "leads.csv").write_text(f"Name,Phone\nAnn,{BAD}\nBob,{GOOD}\n", encoding="utf-8")
    (tmp_path / "dialer.toml").write_text(
        f'[accounts.box]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\ntimeout = 3\n',
        encoding="utf-8",
    )
    rule = {"phone": BAD, "action": "invalid-number"}
    httpx.post(f"{sandbox_url}/_sandbox/rules", json=rule).raise_for_status()
    for step in (
        ["campaign", "create", "spring", "--account", "box", "--csv", "leads.csv"],
        ["campaign", "start", "spring"],
        ["run", "--drain"],
    ):
        done = dialer_here(tmp_path, *_with_window(step))
        assert done.returncode == 0, done.stderr
    return tmp_path


def _with_window(step: list[str]) -> list[str]:
    if step[:2] == ["campaign", "create"]:
        return [*step, "--window", "00:00-24:00", "--days", "all"]
    return step


def test_bad_numbers_are_listed_by_source_and_can_be_removed(dialed: Path) -> None:
    listing = dialer_here(dialed, "suppress", "list", "--source", "provider")
    assert listing.returncode == 0, listing.stderr
    (line,) = listing.stdout.splitlines()
    phone, source, _added, reason = line.split("\t")
    assert (phone, source) == (BAD, "provider")
    assert reason == "sandbox: HTTP 400: to: number not in service"
    other = dialer_here(dialed, "suppress", "list", "--source", "command line")
    assert other.stdout.strip() == "the do-not-call list has no number from 'command line'"
    removed = dialer_here(dialed, "suppress", "remove", BAD)
    assert removed.stdout.strip() == "1 number removed"
    assert dialer_here(dialed, "suppress", "list").stdout.strip() == "the do-not-call list is empty"


def test_export_attempts_to_standard_output_and_for_excel(dialed: Path) -> None:
    result = dialer_here(dialed, "campaign", "export", "spring", "--attempts", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "Exported 2 attempts of 'spring'\n"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == ATTEMPT_COLUMNS
    by_phone = {row["phone"]: row for row in rows}
    assert (by_phone[BAD]["http_status"], by_phone[BAD]["result"]) == ("400", "failed")
    assert by_phone[BAD]["error"] == "bad number: sandbox: HTTP 400: to: number not in service"
    assert (by_phone[GOOD]["http_status"], by_phone[GOOD]["result"]) == ("200", "placed")
    assert by_phone[GOOD]["provider_call_id"].startswith("SBX-")
    assert (by_phone[BAD]["row"], by_phone[GOOD]["row"]) == ("1", "2")
    saved = dialer_here(
        dialed, "campaign", "export", "spring", "--attempts", "--excel", "-o", "a.csv"
    )
    assert saved.stdout == "Exported 2 attempts of 'spring' to a.csv\n"
    assert (dialed / "a.csv").read_bytes().startswith(b"\xef\xbb\xbftime,row,phone,")
    # Recycling (tests/integration/test_recycle.py has the rest): no outcome was reported
    # yet, so there is nothing to recycle, and the command says so.
    same = dialer_here(dialed, "campaign", "recycle", "spring", "--outcome", "no-answer,busy")
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip() == "0 contacts of 'spring' are pending again."
    into = dialer_here(
        dialed, "campaign", "recycle", "spring", "--outcome", "busy", "--into", "later"
    )
    assert into.stdout.strip() == (
        "Campaign 'later' created (draft) with 0 contacts of 'spring'; start it to dial them."
    )
    wrong = dialer_here(dialed, "campaign", "recycle", "spring", "--outcome", "unknown")
    assert "--outcome takes completed, no-answer, busy, failed, voicemail; not unknown" in (
        one_line_error(wrong)
    )
