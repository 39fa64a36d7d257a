"""``dialer campaign create`` as a user runs it: several phone columns, --dry-run, --region."""

from __future__ import annotations

from pathlib import Path

from test_cli import dialer, one_line_error

HUBSPOT = (
    "\ufeffFirst Name,Phone Number,Mobile Phone Number\r\n"
    "Ann,(212) 555-2671,\r\n"
    "Bob,,(212) 555-2672\r\n"
    "Cy,2125552673,+1 212 555 2674\r\n"
)


def test_create_says_which_phone_columns_gave_how_many_numbers(tmp_path: Path) -> None:
    (tmp_path / "hubspot.csv").write_text(HUBSPOT, encoding="utf-8")
    result = dialer(
        tmp_path, "campaign", "create", "spring", "--account", "sandbox", "--csv", "hubspot.csv"
    )
    assert result.returncode == 0, result.stderr
    assert "Phone numbers from: Phone Number (2), Mobile Phone Number (1)" in result.stdout
    repeated = dialer(
        tmp_path,
        *("campaign", "create", "autumn", "--account", "sandbox", "--csv", "hubspot.csv"),
        *("--phone-column", "Mobile Phone Number", "--phone-column", "Phone Number"),
    )
    assert repeated.returncode == 0, repeated.stderr
    assert "Phone numbers from: Mobile Phone Number (2), Phone Number (1)" in repeated.stdout


def test_region_uk_is_refused_in_one_line_naming_gb(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("phone\n020 7946 0958\n", encoding="utf-8")
    result = dialer(
        tmp_path,
        *("campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv"),
        *("--region", "uk"),
    )
    assert one_line_error(result) == "error: --region 'UK' is not an ISO country code: use GB"
