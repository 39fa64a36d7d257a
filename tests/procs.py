"""Real processes for the distributed tests and the dispatch benchmark: the sandbox, Celery
workers and beat, a private redis-server; and the config file and leads they share.

Every process starts in its own session, so it leads its own process group and ``kill`` takes
its children too. Output goes to a log file per process (never a pipe nobody drains); readiness
is a line in that log, polled with a deadline. :class:`Processes` stops everything it started
when its ``with`` block ends, whether the block failed or not.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ALL_QUEUES = "dialer.dial,dialer.schedule,dialer.webhooks"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL = 0.05

_SANDBOX_LINE = re.compile(r"dialer sandbox listening on (http://\S+)")


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str | Callable[[], str], every: float = POLL
) -> None:
    """Poll ``check`` every ``every`` seconds until it returns true; after ``timeout`` seconds,
    TimeoutError naming ``what`` (a callable is asked then, to describe the state it gave up in)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise TimeoutError(f"{described}: not within {timeout:g} s")
        time.sleep(every)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far; Linux only (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on right now (for servers that cannot pick their own).

    Drawn at random below the kernel's ephemeral range, where ``bind`` to port 0 and outgoing
    connections take theirs: between this probe and the server's own bind, the tests running
    in parallel workers open connections all the time, and one of them could be given a port
    the kernel had just handed out here."""
    lowest_ephemeral = max(_lowest_ephemeral_port(), 20_000)
    for _ in range(100):
        port = 10_000 + secrets.randbelow(lowest_ephemeral - 10_000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in 10000-{lowest_ephemeral - 1}")


def _lowest_ephemeral_port() -> int:
    """The start of the kernel's range of ports for port 0 and outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


@dataclass
class Process:
    """One child process, leader of its own process group, logging to ``log_path``;
    ``serves`` when others depend on it (Redis, the sandbox), so it is stopped after them."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    serves: bool = False

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process has used so far; Linux only (/proc)."""
        return cpu_seconds(self.popen.pid)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_for_log(self, pattern: str | re.Pattern[str], *, timeout: float) -> re.Match[str]:
        """The first match of ``pattern`` in the log, once it appears. RuntimeError if the
        process exits first, TimeoutError (with the log's tail) if it takes too long."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.log())
            if found:
                return found
            if not self.running:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no {regex.pattern!r} in its log:\n{self.tail()}")
            time.sleep(POLL)

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or the OOM killer would, and reap it."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(STOP_TIMEOUT)

    def terminate(self) -> None:
        """SIGTERM the process group, if the process still runs; does not wait."""
        if self.running:
            self._signal_group(signal.SIGTERM)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)


def stop_together(processes: Sequence[Process], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (Celery's warm shutdown) every process group at once, wait up to ``timeout``
    for all of them together, then SIGKILL each group. A worker's warm shutdown takes about
    a second, so stopping them one after the other made each deployment's teardown longer."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(max(0.0, deadline - time.monotonic()))
    # Even after the leader exits, a child it left behind would still be in the group.
    for process in processes:
        process.kill()


class Processes:
    """Starts the dialer's processes with one environment; stops them all on exit.

    ``env`` is added to this process's environment: ``DIALER_CONFIG``, ``DIALER_DATABASE_URL``,
    ``DIALER_BROKER_URL``. Logs go to ``workdir/NAME.log``.
    """

    def __init__(self, workdir: Path, env: Mapping[str, str] | None = None) -> None:
        self.workdir = workdir
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.started: list[Process] = []
        self._names: Counter[str] = Counter()

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process still running: those that use the services together, then the
        services (a Celery worker's warm shutdown still talks to its Redis)."""
        stop_together([process for process in self.started if not process.serves])
        stop_together([process for process in self.started if process.serves])
        self.started.clear()

    def start(self, name: str, argv: Sequence[str], *, serves: bool = False) -> Process:
        """Start ``argv``; its log is ``NAME.log``, ``NAME-2.log`` for a second ``name``...
        ``serves``: other processes use it (see :meth:`close`)."""
        self._names[name] += 1
        if self._names[name] > 1:
            name = f"{name}-{self._names[name]}"
        log_path = self.workdir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        process = Process(name, popen, log_path, serves)
        self.started.append(process)
        return process

    def sandbox(self, *, latency_ms: int = 0) -> tuple[Process, str]:
        """``python -m dialer.sandbox`` on a port of its choosing; returns it and its URL."""
        argv = [sys.executable, "-m", "dialer.sandbox", "--port", "0"]
        process = self.start("sandbox", [*argv, "--latency-ms", str(latency_ms)], serves=True)
        url = process.wait_for_log(_SANDBOX_LINE, timeout=START_TIMEOUT).group(1)
        return process, url

    def worker(self, name: str, *, concurrency: int = 16, queues: str = ALL_QUEUES) -> Process:
        """A Celery worker (see :meth:`start_worker`), once it is ready to take tasks."""
        process = self.start_worker(name, concurrency=concurrency, queues=queues)
        wait_worker_ready(process)
        return process

    def start_worker(
        self, name: str, *, concurrency: int = 16, queues: str = ALL_QUEUES
    ) -> Process:
        """``celery -A workers worker`` with the thread pool, consuming ``queues`` (comma
        separated). It takes seconds to import: start several, then :func:`wait_worker_ready`
        for each."""
        return self.start(
            name,
            [
                *_celery(),
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={queues}",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
                # Mingle waits for replies from other workers; gossip and heartbeats chatter.
                # Nothing here needs them, and mingle slows every start.
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
        )

    def beat(self) -> Process:
        """``celery -A workers beat`` (see :meth:`start_beat`), once it has started."""
        process = self.start_beat()
        wait_beat_ready(process)
        return process

    def start_beat(self) -> Process:
        """``celery -A workers beat`` with its schedule file in the work directory. It takes
        a second to import: start it with the workers, then :func:`wait_beat_ready`."""
        schedule = self.workdir / "beat-schedule"
        return self.start(
            "beat",
            [*_celery(), "beat", f"--schedule={schedule}", "--loglevel=INFO", "--pidfile="],
        )

    def redis(self, port: int) -> Process:
        """A private, non-persistent redis-server on ``port``; returns once it answers."""
        process = self.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            serves=True,
        )
        process.wait_for_log(r"Ready to accept connections", timeout=START_TIMEOUT)
        return process


def wait_worker_ready(worker: Process, *, timeout: float = START_TIMEOUT) -> None:
    worker.wait_for_log(rf"{re.escape(worker.name)}@\S+ ready\.", timeout=timeout)


def wait_beat_ready(beat: Process, *, timeout: float = START_TIMEOUT) -> None:
    beat.wait_for_log(r"beat: Starting", timeout=timeout)


def write_config(
    path: Path,
    *,
    sandbox_url: str,
    rate: str,
    sending_threads: int = 32,
    settings: Mapping[str, float] | None = None,
    account: Mapping[str, float] | None = None,
) -> Path:
    """A dialer.toml with one ``sandbox`` account at ``sandbox_url``, pacing at ``rate`` with
    ``sending_threads`` requests in flight per process and more numeric ``account`` fields
    (``concurrent_calls``...), and top-level ``settings`` (numbers such as ``tick_seconds``).
    The URLs come from the environment (``DIALER_DATABASE_URL``, ``DIALER_BROKER_URL``)."""
    lines = [f"{key} = {value}" for key, value in (settings or {}).items()]
    lines += [
        "[accounts.sandbox]",
        'provider = "sandbox"',
        f"base_url = {json.dumps(sandbox_url)}",
        f"rate = {json.dumps(rate)}",
        f"sending_threads = {sending_threads}",
    ]
    lines += [f"{key} = {value}" for key, value in (account or {}).items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def phones(count: int) -> list[str]:
    """``count`` distinct valid New York numbers in E.164 (so the importer keeps every one)."""
    return [f"+1212{200 + i // 10_000:03d}{i % 10_000:04d}" for i in range(count)]


def write_leads(path: Path, numbers: Sequence[str]) -> Path:
    path.write_text("phone\n" + "".join(f"{number}\n" for number in numbers), encoding="utf-8")
    return path


def _die_with_parent() -> None:
    """In the child, before exec: be SIGKILLed when the parent dies, even by SIGKILL. A worker
    outliving a killed test run would go on taking the next run's tasks from the same Redis."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _celery() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers"]


class SandboxControl:
    """The sandbox's control API (``/_sandbox/``) over HTTP."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=10)

    def close(self) -> None:
        self.client.close()

    def rule(self, phone: str, action: str, *, times: int | None = None) -> None:
        body: dict[str, object] = {"phone": phone, "action": action}
        if times is not None:
            body["times"] = times
        self.client.post("/_sandbox/rules", json=body).raise_for_status()

    def requests(self) -> list[dict[str, object]]:
        """Every call-placing request the sandbox received, oldest first."""
        response = self.client.get("/_sandbox/requests")
        response.raise_for_status()
        records: list[dict[str, object]] = response.json()
        return [record for record in records if record["phone"] is not None]

    def configure(self, **changes: object) -> None:
        self.client.post("/_sandbox/config", json=changes).raise_for_status()

    def load(self) -> dict[str, Any]:
        """Calls in progress, the most at once and refusals (:mod:`dialer.sandbox.load`)."""
        response = self.client.get("/_sandbox/load")
        response.raise_for_status()
        loaded: dict[str, Any] = response.json()
        return loaded

    def outage(self, seconds: float) -> None:
        """Refuse every call 503 for ``seconds``."""
        self.client.post("/_sandbox/outage", json={"seconds": seconds}).raise_for_status()
