"""``dialer serve`` as a user runs it: it dials with no broker, says so when it does not, and
stops cleanly on SIGTERM, leaving no process behind (the import's phone pool included); the
outcomes its API receives by webhook free its own runner's places at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dialer.cli.serve import DIALS_HERE, NOT_DIALING
from dialer.leads.phones import POOL_THRESHOLD
from tests.cli.running import environment
from tests.procs import free_port, wait_until

KEY = "serve-test-key-0123456789"


def session_processes(session: int) -> list[int]:
    """Every process of session ``session`` still alive (zombies included: not reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            found.append(int(entry.name))
    return found


class Served:
    def __init__(self, workdir: Path, *args: str, port: int | None = None) -> None:
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dialer", "serve", "--port", str(port), *args],
            cwd=workdir,
            env=environment(DIALER_API_KEYS=KEY),
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "serve.log").open("wb"),
            start_new_session=True,
        )
        self.log = workdir / "serve.log"
        self.client = httpx.Client(base_url=self.url, headers={"X-API-Key": KEY}, timeout=60)
        wait_until(self._up, timeout=60, what=lambda: f"dialer serve: {self.log.read_text()}")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return self.client.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def upload(self, name: str, content: str, account: str = "box") -> httpx.Response:
        data = {"name": name, "account": account, "window": "00:00-24:00", "days": "all"}
        files = {"file": ("leads.csv", content, "text/csv")}
        return self.client.post("/campaigns", files=files, data=data)

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def workdir(tmp_path: Path, sandbox_url: str) -> Path:
    (tmp_path / "dialer.toml").write_text(
        f'[accounts.box]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\nrate = "100/s"\n',
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def served(workdir: Path) -> Iterator[Served]:
    server = Served(workdir)
    yield server
    server.stop()


def test_serve_dials_with_no_broker_and_stops_cleanly_on_sigterm(served: Served) -> None:
    # Enough rows for the import to start its phone-normalization processes.
    big = "phone\n" + "".join(f"+1212{n:07d}\n" for n in range(POOL_THRESHOLD + 500))
    assert served.upload("big", big).status_code == 201, served.log.read_text()
    assert served.upload("small", "phone\n+12125552671\n+12125552672\n").status_code == 201
    started = served.client.post("/campaigns/small/start").json()
    assert started["dialing"] == DIALS_HERE
    wait_until(
        lambda: served.client.get("/campaigns/small").json()["status"] == "completed",
        timeout=60,
        what="campaign 'small' completed by the server's own dialer",
    )
    assert served.client.get("/campaigns/small").json()["contacts"]["placed"] == 2
    assert len(session_processes(served.process.pid)) > 1  # the phone pool is running

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0, served.log.read_text()
    assert "Traceback" not in served.log.read_text()
    deadline = time.monotonic() + 10
    while session_processes(served.process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(served.process.pid) == []


def test_no_dial_says_who_dials_nobody(workdir: Path) -> None:
    server = Served(workdir, "--no-dial")
    try:
        assert server.upload("spring", "phone\n+12125552671\n").status_code == 201
        started = server.client.post("/campaigns/spring/start").json()
        assert (started["status"], started["dialing"]) == ("running", NOT_DIALING)
        assert server.client.get("/campaigns/spring").json()["dialing"] == NOT_DIALING
        time.sleep(1)
        assert server.client.get("/campaigns/spring").json()["contacts"]["pending"] == 1
    finally:
        server.stop()


def test_webhook_outcomes_free_the_places_of_the_servers_own_runner(
    tmp_path: Path, sandbox_url: str
) -> None:
    """An AlloMia account capped at 2 calls, whose calls end after 0.3 s and report it by
    webhook to this server: every place comes back by webhook (polls come only every hour,
    leases after 10 min), so all 8 contacts are placed within seconds, never more than 2 at
    once at the sandbox, with no refusal."""
    port = free_port()
    (tmp_path / "dialer.toml").write_text(
        f'public_url = "http://127.0.0.1:{port}"\npoll_seconds = 3600\n'
        f'[accounts.allo]\nprovider = "allomia"\nbase_url = "{sandbox_url}"\n'
        'api_key = "allo-key"\nassistant_id = "a1"\nphone_number_id = "p1"\n'
        'rate = "100/s"\nconcurrent_calls = 2\ncall_lease = 600\n',
        encoding="utf-8",
    )
    sandbox = httpx.Client(base_url=sandbox_url, timeout=10)
    config = {"max_concurrent_calls": 2, "call_duration_ms": 300, "webhooks": True}
    sandbox.post("/_sandbox/config", json=config).raise_for_status()
    server = Served(tmp_path, port=port)
    try:
        leads = "phone\n" + "".join(f"+1212555{2671 + n}\n" for n in range(8))
        assert server.upload("capped", leads, account="allo").status_code == 201
        server.client.post("/campaigns/capped/start").raise_for_status()
        # The campaign completes at the runner's next tick (1 s) after its last contact is
        # placed, which a loaded machine can delay past the last outcome's webhook.
        wait_until(
            lambda: (
                (campaign := server.client.get("/campaigns/capped").json())["outcomes"]
                == {"completed": 8}
                and campaign["status"] == "completed"
            ),
            timeout=60,
            what=lambda: f"every outcome in: {server.client.get('/campaigns/capped').json()}",
        )
        # The place is given back just after the outcome is recorded: wait for the last one.
        wait_until(
            lambda: server.client.get("/accounts/allo").json()["capacity"]["in_progress"] == 0,
            timeout=10,
            what=lambda: f"every place back: {server.client.get('/accounts/allo').json()}",
        )
        assert server.client.get("/accounts/allo").json()["capacity"]["cap"] == 2
    finally:
        server.stop()
    load = sandbox.get("/_sandbox/load").json()
    assert load["refused"] == {} and load["most"] == {"allomia": 2}
    records = sandbox.get("/_sandbox/requests").json()
    assert not [r for r in records if r["method"] == "GET"]  # every outcome came by webhook
    sandbox.close()
