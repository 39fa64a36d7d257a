"""No secret in any log line, error, stored attempt, export or ``/metrics``.

The probe as an attacker who can read the logs runs it: real ``dialer`` processes (``serve``
with uvicorn's access log, ``run -v``) against a provider that echoes every request back in its
error (key, callback URL with the webhook token, phone number); then every byte the processes
logged, the ledger's attempt rows, the export and ``/metrics`` are searched for the secrets.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from dialer import logredaction
from dialer.settings import AccountConfig, Settings
from tests.procs import Processes, free_port

API_KEY = "allomia-secret-key-7Qz9xW2vK4"
SERVE_KEY = "serve-key-Hh3kP9sQ2mZ8vX4c"
PHONE = "+12125550147"


class _Echo(BaseHTTPRequestHandler):
    """A provider that refuses every call and repeats the whole request in its error."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        echo = f"bad request {dict(self.headers)} {body}"
        answer = json.dumps({"error": echo}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: this server's own log is not the dialer's."""


@pytest.fixture
def echo_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _config(path: Path, provider_url: str, port: int) -> Path:
    path.write_text(
        f'database_url = "sqlite:///{path.parent / "ledger.db"}"\n'
        f'public_url = "http://127.0.0.1:{port}"\n'
        f'api_keys = ["{SERVE_KEY}"]\n'
        "[accounts.allo]\n"
        'provider = "allomia"\n'
        f'base_url = "{provider_url}"\n'
        f'api_key = "{API_KEY}"\n'
        'assistant_id = "assistant-1"\n'
        'phone_number_id = "number-1"\n'
        "max_attempts = 1\n",
        encoding="utf-8",
    )
    return path


def _dialer(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialer", *args]


@pytest.mark.slow
def test_no_secret_reaches_a_log_an_error_an_export_or_metrics(
    tmp_path: Path, echo_provider: str
) -> None:
    port = free_port()
    config = _config(tmp_path / "dialer.toml", echo_provider, port)
    (tmp_path / "leads.csv").write_text(f"First Name,Phone\nAnn,{PHONE}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env["DIALER_CONFIG"] = str(config)
    with Processes(tmp_path, env) as procs:
        create = procs.start(
            "create",
            _dialer(
                "campaign", "create", "spring", "--account", "allo", "--csv", "leads.csv",
                "--window", "00:00-24:00", "--days", "all",
            ),
        )  # fmt: skip
        assert create.popen.wait(60) == 0, create.log()
        assert procs.start("start", _dialer("campaign", "start", "spring")).popen.wait(60) == 0
        run = procs.start("run", _dialer("-v", "run", "--drain"))
        assert run.popen.wait(60) == 0, run.log()
        export = procs.start("export", _dialer("campaign", "export", "spring", "-o", "out.csv"))
        assert export.popen.wait(60) == 0, export.log()

        with sqlite3.connect(tmp_path / "ledger.db") as db:
            (token,) = db.execute("SELECT callback_token FROM campaign").fetchone()
            stored = db.execute("SELECT error, response_body FROM attempt").fetchall()
            contact = db.execute("SELECT last_error FROM contact").fetchall()
        assert len(token) >= 20 and stored and stored[0][0].startswith("allomia: HTTP 400")

        serve = procs.start("serve", _dialer("serve", "--port", str(port)))
        serve.wait_for_log("Uvicorn running", timeout=30)
        url = f"http://127.0.0.1:{port}"
        for path in (f"/webhooks/allomia/{token}", f"/webhooks/trillet/{token}"):
            webhook = httpx.post(url + path, json={"outboundCallId": "x", "status": "completed"})
            assert webhook.status_code in (401, 404)
        metrics = httpx.get(f"{url}/metrics", headers={"X-API-Key": SERVE_KEY}).text
        serve.wait_for_log(r"POST /webhooks/trillet/\S+ HTTP", timeout=10)

        logged = "".join(p.log() for p in procs.started)
        everything = {
            "logs": logged,
            "attempts": repr(stored),
            "contacts": repr(contact),
            "export": (tmp_path / "out.csv").read_text(encoding="utf-8"),
            "metrics": metrics,
        }
    assert "webhooks/allomia/****" in logged  # the access log still shows what was asked
    for where, text in everything.items():
        for secret in (API_KEY, SERVE_KEY, token):
            assert secret not in text, f"{secret[:6]}... in the {where}"
    # The export's phone column holds the number, as it must; no log line or error does.
    for where in ("logs", "attempts", "contacts"):
        assert PHONE.removeprefix("+") not in everything[where], where


def test_every_logger_and_level_is_masked_in_process(caplog: pytest.LogCaptureFixture) -> None:
    """The record factory masks records of any logger, at any level, arguments, tracebacks."""
    settings = Settings(
        api_keys=(SecretStr(SERVE_KEY),),
        accounts={
            "allo": AccountConfig(
                name="allo",
                provider="allomia",
                api_key=SecretStr(API_KEY),
                assistant_id="a",
                phone_number_id="p",
            )
        },
    )
    logredaction.install(settings)
    caplog.set_level(logging.DEBUG)
    token = "Zr8kQ2mW9xV4pL7nB3cT6yH1"
    for name in ("uvicorn.access", "uvicorn.error", "celery.worker", "dialer.x", "httpx"):
        log = logging.getLogger(name)
        log.debug("%s %s", API_KEY, f"/webhooks/allomia/{token}")
        log.warning("key %(key)s", {"key": SERVE_KEY})
        try:
            raise ValueError(f"refused Authorization: Bearer {token}")
        except ValueError:
            log.exception("call to %s failed", PHONE)
    text = caplog.text
    assert text.count("****") >= 25
    for secret in (API_KEY, SERVE_KEY, token, PHONE):
        assert secret not in text
