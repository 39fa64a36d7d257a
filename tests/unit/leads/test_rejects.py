"""dialer.leads.rejects: the rejects file appears only when the import succeeds."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from dialer.leads.rejects import REJECT_COLUMNS, rejects_file


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"row": [3], "value": ["=HYPERLINK(1)"], "reason": ["unparseable"], "detail": ["x"]}
    )


def test_written_and_put_in_place_on_success(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    with rejects_file(path) as rejects:
        rejects.write(_frame())
        assert not path.exists()
    with path.open(newline="", encoding="utf-8") as stream:
        assert list(csv.reader(stream)) == [
            list(REJECT_COLUMNS),
            ["3", "'=HYPERLINK(1)", "unparseable", "x"],
        ]
    assert list(tmp_path.iterdir()) == [path]


def test_nothing_left_behind_on_error(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    path.write_text("an earlier import's\n")
    with pytest.raises(RuntimeError), rejects_file(path) as rejects:
        rejects.write(_frame())
        raise RuntimeError
    assert path.read_text() == "an earlier import's\n"
    assert list(tmp_path.iterdir()) == [path]
