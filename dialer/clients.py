"""Per-process HTTP clients and adapters, one per account, shared by the process's threads."""

from __future__ import annotations

import threading

import httpx

from dialer.providers import build_provider
from dialer.providers.base import CallProvider
from dialer.settings import AccountConfig


class ProviderPool:
    """Builds each account's ``httpx.Client`` and adapter once, on first use; closes them all.

    The client's pool size follows the account's ``concurrency`` so threads never queue for a
    connection (a pool timeout would be a retryable error, not a wait). The connect timeout is
    short: a refused or unreachable provider is retryable and should be found out fast.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, httpx.Client] = {}
        self._providers: dict[str, CallProvider] = {}

    def provider(self, account: AccountConfig) -> CallProvider:
        with self._lock:
            found = self._providers.get(account.name)
            if found is None:
                limits = httpx.Limits(
                    max_connections=account.concurrency,
                    max_keepalive_connections=account.concurrency,
                )
                timeout = httpx.Timeout(account.timeout, connect=min(5.0, account.timeout))
                client = httpx.Client(limits=limits, timeout=timeout)
                found = build_provider(account, client)
                self._clients[account.name] = client
                self._providers[account.name] = found
            return found

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            self._providers.clear()
