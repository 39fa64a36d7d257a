"""The sandbox: a local HTTP server speaking all five provider APIs and its own, with fault
injection and request inspection under ``/_sandbox/``. Part of the product (demo, dry runs,
benchmarks), not only of the tests.
"""

from __future__ import annotations

from dialer.sandbox.server import SandboxServer, run

__all__ = ["SandboxServer", "run"]
