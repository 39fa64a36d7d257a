"""Per-process HTTP clients, adapters and sending threads, shared by the process's threads."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from dialer.providers import build_provider
from dialer.providers.base import CallProvider
from dialer.settings import AccountConfig

# A thread sends one request at a time; the second connection is for a token endpoint on
# another host, so that a token refresh does not close the kept-alive provider connection.
_CONNECTIONS_PER_THREAD = 2

TransportFactory = Callable[[], httpx.BaseTransport]
"""Builds the transport of one HTTP client (tests pass ``lambda: httpx.MockTransport(...)``)."""


class ProviderPool:
    """Each account's adapters and sender, built on first use; :meth:`close` ends them all.

    The sender is a thread pool of the account's ``sending_threads``: the requests one process
    has in flight for the account. Every thread gets an adapter on an ``httpx.Client`` of its
    own, with a connection or two: one client shared by a hundred threads spends most of its
    CPU scanning its connection pool (httpcore walks every connection, for every connection,
    on each request and response). What adapters share across threads (libby-legacy's tokens)
    they share per process already. The clients share one TLS context: loading the CA bundle
    takes far longer than the rest of building a client. The connect timeout is short: a
    refused or unreachable provider is retryable and should be found out fast.

    ``transport``, when given, builds each client's transport instead (as ``httpx.Client``
    does with its own ``transport`` argument): the real one, with the connection limits and
    the shared TLS context above, is built only when none is passed in.
    """

    def __init__(self, transport: TransportFactory | None = None) -> None:
        self._transport = transport
        self._tls: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._senders: dict[str, ThreadPoolExecutor] = {}

    def provider(self, account: AccountConfig) -> CallProvider:
        """The calling thread's adapter for ``account``."""
        providers: dict[str, CallProvider] | None = getattr(self._local, "providers", None)
        if providers is None:
            providers = self._local.providers = {}
        found = providers.get(account.name)
        if found is None:
            limits = httpx.Limits(
                max_connections=_CONNECTIONS_PER_THREAD,
                max_keepalive_connections=_CONNECTIONS_PER_THREAD,
            )
            timeout = httpx.Timeout(account.timeout, connect=min(5.0, account.timeout))
            with self._lock:
                if self._transport is not None:
                    client = httpx.Client(transport=self._transport(), timeout=timeout)
                else:
                    if self._tls is None:
                        self._tls = httpx.create_ssl_context()
                    client = httpx.Client(limits=limits, timeout=timeout, verify=self._tls)
                self._clients.append(client)
            found = providers[account.name] = build_provider(account, client)
        return found

    def sender(self, account: AccountConfig) -> ThreadPoolExecutor:
        """The threads that send the account's requests in this process."""
        with self._lock:
            found = self._senders.get(account.name)
            if found is None:
                found = self._senders[account.name] = ThreadPoolExecutor(
                    max_workers=account.sending_threads, thread_name_prefix=f"send-{account.name}"
                )
            return found

    def close(self) -> None:
        """Wait for requests in flight, then close every client."""
        with self._lock:
            senders = list(self._senders.values())
            self._senders.clear()
        for sender in senders:
            sender.shutdown(wait=True)
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        # Threads that outlive this see no adapter and build a new one on next use.
        self._local = threading.local()
