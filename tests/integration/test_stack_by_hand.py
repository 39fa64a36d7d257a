"""The distributed stack started by hand, exactly as the README's "Running with Redis and
Postgres (distributed mode)" section says: redis-server, a fresh Postgres database,
``dialer db upgrade``, ``celery -A workers worker``, ``beat`` and ``flower`` (read-only, basic
auth), ``dialer serve`` with its API key from the environment, and ``dialer sandbox`` as the
provider. Every process is the installed command, in a directory holding the ``dialer.toml``,
on a free port.

Then, as a user would: upload a CSV through the API, start the campaign, wait until it is
completed, and look at what each piece shows: the sandbox (one request per number), Flower
(credentials required, the worker listed, dialer tasks carrying ids only, no task sent through
its API, Prometheus metrics) and the API's own ``/metrics``.
"""

from __future__ import annotations

import ast
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from procs import Process, Processes, SandboxControl, free_port, phones, wait_until
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from dialer.ledger.engine import make_engine, session_scope
from dialer.models import Contact

CAMPAIGN = "spring"
LEADS = 12
FLOWER_USER, FLOWER_PASSWORD = "user", "password"
START_TIMEOUT = 30.0
# Leaks of the environment the test runs in would change what the README's commands do.
_FOREIGN = ("DIALER_CONFIG", "DIALER_DATABASE_URL", "DIALER_BROKER_URL", "DIALER_API_KEYS")

README = Path(__file__).parents[2] / "README.md"
# What the README's by-hand section shows, with {port} fields: the test runs each of these on
# free ports, and test_the_readme_shows_these_commands checks that the README shows them
# on its own ports, so the two cannot drift apart.
README_PORTS = {"redis": 6379, "sandbox": 8765, "flower": 5555, "api": 8000}
CONFIG = """\
[accounts.sandbox]
provider = "sandbox"
base_url = "http://127.0.0.1:{sandbox}"
rate = "20/s"
"""
ENVIRONMENT = {
    "DIALER_BROKER_URL": "redis://127.0.0.1:{redis}/0",
    "DIALER_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/dialer",
    "DIALER_API_KEYS": "$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')",
}
COMMANDS = {
    "redis": "redis-server --port {redis} --appendonly yes --maxmemory-policy noeviction",
    "upgrade": "dialer db upgrade",
    "sandbox": "dialer sandbox --port {sandbox}",
    "worker": "celery -A workers worker --loglevel=INFO",
    "beat": "celery -A workers beat --loglevel=INFO",
    "flower": (
        f"celery -A workers flower --read_only=true --basic-auth={FLOWER_USER}:{FLOWER_PASSWORD}"
        " --port={flower}"
    ),
    "serve": "dialer serve --port {api}",
}


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """An empty Postgres database of its own (no tables: ``dialer db upgrade`` makes them),
    next to the session's, dropped at the end. ``postgres_url`` skips (or fails, with
    ``DIALER_TEST_REQUIRE_SERVICES=1``) when Postgres is down."""
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"dialer_stack_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _installed(name: str) -> str:
    """The installed command ``name``: next to this Python (the virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        if os.environ.get("DIALER_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{name} is not installed (DIALER_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(f"{name} is not installed")
    return found


def _argv(command: str, ports: dict[str, int]) -> list[str]:
    """README command ``command`` on ``ports``, its program the installed one."""
    program, *args = shlex.split(COMMANDS[command].format(**ports))
    return [_installed(program), *args]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_answering(process: Process, url: str) -> None:
    def up() -> bool:
        if not process.running:
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        return _answers(url)

    wait_until(up, timeout=START_TIMEOUT, what=lambda: f"{process.name} at {url}", every=0.2)


def _write_leads(path: Path, numbers: list[str]) -> list[str]:
    """A CSV with a phone and a first name per row; returns the names."""
    names = [f"Zebulon{chr(ord('a') + i)}" for i in range(len(numbers))]
    rows = "".join(f"{number},{name}\n" for number, name in zip(numbers, names, strict=True))
    path.write_text("phone,first_name\n" + rows, encoding="utf-8")
    return names


def _ids_in(argsrepr: str) -> list[int]:
    """The contact ids in a task's argument list as Flower shows it (the worker's repr of the
    args). AssertionError unless every argument is an id or a list of ids."""
    args = ast.literal_eval(argsrepr)
    assert isinstance(args, list | tuple), argsrepr
    ids: list[int] = []
    for arg in args:
        items = arg if isinstance(arg, list | tuple) else [arg]
        assert all(type(item) is int for item in items), f"not ids only: {argsrepr}"
        ids.extend(items)
    return ids


def _samples(text: str, name: str) -> list[Sample]:
    return [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_the_readme_shows_these_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("## Running with Redis and Postgres") :]
    section = section[: section.index("\n## ", 1)]
    lines = [line.strip() for line in section.splitlines()]
    assert CONFIG.format(**README_PORTS) in section
    for name, value in ENVIRONMENT.items():
        assert f"export {name}={value.format(**README_PORTS)}" in lines
    for command in COMMANDS.values():
        shown = command.format(**README_PORTS)
        assert any(re.fullmatch(rf"{re.escape(shown)}( &)?(\s+#.*)?", line) for line in lines), (
            shown
        )
    assert "tests/integration/test_stack_by_hand.py" in section


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_the_readme_stack_by_hand(tmp_path: Path, fresh_database: str) -> None:
    ports = {name: free_port() for name in README_PORTS}
    api_key = secrets.token_urlsafe(24)
    env = {
        "DIALER_BROKER_URL": ENVIRONMENT["DIALER_BROKER_URL"].format(**ports),
        "DIALER_DATABASE_URL": fresh_database,
        "DIALER_API_KEYS": api_key,
    }
    (tmp_path / "dialer.toml").write_text(CONFIG.format(**ports), encoding="utf-8")
    numbers = phones(LEADS)
    names = _write_leads(tmp_path / "leads.csv", numbers)

    with Processes(tmp_path) as procs:
        for name in _FOREIGN:
            procs.env.pop(name, None)
        procs.env.update(env)

        redis = procs.start("redis", _argv("redis", ports), serves=True)
        sandbox = procs.start("sandbox", _argv("sandbox", ports), serves=True)
        redis.wait_for_log(r"Ready to accept connections", timeout=START_TIMEOUT)
        upgrade = subprocess.run(
            _argv("upgrade", ports),
            cwd=tmp_path,
            env=procs.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        worker, beat, flower, serve = (
            procs.start(name, _argv(name, ports)) for name in ("worker", "beat", "flower", "serve")
        )

        api_url = f"http://127.0.0.1:{ports['api']}"
        flower_url = f"http://127.0.0.1:{ports['flower']}"
        sandbox.wait_for_log(r"dialer sandbox listening on", timeout=START_TIMEOUT)
        worker.wait_for_log(r"celery@\S+ ready\.", timeout=START_TIMEOUT)
        beat.wait_for_log(r"beat: Starting", timeout=START_TIMEOUT)
        _wait_answering(serve, f"{api_url}/healthz")
        _wait_answering(flower, f"{flower_url}/healthcheck")
        # Flower asks the workers for task events (every 5 s): without them it sees no task.
        # Waiting here means it sees every task of the campaign.
        worker.wait_for_log(r"Events of group \{task\} enabled by remote", timeout=START_TIMEOUT)

        api = httpx.Client(base_url=api_url, headers={"X-API-Key": api_key}, timeout=30)
        flower_api = httpx.Client(
            base_url=flower_url, auth=(FLOWER_USER, FLOWER_PASSWORD), timeout=30
        )
        sandbox_control = SandboxControl(f"http://127.0.0.1:{ports['sandbox']}")
        try:
            # --- the campaign, through the API ---------------------------------------------
            with (tmp_path / "leads.csv").open("rb") as leads:
                created = api.post(
                    "/campaigns",
                    files={"file": ("leads.csv", leads, "text/csv")},
                    data={
                        "name": CAMPAIGN,
                        "account": "sandbox",
                        "window": "00:00-24:00",
                        "days": "mon-sun",
                        "intro": "Hi {first_name}",
                        "voicemail": "Sorry we missed you",
                    },
                )
            assert created.status_code == 201, created.text
            assert created.json()["accepted"] == LEADS
            started = api.post(f"/campaigns/{CAMPAIGN}/start")
            assert started.status_code == 200, started.text
            assert started.json()["status"] == "running"

            def report() -> dict[str, object]:
                answer = api.get(f"/campaigns/{CAMPAIGN}")
                answer.raise_for_status()
                body: dict[str, object] = answer.json()
                return body

            wait_until(
                lambda: report()["status"] == "completed",
                timeout=30,
                what=lambda: f"campaign completed (now {report()})",
                every=0.25,
            )
            contacts = report()["contacts"]
            assert isinstance(contacts, dict)
            assert contacts == {**dict.fromkeys(contacts, 0), "placed": LEADS}
            assert Counter(str(r["phone"]) for r in sandbox_control.requests()) == Counter(
                dict.fromkeys(numbers, 1)
            )

            # --- the API's /metrics --------------------------------------------------------
            assert api.get("/metrics", headers={"X-API-Key": ""}).status_code == 401
            metrics = api.get("/metrics")
            assert metrics.status_code == 200
            placed = [
                s.value
                for s in _samples(metrics.text, "dialer_call_attempts_total")
                if s.labels == {"account": "sandbox", "result": "placed"}
            ]
            assert placed == [LEADS]

            # --- Flower: credentials --------------------------------------------------------
            for path in ("/", "/api/workers", "/api/tasks"):
                assert httpx.get(flower_url + path, timeout=10).status_code == 401, path
                wrong = httpx.get(flower_url + path, auth=(FLOWER_USER, "wrong"), timeout=10)
                assert wrong.status_code == 401, path

            workers = flower_api.get("/api/workers", params={"refresh": "1"})
            assert workers.status_code == 200, workers.text
            assert [name for name in workers.json() if name.startswith("celery@")] != []

            # --- Flower: dialer tasks, ids only ---------------------------------------------
            with session_scope(engine := make_engine(fresh_database)) as session:
                contact_ids = set(session.execute(select(col(Contact.id))).scalars())
            engine.dispose()
            assert len(contact_ids) == LEADS

            def flower_tasks() -> httpx.Response:
                answer = flower_api.get("/api/tasks")
                answer.raise_for_status()
                return answer

            def ids_seen() -> set[int]:
                tasks = flower_tasks().json().values()
                return {i for task in tasks for i in _ids_in(task["args"] or "()")}

            # Events reach Flower a moment after the ledger has the result.
            wait_until(
                lambda: contact_ids <= ids_seen(),
                timeout=15,
                what=lambda: f"Flower showing tasks for every contact (saw {ids_seen()})",
                every=0.25,
            )
            listing = flower_tasks()
            tasks = listing.json()
            # A task that was received before the worker turned events on and finished after
            # is known to Flower by its id only (no name, no args: None, or "" once an event
            # without the name has reached it; beat's once-a-second webhook delivery task
            # makes such tasks common).
            names_shown = {task["name"] for task in tasks.values() if task["name"]}
            assert names_shown and all(name.startswith("dialer.") for name in names_shown)
            assert ids_seen() <= contact_ids
            assert all(ast.literal_eval(task["kwargs"] or "{}") == {} for task in tasks.values())
            one = next(uuid for uuid, task in tasks.items() if _ids_in(task["args"] or "()"))
            info = flower_api.get(f"/api/task/info/{one}")
            assert info.status_code == 200, info.text
            assert _ids_in(info.json()["args"])
            everything = listing.text + info.text
            for number in numbers:
                assert number.lstrip("+") not in everything
                assert number[2:] not in everything  # the national number, without +1
            for name in names:
                assert name not in everything

            # --- Flower: read-only ----------------------------------------------------------
            for route in ("apply", "async-apply", "send-task"):
                sent = flower_api.post(f"/api/task/{route}/dialer.tick", json={"args": []})
                assert sent.status_code == 403, (route, sent.status_code, sent.text)
                assert "read only" in sent.text.lower()
            unauthenticated = httpx.post(
                f"{flower_url}/api/task/async-apply/dialer.tick", json={"args": []}, timeout=10
            )
            assert unauthenticated.status_code == 401

            # --- Flower: Prometheus ---------------------------------------------------------
            flower_metrics = flower_api.get("/metrics")
            assert flower_metrics.status_code == 200
            # A task Flower knows by id only is counted under the name "" (see above).
            succeeded = {
                s.labels["task"]
                for s in _samples(flower_metrics.text, "flower_events_total")
                if s.labels["type"] == "task-succeeded" and s.value > 0 and s.labels["task"]
            }
            assert succeeded and all(task.startswith("dialer.") for task in succeeded)
            online = _samples(flower_metrics.text, "flower_worker_online")
            assert [s.value for s in online if s.labels["worker"].startswith("celery@")] == [1]
            # As the README warns: Flower serves /metrics without asking for credentials.
            assert httpx.get(f"{flower_url}/metrics", timeout=10).status_code == 200
        finally:
            api.close()
            flower_api.close()
            sandbox_control.close()

    for process in (redis, sandbox, worker, beat, flower, serve):
        assert not process.running, process.name
    assert "Traceback" not in worker.log(), worker.tail()
