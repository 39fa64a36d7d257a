"""What every ``[accounts.NAME]`` block has, whatever its provider.

Each provider module subclasses :class:`AccountConfig` with its own fields and
``provider: Literal["<kind>"]``; :mod:`dialer.providers` joins those models into the
discriminated union the settings validate against, so a block is checked against its own
provider's fields only. Calling ``AccountConfig(provider="libby", ...)`` or
``AccountConfig.model_validate({...})`` builds the model of the provider named (as
``pathlib.Path()`` builds a ``PosixPath``): code that only needs the common fields never names
a provider's model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from dialer.errors import ConfigError

UNLIMITED = "unlimited"
"""The ``rate`` of an account with no rate limit: as fast as ``sending_threads`` allow."""

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_UNIT_SECONDS |= {"h": 3600, "hour": 3600}


def parse_rate(text: str) -> float:
    """``"10/s"`` or ``"600/m"`` → calls per second; ``"unlimited"`` → ``math.inf``. Raises
    ConfigError on anything else."""
    if text.strip().lower() == UNLIMITED:
        return math.inf
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"rate {text!r} is not of the form '10/s', '600/m' or 'unlimited'")
    return float(match.group(1)) / _UNIT_SECONDS[match.group(2)]


class AccountConfig(BaseModel):
    """One ``[accounts.NAME]`` block: a provider account and how hard we may use it. The
    fields here are every account's; a provider's own are on its subclass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    provider: str
    base_url: str | None = None
    rate: str = "10/s"
    timeout: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, description="retry budget per contact")
    backoff_seconds: float = Field(default=30.0, gt=0, description="first retry's delay")
    sending_threads: int = Field(default=32, ge=1, description="requests in flight per process")
    # Capacity (issue 12, dialer/capacity/)
    concurrent_calls: int | None = Field(
        default=None, ge=1, description="calls in progress at once, global (None: no cap)"
    )
    call_lease: float = Field(
        default=600.0, gt=0, description="seconds a call holds its place when its end is unheard"
    )
    outage_pause: float = Field(
        default=900.0, gt=0, description="seconds of open breaker before campaigns pause"
    )

    def __new__(cls, /, **data: Any) -> Self:
        if cls is not AccountConfig or "provider" not in data:
            return super().__new__(cls)
        # Imported here: the registry imports every provider module, which import this one.
        from dialer.providers import account_model

        model = account_model(data["provider"]) or AccountConfig
        return cast(Self, object.__new__(model))

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` as this model; on :class:`AccountConfig` itself, as the model of
        the provider it names."""
        if cls is not AccountConfig:
            return super().model_validate(obj, *args, **kwargs)
        from dialer.providers import ACCOUNTS

        return cast(Self, ACCOUNTS.validate_python(obj, *args, **kwargs))

    @classmethod
    def kind(cls) -> str:
        """The ``provider`` this model is for."""
        return str(cls.model_fields["provider"].default)

    @classmethod
    def own_fields(cls) -> list[str]:
        """The fields this provider's accounts have that others do not, in declaration order."""
        return [name for name in cls.model_fields if name not in AccountConfig.model_fields]

    @model_validator(mode="before")
    @classmethod
    def _only_this_providers_fields(cls, data: Any) -> Any:
        if cls is AccountConfig:
            raise ValueError(_unknown_provider(data))
        if isinstance(data, Mapping):
            if "concurrency" in data:
                raise ValueError("`concurrency` is now called `sending_threads`: rename it")
            problem = cls._unknown_fields(data) or cls._missing_fields(data)
            if problem:
                raise ValueError(problem)
        return data

    @classmethod
    def _unknown_fields(cls, data: Mapping[str, Any]) -> str | None:
        unknown = [repr(key) for key in data if key not in cls.model_fields]
        if not unknown:
            return None
        kind, common = cls.kind(), [n for n in AccountConfig.model_fields if n not in _IMPLIED]
        return (
            f"{kind} has no field {', '.join(unknown)} ({kind}'s fields: "
            f"{', '.join(cls.own_fields()) or 'none'}; any account's: {', '.join(common)})"
        )

    @classmethod
    def _missing_fields(cls, data: Mapping[str, Any]) -> str | None:
        fields = cls.model_fields.items()
        missing = [name for name, field in fields if field.is_required() and name not in data]
        return f"provider {cls.kind()} needs {', '.join(missing)}" if missing else None

    @model_validator(mode="after")
    def _check_rate(self) -> Self:
        try:
            parse_rate(self.rate)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def rate_per_second(self) -> float:
        return parse_rate(self.rate)

    def secrets(self) -> tuple[str, ...]:
        """The account's credentials (its ``SecretStr`` fields, which every print of the
        account masks), for masking out of any other text."""
        return tuple(value.get_secret_value() for _, value in self if isinstance(value, SecretStr))


_IMPLIED = ("name", "provider")
"""Common fields a block does not spell as settings: its table name and the tag."""


def _unknown_provider(data: Any) -> str:
    from dialer.providers import PROVIDERS

    provider = data.get("provider") if isinstance(data, Mapping) else None
    return f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})"


class WebhookAccount(AccountConfig):
    """An account whose provider POSTs a call's outcome to a URL given with the call."""

    callback_url: str | None = Field(
        default=None,
        description="the account owner's own receiver: then the dialer hears no webhook",
    )
