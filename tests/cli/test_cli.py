"""The ``dialer`` command as a user runs it: real files, exact output; in this process
(:func:`~tests.cli.running.dialer_here`) unless the test is of the process: a campaign end to
end, Ctrl-C and SIGTERM, the installed script's imports, and ``suppress add`` once.

User errors must be one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.running import dialer, dialer_here, one_line_error


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "leads.csv").write_text(
        "First Name,Phone,City\nAnn,(212) 555-2671,NYC\nBob,n/a,LA\nCy,2125552671,NYC\n",
        encoding="utf-8",
    )
    return tmp_path


def test_create_prints_the_import_summary(workdir: Path) -> None:
    result = dialer_here(
        workdir, "campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Imported leads.csv into campaign 'spring'",
        "  rows read           3",
        "  accepted            1",
        "  rejected            2",
        "    missing                         1",
        "    duplicate                       1",
        "Phone numbers from: Phone (1)",
        "Rejected rows (row, value, reason, detail) are in spring-rejects.csv",
        "Next: dialer campaign start spring",
    ]
    with (workdir / "spring-rejects.csv").open(newline="", encoding="utf-8") as stream:
        assert list(csv.reader(stream)) == [
            ["row", "value", "reason", "detail"],
            ["2", "n/a", "missing", "no phone number"],
            ["3", "2125552671", "duplicate", "same number as row 1"],
        ]
    assert (workdir / "dialer.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["campaign", "create", "x", "--account", "sandbox", "--csv", "nope.csv"], "nope.csv"),
        (
            ["campaign", "create", "x", "--account", "ghost", "--csv", "leads.csv"],
            "no account named 'ghost'",
        ),
        (
            [
                "campaign",
                "create",
                "x",
                "--account",
                "sandbox",
                "--csv",
                "leads.csv",
                "--phone-column",
                "tel",
            ],
            "tel",
        ),
        (
            [
                "campaign",
                "create",
                "x",
                "--account",
                "sandbox",
                "--csv",
                "leads.csv",
                "--intro",
                "Hi {nam}",
                "--voicemail",
                "v",
            ],
            "{nam}",
        ),
        (["campaign", "status", "ghost"], "no campaign named 'ghost'"),
        (["campaign", "start", "ghost"], "no campaign named 'ghost'"),
        (["campaign", "export", "ghost", "-o", "x.csv"], "no campaign named 'ghost'"),
    ],
)
def test_user_errors_are_one_line(workdir: Path, args: list[str], message: str) -> None:
    assert message in one_line_error(dialer_here(workdir, *args))


def test_not_a_csv_and_no_phone_column(workdir: Path) -> None:
    (workdir / "blob.csv").write_bytes(bytes(range(256)) * 40)
    (workdir / "nophone.csv").write_text("name,email\nAnn,a@b.c\n", encoding="utf-8")
    for name in ("blob.csv", "nophone.csv"):
        one_line_error(
            dialer_here(workdir, "campaign", "create", "x", "--account", "sandbox", "--csv", name)
        )
    listing = dialer_here(workdir, "campaign", "list")
    assert "No campaigns yet" in listing.stdout


def test_bad_config_is_one_line(workdir: Path) -> None:
    (workdir / "dialer.toml").write_text("database_url = [\n", encoding="utf-8")
    assert "dialer.toml: not valid TOML" in one_line_error(dialer_here(workdir, "campaign", "list"))
    (workdir / "dialer.toml").write_text(
        '[accounts.a]\nprovider = "libby"\napi_key = "${NOPE_KEY}"\n'
    )
    assert "${NOPE_KEY} is not set" in one_line_error(dialer_here(workdir, "campaign", "list"))
    (workdir / "dialer.toml").write_text('[accounts.a]\nprovider = "libby"\napi_key = "k"\n')
    assert "needs agent_id" in one_line_error(dialer_here(workdir, "campaign", "list"))


def test_a_campaign_end_to_end_against_the_sandbox(workdir: Path, sandbox_url: str) -> None:
    secret = "sk-live-do-not-leak-123"
    # Both campaigns call the one lead in one drain: no minimum gap between its calls.
    (workdir / "dialer.toml").write_text(
        'min_call_gap = "0"\n'
        f'[accounts.box]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\nrate = "50/s"\n'
        f'[accounts.libby]\nprovider = "libby"\napi_key = "${{LIBBY_KEY}}"\nagent_id = "a1"\n'
        f'base_url = "{sandbox_url}"\n',
        encoding="utf-8",
    )
    env = {"LIBBY_KEY": secret}
    steps = [
        [
            "campaign",
            "create",
            "spring",
            "--account",
            "box",
            "--csv",
            "leads.csv",
            "--window",
            "00:00-24:00",
            "--days",
            "all",
        ],
        [
            "campaign",
            "create",
            "gym",
            "--account",
            "libby",
            "--csv",
            "leads.csv",
            "--window",
            "00:00-24:00",
            "--days",
            "all",
            "--intro",
            "Hi {first_name} from {city}",
            "--voicemail",
            "Call us back, {first_name}",
        ],
        ["campaign", "start", "spring"],
        ["campaign", "start", "gym"],
        ["run", "--drain"],
    ]
    for step in steps:
        result = dialer(workdir, *step, env=env)
        assert result.returncode == 0, result.stderr
        assert secret not in result.stdout + result.stderr
    status = json.loads(dialer(workdir, "campaign", "status", "spring", "--json", env=env).stdout)
    assert status["status"] == "completed"
    assert status["contacts"]["placed"] == 1 and status["total"] == 1
    assert dialer(workdir, "campaign", "export", "gym", "-o", "gym.csv", env=env).returncode == 0
    exported = (workdir / "gym.csv").read_text(encoding="utf-8")
    assert secret not in exported
    (row,) = list(csv.DictReader(exported.splitlines()))
    assert (row["phone"], row["status"], row["attempts"], row["city"]) == (
        "+12125552671",
        "placed",
        "1",
        "NYC",
    )
    import httpx

    (request,) = [
        r
        for r in httpx.get(f"{sandbox_url}/_sandbox/requests?credentials=show").json()
        if r["route"] == "libby"
    ]
    assert request["headers"]["x-api-key"] == secret
    assert request["json"]["introMessage"] == "Hi Ann from NYC"
    assert request["json"]["contact"]["phoneNumber"] == "+12125552671"
    again = dialer(workdir, "campaign", "start", "spring", env=env)
    assert "cannot start campaign 'spring': it is completed" in one_line_error(again)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_cleanly_with_nothing_left_in_flight(
    workdir: Path, sandbox_url: str, stop_signal: signal.Signals
) -> None:
    import time

    import httpx

    phones = [f"+1212555{2600 + i}" for i in range(40)]
    (workdir / "many.csv").write_text("phone\n" + "\n".join(phones) + "\n", encoding="utf-8")
    (workdir / "dialer.toml").write_text(
        f'[accounts.box]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\nrate = "5/s"\n'
        "timeout = 3\n",
        encoding="utf-8",
    )
    httpx.post(f"{sandbox_url}/_sandbox/config", json={"latency_ms": 300}).raise_for_status()
    for step in (
        [
            "campaign",
            "create",
            "c",
            "--account",
            "box",
            "--csv",
            "many.csv",
            "--window",
            "00:00-24:00",
            "--days",
            "all",
        ],
        ["campaign", "start", "c"],
    ):
        assert dialer_here(workdir, *step).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dialer", "run"],
        cwd=workdir,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(httpx.get(f"{sandbox_url}/_sandbox/requests").json()) < 5:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(stop_signal)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    status = json.loads(dialer_here(workdir, "campaign", "status", "c", "--json").stdout)
    assert status["contacts"]["queued"] == 0 and status["contacts"]["dialing"] == 0
    sent = len(httpx.get(f"{sandbox_url}/_sandbox/requests").json())
    assert status["contacts"]["placed"] == sent < len(phones)
    assert status["contacts"]["pending"] == len(phones) - sent


def test_suppress_add_list_remove(workdir: Path) -> None:
    (workdir / "dnc.txt").write_text("(212) 555-2671\n+1 212 555 2672\n", encoding="utf-8")
    added = dialer(workdir, "suppress", "add", "dnc.txt", "+13105551234")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "3 numbers added (0 were already listed)"
    listing = dialer_here(workdir, "suppress", "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [
        ["+12125552671", "dnc.txt, command line"],
        ["+12125552672", "dnc.txt, command line"],
        ["+13105551234", "dnc.txt, command line"],
    ]
    created = dialer_here(
        workdir, "campaign", "create", "s", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert "suppressed                      1" in created.stdout
    removed = dialer_here(workdir, "suppress", "remove", "+12125552671")
    assert removed.stdout.strip() == "1 number removed"
    refused = dialer_here(workdir, "suppress", "add", "nope")
    assert "neither a file nor a valid phone number" in one_line_error(refused)


def test_the_installed_scripts_module_imports_nothing_heavy() -> None:
    """The phone pool's workers re-run the ``dialer`` script's module before they start: it
    must not bring in the CLI app and its dependencies."""
    check = (
        "import sys, dialer.cli.entry; "
        "print(sorted({'pandas', 'sqlmodel', 'typer', 'dialer.cli.app'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
