"""The one settings object. Nothing else in the dialer reads the environment.

Lookup order for the file: ``--config PATH``, else ``$DIALER_CONFIG``, else ``./dialer.toml``;
with none, defaults apply (SQLite ``./dialer.db``, embedded mode, one ``sandbox`` account).
``${NAME}`` in any string value expands from the environment; ``DIALER_DATABASE_URL`` and
``DIALER_BROKER_URL`` override the two URLs, ``DIALER_API_KEYS`` (comma-separated) the HTTP
API's keys. Tests build :class:`Settings` directly.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from dialer.errors import ConfigError

ProviderKind = Literal["libby", "libby-legacy", "allomia", "trillet", "polyai", "sandbox"]

SANDBOX_PORT = 8765
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"

# Fields each provider kind cannot work without (DESIGN.md §4).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "libby": ("api_key", "agent_id"),
    "libby-legacy": ("client_id", "client_secret", "from_number"),
    "allomia": ("api_key", "assistant_id", "phone_number_id"),
    "trillet": ("workspace_id", "agent_id"),
    "polyai": ("token",),
    "sandbox": (),
}

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_UNIT_SECONDS |= {"h": 3600, "hour": 3600}


UNLIMITED = "unlimited"
"""The ``rate`` of an account with no rate limit: as fast as ``concurrency`` allows."""


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
    """One ``[accounts.NAME]`` block: a provider account and how hard we may use it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    provider: ProviderKind
    base_url: str | None = None
    rate: str = "10/s"
    timeout: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, description="retry budget per contact")
    backoff_seconds: float = Field(default=30.0, gt=0, description="first retry's delay")
    concurrency: int = Field(default=32, ge=1, description="requests in flight per process")
    # provider fields
    api_key: SecretStr | None = None
    agent_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    from_number: str | None = None
    scope: str = "external-api-resource-server-1/call.out"
    # A public endpoint, not a credential (bandit reads "token" as a password).
    token_url: str = "https://libby.auth.us-east-1.amazoncognito.com/oauth2/token"  # noqa: S105
    assistant_id: str | None = None
    phone_number_id: str | None = None
    callback_url: str | None = None
    workspace_id: str | None = None
    token: SecretStr | None = None
    encryption: Literal["TLS/SRTP", "TLS/RTP", "UDP/SRTP", "UDP/RTP"] = "TLS/SRTP"

    @model_validator(mode="after")
    def _check(self) -> AccountConfig:
        missing = [f for f in REQUIRED_FIELDS[self.provider] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"provider {self.provider} needs {', '.join(missing)}")
        try:
            parse_rate(self.rate)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def rate_per_second(self) -> float:
        return parse_rate(self.rate)


class Settings(BaseModel):
    """Everything the dialer is configured with. Build it with :func:`load_settings`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = "sqlite:///dialer.db"
    broker_url: str | None = None
    accounts: dict[str, AccountConfig] = Field(
        default_factory=lambda: {
            "sandbox": AccountConfig(name="sandbox", provider="sandbox", rate="50/s")
        }
    )
    # Dispatch
    claim_batch: int = Field(default=500, ge=1, description="max contacts claimed per tick")
    tick_seconds: float = Field(default=1.0, gt=0)
    dispatch_batch: int = Field(
        default=100, ge=1, description="max contacts per dispatch task (one Celery message)"
    )
    queued_timeout: float = Field(default=300.0, gt=0, description="queued but never begun")
    dialing_timeout: float = Field(default=900.0, gt=0, description="dialing with no answer")
    # Compliance
    frequency_cap: int = Field(default=3, ge=0, description="placed calls per number per 24h")
    # HTTP API
    api_keys: tuple[SecretStr, ...] = ()
    public_url: str = "http://127.0.0.1:8000"
    max_upload_mb: int = Field(default=100, ge=1)

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
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {location + ': ' if location else ''}{message}"


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
    raw: dict[str, Any] = {}
    where = str(found) if found else "settings"
    if found is not None:
        try:
            raw = tomllib.loads(found.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{found}: not valid TOML ({exc})") from None
        raw = _expand(raw, env, where)
    if env.get("DIALER_DATABASE_URL"):
        raw["database_url"] = env["DIALER_DATABASE_URL"]
    if env.get("DIALER_BROKER_URL"):
        raw["broker_url"] = env["DIALER_BROKER_URL"]
    if env.get("DIALER_API_KEYS"):
        raw["api_keys"] = [key.strip() for key in env["DIALER_API_KEYS"].split(",") if key.strip()]
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from None
