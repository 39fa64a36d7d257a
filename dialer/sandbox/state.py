"""Everything one running sandbox remembers. Owned by the server's event loop: only code running
on that loop touches it, so nothing here needs a lock.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

from dialer.sandbox.calls import CallBook
from dialer.sandbox.config import SandboxConfig
from dialer.sandbox.journal import Journal
from dialer.sandbox.load import AccountLoad
from dialer.sandbox.rules import RuleBook
from dialer.sandbox.tokens import TokenBook
from dialer.sandbox.webhooks import Webhooks


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.initial_config = config
        self.config = config
        self.clock: Callable[[], float] = time.monotonic
        self.rules = RuleBook()
        self.journal = Journal(config.max_records)
        self.calls = CallBook()
        self.tokens = TokenBook()
        self.webhooks = Webhooks()
        self.load = AccountLoad()
        self.job_ids: Iterator[int] = itertools.count(1)

    def configure(self, config: SandboxConfig) -> None:
        self.config = config
        self.journal.resize(config.max_records)

    def reset(self) -> None:
        """Forget rules and request records and restore the startup config. Calls and tokens
        stay: a real provider would not forget them either, and clients may hold them."""
        self.rules.clear()
        self.journal.clear()
        self.load.clear()
        self.configure(self.initial_config)

    async def aclose(self) -> None:
        await self.webhooks.aclose()
