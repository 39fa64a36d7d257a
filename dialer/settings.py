"""The one settings object. Nothing else in the dialer reads the environment.

Lookup order for the file: ``--config PATH``, else ``$DIALER_CONFIG``, else ``./dialer.toml``;
with none, defaults apply (SQLite ``./dialer.db``, embedded mode, one ``sandbox`` account).
``${NAME}`` in any string value expands from the environment; ``DIALER_DATABASE_URL`` and
``DIALER_BROKER_URL`` override the two URLs, ``DIALER_API_KEYS`` (comma-separated) the HTTP
API's keys. Tests build :class:`Settings` directly.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from dialer.backoff import parse_duration
from dialer.errors import ConfigError, InputError
from dialer.providers import AnyAccount
from dialer.providers.account import UNLIMITED, AccountConfig, parse_rate
from dialer.providers.sandbox import SANDBOX_PORT, SANDBOX_URL, SandboxAccount
from dialer.webhooks.endpoints import WebhookEndpoints

__all__ = [
    "SANDBOX_PORT",
    "SANDBOX_URL",
    "UNLIMITED",
    "AccountConfig",
    "Settings",
    "config_path",
    "load_settings",
    "parse_rate",
]


def _default_accounts() -> dict[str, AccountConfig]:
    """With no ``[accounts]``: the sandbox, where ``dialer sandbox`` listens."""
    return {"sandbox": SandboxAccount(name="sandbox", rate="50/s")}


class Settings(BaseModel):
    """Everything the dialer is configured with. Build it with :func:`load_settings`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = "sqlite:///dialer.db"
    broker_url: str | None = None
    accounts: dict[str, AnyAccount] = Field(default_factory=_default_accounts)
    # Dispatch
    claim_batch: int = Field(default=500, ge=1, description="max contacts claimed per tick")
    tick_seconds: float = Field(default=1.0, gt=0)
    dispatch_batch: int = Field(
        default=100, ge=1, description="max contacts per dispatch task (one Celery message)"
    )
    queued_timeout: float = Field(default=300.0, gt=0, description="queued but never begun")
    dialing_timeout: float = Field(default=900.0, gt=0, description="dialing with no answer")
    poll_seconds: float = Field(
        default=30.0, gt=0, description="how often placed calls are polled for their outcome"
    )
    # Compliance
    frequency_cap: int = Field(default=3, ge=0, description="placed calls per number per 24h")
    min_call_gap: timedelta = Field(
        default=timedelta(hours=1), description="least time between two calls to one number"
    )
    # HTTP API
    api_keys: tuple[SecretStr, ...] = ()
    public_url: str = "http://127.0.0.1:8000"
    max_upload_mb: int = Field(default=100, ge=1)
    webhooks: WebhookEndpoints = ()  # [[webhooks]]: see dialer.webhooks.endpoints

    @model_validator(mode="before")
    @classmethod
    def _name_accounts(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("accounts"), dict):
            data = dict(data)
            data["accounts"] = {
                name: ({**block, "name": name} if isinstance(block, dict) else block)
                for name, block in data["accounts"].items()
            }
        return data

    @field_validator("min_call_gap", mode="before")
    @classmethod
    def _gap(cls, value: Any) -> Any:
        """``"1h"``, ``"90m"``, ``"0"`` (off) or seconds."""
        if isinstance(value, str):
            try:
                return timedelta(0) if value.strip() == "0" else parse_duration(value)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        if isinstance(value, int | float) and value < 0:
            raise ValueError("must be 0 (off) or more")
        return value

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: the CLI dispatches in its own process."""
        return self.broker_url is None

    def account(self, name: str) -> AccountConfig:
        try:
            return self.accounts[name]
        except KeyError:
            known = ", ".join(sorted(self.accounts)) or "none"
            raise ConfigError(f"no account named {name!r} (configured: {known})") from None


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(f"{where}: ${{{name}}} is not set in the environment")
            return env[name]

        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, where) for v in value]
    return value


def _describe(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in _location(first))
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "union_tag_not_found":
        location, message = f"{location}.provider", "Field required"
    elif first["type"] == "union_tag_invalid":
        context = first.get("ctx", {})
        location += ".provider"
        message = f"{context.get('tag')!r} is not one of {context.get('expected_tags')}"
    return f"{where}: {location + ': ' if location else ''}{message}"


def _location(error: ErrorDetails) -> tuple[int | str, ...]:
    """Where the error is, without the provider tag pydantic puts after an account's name:
    ``accounts.gym.agent_id``, not ``accounts.gym.libby.agent_id``."""
    loc = error["loc"]
    if loc[:1] == ("accounts",) and len(loc) >= 3:
        return (*loc[:2], *loc[3:])
    return loc


def config_path(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """Which config file applies, or None when defaults do."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} not found")
        return explicit
    if env.get("DIALER_CONFIG"):
        path = Path(env["DIALER_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"DIALER_CONFIG points to {path}, which does not exist")
        return path
    default = Path("dialer.toml")
    return default if default.is_file() else None


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the file that applies and the environment. ConfigError if bad."""
    env = os.environ if env is None else env
    found = config_path(path, env)
    raw = {} if found is None else _read_file(found, env)
    raw |= _environment_overrides(env)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(found) if found else "settings")) from None


def _read_file(found: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The TOML file's settings, ``${NAME}`` expanded from ``env``."""
    try:
        raw = tomllib.loads(found.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{found}: not valid TOML ({exc})") from None
    expanded: dict[str, Any] = _expand(raw, env, str(found))
    return expanded


def _environment_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment sets, over the file's."""
    overrides: dict[str, Any] = {}
    if env.get("DIALER_DATABASE_URL"):
        overrides["database_url"] = env["DIALER_DATABASE_URL"]
    if env.get("DIALER_BROKER_URL"):
        overrides["broker_url"] = env["DIALER_BROKER_URL"]
    if env.get("DIALER_API_KEYS"):
        keys = env["DIALER_API_KEYS"].split(",")
        overrides["api_keys"] = [key.strip() for key in keys if key.strip()]
    return overrides
