"""How the sandbox behaves: set when the server is built, changed at run time through
``POST /_sandbox/config``. Both go through :meth:`SandboxConfig.updated`, so a server option and a
config key are the same thing with the same validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Terminal states of a placed call, in allomia's words (the other providers' are mapped from these).
Outcome = Literal["completed", "failed", "busy", "no-answer"]


class SandboxConfig(BaseModel):
    """Every knob of the sandbox. Immutable: a change builds a new one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: int = Field(default=0, ge=0, description="delay before every provider answer")
    token_ttl: int = Field(default=3600, ge=1, description="libby-legacy token lifetime, seconds")
    trillet_call_id_field: Literal["callId", "call_id"] = "callId"
    webhooks: bool = Field(default=True, description="POST allomia's terminal-state webhook")
    call_duration_ms: int = Field(
        default=1000, ge=0, description="how long a placed call stays 'calling' before it ends"
    )
    max_concurrent_calls: int | None = Field(
        default=None, ge=1, description="calls in progress at once per provider API; beyond: 429"
    )
    outcomes: dict[str, Outcome] = Field(
        default_factory=dict, description="phone → how its calls end (default completed)"
    )
    invalid_keys: tuple[str, ...] = Field(
        default=("bad",), description="credentials every provider route refuses"
    )
    max_records: int = Field(default=100_000, ge=1, description="request records kept")

    def updated(self, changes: Mapping[str, object]) -> SandboxConfig:
        """This config with ``changes`` applied. ValueError naming the first bad key if invalid."""
        try:
            return SandboxConfig.model_validate({**self.model_dump(), **changes})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None
