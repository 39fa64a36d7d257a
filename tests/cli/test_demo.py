"""``dialer demo`` off a terminal (a pipe, a CI log): whole lines, whole errors, and a word
about the rows the table leaves out."""

from __future__ import annotations

from pathlib import Path

from tests.cli.running import dialer


def test_the_demo_reads_well_off_a_terminal(tmp_path: Path) -> None:
    result = dialer(tmp_path, "demo", "--workdir", "out", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[1:3] == [
        "Imported 39 rows: 32 contacts, 7 rejected "
        "(duplicate 2, invalid 2, missing 2, unparseable 1)",
        "Campaign 'demo' is completed: "
        "placed 30  failed 1  unknown 1  dialing 0  pending 0  cancelled 0",
    ]
    assert any(
        line.endswith("failed           1                      sandbox: HTTP 400: Bad Request")
        for line in lines
    )
    assert any("Server disconnected without sending a response." in line for line in lines)
    assert "... and 20 more contacts in the export" in lines
    assert lines[-1] == "Export: out/demo-export.csv   Rejects: out/demo-rejects.csv"
