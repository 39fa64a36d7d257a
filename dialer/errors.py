"""The one exception tree of the dialer, split by what the caller should do next.

    DialerError                      anything the dialer raises on purpose
    ├── ConfigError                  bad dialer.toml, unknown account, missing credential
    ├── InputError                   the user's input is unusable: fix it and run again
    │   ├── CsvError                 not a CSV, empty, no phone column, unreadable encoding
    │   └── TemplateError            a message template names a column the file lacks
    ├── CampaignError                the campaign asked for does not exist or cannot do that now
    │   ├── UnknownCampaign
    │   └── InvalidTransition        e.g. resume a cancelled campaign
    ├── ServiceUnavailable           Redis or the database cannot be reached
    └── ProviderError                a provider call did not place a call
        ├── RetryableProviderError   5xx, 429, connect failure: provably nothing placed, retry later
        ├── RejectedByProvider       other 4xx: this request will never work, do not retry
        │   └── AccountBroken        401/403 a token refresh does not cure: stop using the account
        └── AmbiguousOutcome         the request left and no answer came: never retry automatically

User-facing edges (CLI, HTTP API) map this tree to one line and an exit code in one place.
Messages never contain credentials: adapters build them from status codes and provider text.
"""

from __future__ import annotations

from datetime import datetime


class DialerError(Exception):
    """Base of every error the dialer raises on purpose."""


class ConfigError(DialerError):
    """The configuration (file, environment, account block) is invalid."""


class InputError(DialerError):
    """The user's input cannot be used as given."""


class CsvError(InputError):
    """A leads file cannot be imported at all (no row is written)."""


class TemplateError(InputError):
    """A message template is malformed or names a column the leads file does not have."""


class CampaignError(DialerError):
    """A campaign operation cannot be done."""


class UnknownCampaign(CampaignError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no campaign named {name!r}")
        self.name = name


class InvalidTransition(CampaignError):
    """The campaign is not in a state that allows the requested change."""


class ServiceUnavailable(DialerError):
    """A backing service (Redis, the database) cannot be reached."""


class ProviderError(DialerError):
    """A provider request did not result in a placed call.

    ``status`` is the HTTP status when there was one; ``body`` a trimmed copy of the
    provider's answer (never of our request, which carries credentials).
    """

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RetryableProviderError(ProviderError):
    """The provider provably placed nothing (5xx, 429, connect failure): safe to try again.

    ``retry_at`` is the provider's own ``Retry-After`` turned into an instant, when given.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_at = retry_at


class RejectedByProvider(ProviderError):
    """The provider refused this request (4xx): sending it again would not help."""


class AccountBroken(RejectedByProvider):
    """The account's credentials are refused (401/403 after any refresh): pause its campaigns."""


class AmbiguousOutcome(ProviderError):
    """The request was sent and no answer came back: the call may or may not have been placed."""
