"""A deployment for the distributed tests: a private Redis and a sandbox as their own
processes, the Celery workers and beat started around them, a Postgres ledger, and the test's
view of what they did (contact states, attempts, the requests the sandbox received).

Each deployment runs its own redis-server on a free port rather than a database of the shared
one: the queue names are fixed, so two runs on one Redis would take each other's tasks.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from procs import (
    Process,
    Processes,
    SandboxControl,
    free_port,
    phones,
    wait_beat_ready,
    wait_until,
    wait_worker_ready,
    write_config,
)
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from dialer.ledger.engine import session_scope
from dialer.models import Attempt, Contact, ContactState
from dialer.settings import Settings, load_settings
from tests.campaign_support import sandbox_campaign

CAMPAIGN = "distributed"
OPEN = {ContactState.PENDING, ContactState.QUEUED, ContactState.DIALING}
LEDGER_POLL = 0.25  # seconds between ledger reads while waiting: the test should not load it


@dataclass
class Cluster:
    """One deployment: its Redis, a sandbox, the processes around them, and the test's view
    of the ledger they share."""

    procs: Processes
    redis: Process
    redis_port: int
    sandbox: SandboxControl
    settings: Settings
    engine: Engine
    _worker_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def campaign(self, count: int) -> list[str]:
        """Import ``count`` contacts into a campaign open at every hour, and start it."""
        numbers = phones(count)
        sandbox_campaign(self.engine, self.settings, self.procs.workdir, numbers, name=CAMPAIGN)
        return numbers

    def workers(self, count: int, *, concurrency: int = 16, beat: bool = False) -> list[Process]:
        """Start ``count`` workers together (each takes seconds to import), and beat with them
        when ``beat``; return the workers once every one is ready. (Beat's first ticks wait
        in the queue for a worker.)"""
        started = [
            self.procs.start_worker(f"w{next(self._worker_numbers)}", concurrency=concurrency)
            for _ in range(count)
        ]
        scheduler = self.procs.start_beat() if beat else None
        for worker in started:
            wait_worker_ready(worker)
        if scheduler is not None:
            wait_beat_ready(scheduler)
        return started

    def restart_redis(self) -> None:
        """Kill Redis (everything in it is lost: no persistence) and start it again."""
        self.redis.kill()
        self.redis = self.procs.redis(self.redis_port)

    def states(self) -> dict[str, str]:
        with session_scope(self.engine) as session:
            rows = session.execute(select(col(Contact.phone), col(Contact.state))).all()
        return {phone: state for phone, state in rows}

    def attempts(self) -> Counter[str]:
        """Attempt rows in the ledger, by number."""
        with session_scope(self.engine) as session:
            return Counter(session.execute(select(col(Attempt.phone))).scalars())

    def calls(self) -> Counter[str]:
        """Requests the sandbox received, by number dialed."""
        return Counter(str(record["phone"]) for record in self.sandbox.requests())

    def wait_settled(self, *, timeout: float) -> dict[str, str]:
        """Poll until no contact is pending, queued or dialing; return every contact's state."""
        wait_until(
            lambda: not set(self.states().values()) & OPEN,
            timeout=timeout,
            what=lambda: f"every contact final (now {dict(Counter(self.states().values()))})",
            every=LEDGER_POLL,
        )
        return self.states()


ClusterFactory = Callable[..., Cluster]


def clusters(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[ClusterFactory]:
    """What a test module's ``cluster`` fixture yields from: ``cluster(rate=...,
    latency_ms=..., account={...}, extra_toml="...", **settings)`` starts a private Redis and a
    sandbox and writes the config every later process reads (``account``: more fields of the
    sandbox account; ``extra_toml``: tables appended, e.g. ``[[webhooks]]``); all of them are
    stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def make(
            *,
            rate: str,
            latency_ms: int = 0,
            account: dict[str, float] | None = None,
            extra_toml: str = "",
            **settings: float,
        ) -> Cluster:
            port = free_port()
            env = {
                "DIALER_DATABASE_URL": database_url,
                "DIALER_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            }
            procs = stack.enter_context(Processes(tmp_path, env))
            redis = procs.redis(port)
            _, url = procs.sandbox(latency_ms=latency_ms)
            control = SandboxControl(url)
            stack.callback(control.close)
            config = write_config(
                tmp_path / "dialer.toml",
                sandbox_url=url,
                rate=rate,
                settings=settings,
                account=account,
            )
            with config.open("a", encoding="utf-8") as toml:
                toml.write(extra_toml)
            procs.env["DIALER_CONFIG"] = str(config)
            loaded = load_settings(config, env=env)
            return Cluster(procs, redis, port, control, loaded, engine)

        yield make
