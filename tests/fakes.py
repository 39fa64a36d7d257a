"""Fakes for in-process tests of dispatch, the tick and the runner: a clock that never
sleeps, a provider answering through ``httpx.MockTransport``, and a ledger seeded directly."""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import make_engine, session_scope, utcnow
from dialer.models import Attempt, Campaign, CampaignStatus, Contact
from dialer.ratelimit import LocalRateLimiter, RateLimiter
from dialer.service import CallService
from dialer.settings import AccountConfig, Settings
from tests.ledgers import migrated_sqlite

SANDBOX = "http://sandbox.test"
NEW_YORK = "America/New_York"


class FakeClock:
    """Virtual time: ``sleep`` and ``wait`` return at once and move the clock on.

    It starts at the real current instant (adapters anchor ``Retry-After`` on the real
    clock) and only moves forward, so it is never behind the real one for long.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._start = start or utcnow()
        self._elapsed = 0.0
        self.slept = 0.0

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        with self._lock:
            return 1000.0 + self._elapsed

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        with self._lock:
            self.slept += max(seconds, 0.0)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        self.advance(seconds)
        # A moment of real time, so that threads doing real work get the processor.
        return event.wait(0.002)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += max(seconds, 0.0)


class FakeProvider:
    """A provider on the sandbox's wire format, answering each number from a script: a
    list of answers used in turn, then ``200``. An answer is an HTTP status (``"503"``),
    ``"429:<seconds>"`` (with Retry-After), ``"drop"`` (the connection closes after the
    request was sent), ``"timeout"`` or ``"refused"`` (nothing sent).

    A placed call's status (``GET /sandbox/call/{id}``) is its number's word in ``outcomes``
    (default ``completed``), or an HTTP status or ``"garbage"`` from ``status_answers``."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._scripts: dict[str, list[str]] = {}
        self._always: dict[str, str] = {}
        self._placed: dict[str, str] = {}  # call id -> phone
        self.outcomes: dict[str, str] = {}
        self.status_answers: dict[str, str] = {}
        self.calls: Counter[str] = Counter()
        self.polls: Counter[str] = Counter()
        self.sent_at: dict[str, list[datetime]] = {}

    def answer(self, phone: str, *answers: str, always: str | None = None) -> None:
        self._scripts[phone] = list(answers)
        if always is not None:
            self._always[phone] = always

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return self._status(request.url.path.rsplit("/", 1)[1])
        assert request.url.path == "/sandbox/call"
        phone = json.loads(request.content)["to"]
        with self._lock:
            self.calls[phone] += 1
            self.sent_at.setdefault(phone, []).append(self._clock.now())
            script = self._scripts.get(phone, [])
            action = script.pop(0) if script else self._always.get(phone, "200")
            count = self.calls.total()
        if action == "200":
            with self._lock:
                self._placed[f"SBX-{count}"] = phone
            return httpx.Response(200, json={"call_id": f"SBX-{count}", "status": "queued"})
        if action == "drop":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        if action == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if action == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        status, _, retry_after = action.partition(":")
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(int(status), json={"error": f"sandbox {status}"}, headers=headers)

    def _status(self, call_id: str) -> httpx.Response:
        with self._lock:
            phone = self._placed.get(call_id)
            if phone is not None:
                self.polls[phone] += 1
        if phone is None:
            return httpx.Response(404, json={"error": "no such call"})
        answer = self.status_answers.get(phone, "200")
        if answer == "garbage":
            return httpx.Response(200, json={"call_id": call_id, "status": "teleported"})
        if answer != "200":
            return httpx.Response(int(answer), json={"error": f"sandbox {answer}"})
        status = self.outcomes.get(phone, "completed")
        return httpx.Response(200, json={"call_id": call_id, "status": status})


def ledger(tmp_path: Path) -> Engine:
    """A migrated SQLite file ledger."""
    return make_engine(migrated_sqlite(tmp_path / "ledger.db"))


def settings(engine: Engine, *, also: Sequence[str] = (), **account: object) -> Settings:
    """One ``sandbox`` account (plus one alike for each name in ``also``), at ``SANDBOX``."""
    fields: dict[str, object] = {
        "provider": "sandbox",
        "base_url": SANDBOX,
        "rate": "unlimited",
        "timeout": 2,
        "max_attempts": 3,
        "backoff_seconds": 0.2,
        **account,
    }
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        accounts={
            name: AccountConfig.model_validate({**fields, "name": name})
            for name in ("sandbox", *also)
        },
        tick_seconds=0.1,
        queued_timeout=3600,
        dialing_timeout=3600,
    )


def service(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    *,
    limiter: RateLimiter | None = None,
    also: Sequence[str] = (),
    **account: object,
) -> CallService:
    return CallService(
        engine,
        settings(engine, also=also, **account),
        limiter or LocalRateLimiter(),
        transport=provider.transport,
        clock=clock,
    )


def campaign(
    engine: Engine,
    now: datetime,
    phones: Sequence[str],
    *,
    name: str = "spring",
    status: CampaignStatus = CampaignStatus.RUNNING,
    window: str = "00:00-24:00",
    zone_keys: Sequence[str] | None = None,
    end_at: datetime | None = None,
    account: str = "sandbox",
    max_attempts: int = 1,
    retry_after_seconds: int | None = None,
) -> list[int]:
    """A campaign (on the ``sandbox`` account by default) with one pending contact per
    phone; their ids. ``max_attempts`` and ``retry_after_seconds`` are its re-call policy."""
    keys = list(zone_keys) if zone_keys is not None else [NEW_YORK] * len(phones)
    with session_scope(engine) as session:
        row = Campaign(
            name=name,
            account=account,
            status=status,
            max_attempts=max_attempts,
            retry_after_seconds=retry_after_seconds,
            window=window,
            days="mon,tue,wed,thu,fri,sat,sun",
            end_at=end_at,
            callback_token=secrets.token_hex(8),
            created_at=now,
            started_at=now,
        )
        ledger_campaigns.create_campaign(session, campaign=row)
        assert row.id is not None
        # Through the import's own insert, so the contacts are counted as imported ones are.
        frame = pd.DataFrame(
            {
                "row": range(2, len(phones) + 2),
                "phone": list(phones),
                "raw_phone": list(phones),
                "extension": [None] * len(phones),
                "number_type": "unknown",
                "zone_key": keys,
                "first_name": [f"Lead{i}" for i in range(len(phones))],
                "last_name": "",
                "email": "",
                "variables": [json.dumps({"first_name": f"Lead{i}"}) for i in range(len(phones))],
            }
        )
        ledger_contacts.insert_contacts(session.connection(), campaign_id=row.id, frame=frame)
        ids = select(col(Contact.id)).where(col(Contact.campaign_id) == row.id)
        return list(session.exec(ids.order_by(col(Contact.id))))


def contacts(engine: Engine) -> dict[str, Contact]:
    """Every contact, by phone."""
    with session_scope(engine) as session:
        rows = session.exec(select(Contact).order_by(col(Contact.id)))
        return {c.phone: c for c in rows}


def attempts(engine: Engine) -> list[Attempt]:
    """Every attempt, in the order written."""
    with session_scope(engine) as session:
        return list(session.exec(select(Attempt).order_by(col(Attempt.id))))
