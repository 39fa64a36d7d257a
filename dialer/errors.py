"""The one exception tree of the dialer, split by what the caller should do next.

    DialerError                      anything the dialer raises on purpose
    ├── ConfigError                  bad dialer.toml, unknown account, missing credential
    ├── InputError                   the user's input is unusable: fix it and run again
    │   ├── CsvError                 not a CSV, empty, no phone column, unreadable encoding
    │   ├── TemplateError            a message template names a column the file lacks
    │   └── MalformedOutcome         a webhook or status document we cannot read: record nothing
    ├── CampaignError                the campaign asked for does not exist or cannot do that now
    │   ├── UnknownCampaign
    │   └── InvalidTransition        e.g. resume a cancelled campaign
    ├── ServiceUnavailable           Redis or the database cannot be reached: retry later
    ├── RateLimitTimeout             no rate-limit slot within the caller's timeout: none taken
    └── ProviderError                a provider call did not place a call; by what happens next:
        ├── RetryableProviderError   5xx, 429, connect failure: provably nothing placed, retry
        │                            the contact later (its retry budget allowing)
        ├── RejectedByProvider       other 4xx: this contact's request will never work: it fails
        │   └── BadNumber            the provider's document says the number itself cannot be
        │                            called: the contact fails, the number is listed for good
        ├── AccountProblem           the account, not the contact, is at fault: the contact goes
        │   │                        back to pending untouched, the account stops
        │   └── AccountBroken        401/403 a token refresh does not cure: pause its campaigns
        └── AmbiguousOutcome         the request left and no answer came: unknown, never retried

An account problem is deliberately not a rejection: a rejection ends the contact, an account
problem must not. Catch ``RejectedByProvider`` for "this contact failed" and ``AccountProblem``
for "stop using this account".

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


class MalformedOutcome(InputError):
    """A provider's webhook or status document cannot be read as an outcome (no call id, no
    status, a status we do not know). Nothing is recorded from it."""


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


DATABASE_DOWN = "database unreachable; try again later"
"""What a ServiceUnavailable says when the ledger's database fails a read or write."""


class RateLimitTimeout(DialerError):
    """No slot for ``key`` comes within the caller's timeout; no token was taken."""

    def __init__(self, key: str, wait: float, timeout: float) -> None:
        super().__init__(
            f"rate limit of {key!r}: next slot in {wait:.3f} s, beyond the {timeout:g} s timeout"
        )
        self.key = key
        self.wait = wait
        self.timeout = timeout


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


class BadNumber(RejectedByProvider):
    """The answer is one of the provider's documented errors for a number that cannot be called
    (its :attr:`~dialer.providers.base.Capabilities.bad_numbers`): no campaign should call the
    number again. The message is the provider's own words, credentials masked."""


class AccountProblem(ProviderError):
    """The account cannot place calls now, whoever the contact: nothing was placed and the
    contact is not at fault."""


class AccountBroken(AccountProblem):
    """The account's credentials are refused (401/403 after any refresh): pause its campaigns."""


class AmbiguousOutcome(ProviderError):
    """The request was sent and no answer came back: the call may or may not have been placed."""
