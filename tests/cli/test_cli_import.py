"""``dialer campaign create`` as a user runs it: several phone columns, --dry-run, --region."""

from __future__ import annotations

from pathlib import Path

from tests.cli.running import dialer_here, one_line_error

HUBSPOT = (
    "\ufeffFirst Name,Phone Number,Mobile Phone Number\r\n"
    "Ann,(212) 555-2671,\r\n"
    "Bob,,(212) 555-2672\r\n"
    "Cy,2125552673,+1 212 555 2674\r\n"
)


def test_create_says_which_phone_columns_gave_how_many_numbers(tmp_path: Path) -> None:
    (tmp_path / "hubspot.csv").write_text(HUBSPOT, encoding="utf-8")
    result = dialer_here(
        tmp_path, "campaign", "create", "spring", "--account", "sandbox", "--csv", "hubspot.csv"
    )
    assert result.returncode == 0, result.stderr
    assert "Phone numbers from: Phone Number (2), Mobile Phone Number (1)" in result.stdout
    repeated = dialer_here(
        tmp_path,
        *("campaign", "create", "autumn", "--account", "sandbox", "--csv", "hubspot.csv"),
        *("--phone-column", "Mobile Phone Number", "--phone-column", "Phone Number"),
    )
    assert repeated.returncode == 0, repeated.stderr
    assert "Phone numbers from: Mobile Phone Number (2), Phone Number (1)" in repeated.stdout


def test_region_uk_is_refused_in_one_line_naming_gb(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("phone\n020 7946 0958\n", encoding="utf-8")
    result = dialer_here(
        tmp_path,
        *("campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv"),
        *("--region", "uk"),
    )
    assert one_line_error(result) == "error: --region 'UK' is not an ISO country code: use GB"


def test_dry_run_reports_writes_the_rejects_and_creates_no_campaign(tmp_path: Path) -> None:
    (tmp_path / "hubspot.csv").write_text(HUBSPOT + "Di,n/a,\r\n", encoding="utf-8")
    result = dialer_here(
        tmp_path,
        *("campaign", "create", "spring", "--account", "sandbox", "--csv", "hubspot.csv"),
        "--dry-run",
    )
    assert result.returncode == 0, result.stderr
    *report, estimate = result.stdout.splitlines()
    # As `campaign start` would say it of these 3 contacts (the default window opens at
    # 09:00 in New York, mon-sat; the time it ends depends on now).
    assert estimate.startswith(
        "Estimate: at 50/s inside 09:00-20:00 mon-sat, 3 contacts need 0 seconds of dialing"
    )
    assert report == [
        "Dry run: hubspot.csv for campaign 'spring'; nothing was created",
        "  rows read           4",
        "  accepted            3",
        "  rejected            1",
        "    missing                         1",
        "Phone numbers from: Phone Number (2), Mobile Phone Number (1)",
        "Rejected rows (row, value, reason, detail) are in spring-rejects.csv",
        "The first 3 contacts, as they will be dialed:",
        "  row 1      +12125552671     fixed_line_or_mobile   America/New_York",
        "  row 2      +12125552672     fixed_line_or_mobile   America/New_York",
        "  row 3      +12125552673     fixed_line_or_mobile   America/New_York",
    ]
    assert (tmp_path / "spring-rejects.csv").read_text(encoding="utf-8").splitlines() == [
        "row,value,reason,detail",
        "4,n/a,missing,no phone number",
    ]
    listed = dialer_here(tmp_path, "campaign", "list")
    assert listed.returncode == 0, listed.stderr
    assert "spring" not in listed.stdout
