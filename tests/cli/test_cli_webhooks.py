"""``dialer webhooks list|resend|test`` as a user runs them, against a real receiver; events
made by ``campaign pause`` and sent by ``dialer run``'s delivery thread. In this process, but
for ``webhooks test`` (signing and sending a ping), run as a process."""

from __future__ import annotations

from pathlib import Path

from tests.cli.running import dialer, dialer_here, one_line_error
from tests.webhook_receiver import SECRET, Receiver


def _config(workdir: Path, url: str) -> None:
    (workdir / "dialer.toml").write_text(
        f'[[webhooks]]\nname = "crm"\nurl = "{url}"\nsecret = "{SECRET}"\ntimeout = 2\n',
        encoding="utf-8",
    )


def _ok(workdir: Path, *args: str) -> str:
    result = dialer_here(workdir, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_dead_letter_is_listed_resent_and_delivered_with_its_id(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("Phone\n2125552671\n", encoding="utf-8")
    modes = {"now": "400"}
    with Receiver(lambda _id, _n: modes["now"]) as receiver:
        _config(tmp_path, receiver.url)
        _ok(tmp_path, "campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv")
        _ok(tmp_path, "campaign", "start", "spring")
        _ok(tmp_path, "campaign", "pause", "spring")
        _ok(tmp_path, "run", "--drain")  # its delivery thread's last pass: refused, dead
        assert _ok(tmp_path, "webhooks", "list", "--status", "pending") == (
            "no webhook events pending\n"
        )
        (dead,) = _ok(tmp_path, "webhooks", "list", "--status", "dead").splitlines()
        event_id, *fields, message_id = dead.split("\t")
        assert fields[:5] == ["crm", "campaign.paused", "dead", "1", "HTTP 400"]
        assert _ok(tmp_path, "webhooks", "resend", "--dead") == "1 events will be sent again\n"
        modes["now"] = "ok"
        _ok(tmp_path, "run", "--drain")
        (delivered,) = _ok(tmp_path, "webhooks", "list", "--status", "delivered").splitlines()
        assert delivered.split("\t")[0] == event_id
    assert list(receiver.processed) == [message_id]
    assert receiver.tries[message_id] == 2
    assert receiver.processed[message_id]["data"]["campaign"]["status"] == "paused"


def test_resend_needs_ids_or_dead(tmp_path: Path) -> None:
    line = one_line_error(dialer_here(tmp_path, "webhooks", "resend"))
    assert line == "error: name the events to resend (ids from 'dialer webhooks list') or --dead"


def test_test_sends_a_signed_ping(tmp_path: Path) -> None:
    with Receiver() as receiver:
        _config(tmp_path, receiver.url)
        sent = dialer(tmp_path, "webhooks", "test", "crm")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == f"ping delivered to crm ({receiver.url}): HTTP 200\n"
    (ping,) = receiver.processed.values()
    assert (ping["type"], ping["data"]) == ("ping", {"endpoint": "crm"})
    assert receiver.bad_signatures == 0
    line = one_line_error(dialer_here(tmp_path, "webhooks", "test", "erp"))
    assert line == "error: no webhook named 'erp' (configured: crm)"


def test_a_failed_ping_is_one_line_with_the_url_masked(tmp_path: Path) -> None:
    _config(tmp_path, "http://user:pa55@127.0.0.1:9/hooks?token=t0p")
    line = one_line_error(dialer_here(tmp_path, "webhooks", "test", "crm"))
    assert line.startswith("error: ping to crm (http://***@127.0.0.1:9/hooks?token=***) failed: ")
    assert "pa55" not in line and "t0p" not in line
