"""Files holding leads are the owner's alone: the SQLite ledger with its -wal/-shm, rejects
files, exports and uploads 0600, directories the dialer makes 0700, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dialer.api.app import create_app
from dialer.ledger.engine import make_engine, migrate
from dialer.private import open_private, private_dir
from tests.api.conftest import API_KEY, api_settings, upload


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.mark.slow
def test_the_cli_leaves_nothing_readable_by_others(tmp_path: Path) -> None:
    mask = 0o000  # the most permissive; 0o022 is tested in-process below
    (tmp_path / "leads.csv").write_text("Phone\n+12125550147\nnot a number\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env["DIALER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ledger.db'}"

    def dialer(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "dialer", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
            preexec_fn=lambda: os.umask(mask),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    dialer("campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv")
    dialer("campaign", "export", "spring", "-o", "spring.csv")
    files = ["ledger.db", "spring-rejects.csv", "spring.csv"]
    modes = {name: _mode(tmp_path / name) for name in files}
    assert modes == dict.fromkeys(files, 0o600)


def test_the_ledger_and_its_wal_are_private(tmp_path: Path, umask: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    with engine.connect() as connection:  # WAL mode: -wal and -shm exist while it is open
        connection.exec_driver_sql("SELECT count(*) FROM campaign")
        made = sorted(p.name for p in tmp_path.iterdir())
        assert made == ["ledger.db", "ledger.db-shm", "ledger.db-wal"]
        assert {_mode(tmp_path / name) for name in made} == {0o600}
    engine.dispose()


def test_api_uploads_and_rejects_are_private(sqlite_url: str, tmp_path: Path, umask: int) -> None:
    files = tmp_path / "made" / "by" / "dialer"
    engine = make_engine(sqlite_url)
    app = create_app(api_settings(sqlite_url), engine, files)
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        assert upload(client)[0] == 201
    engine.dispose()
    for directory in (tmp_path / "made", tmp_path / "made" / "by", files, *files.rglob("*")):
        if directory.is_dir():
            assert _mode(directory) == 0o700, directory
    kept = [p for p in files.rglob("*") if p.is_file()]
    assert kept and {_mode(p) for p in kept} == {0o600}


def test_the_helpers_make_private_files_and_dirs(tmp_path: Path, umask: int) -> None:
    with open_private(tmp_path / "a.csv") as out:
        out.write("x")
    (tmp_path / "b.csv").write_text("old")
    (tmp_path / "b.csv").chmod(0o644)
    with open_private(tmp_path / "b.csv", "w") as out:
        out.write("new")
    with open_private(tmp_path / "upload.csv", "xb") as raw:  # how an API upload is kept
        raw.write(b"x")
    modes = {_mode(tmp_path / name) for name in ("a.csv", "b.csv", "upload.csv")}
    assert modes == {0o600}
    assert (tmp_path / "b.csv").read_text() == "new"
    private_dir(tmp_path / "x" / "y")
    assert (_mode(tmp_path / "x"), _mode(tmp_path / "x" / "y")) == (0o700, 0o700)
