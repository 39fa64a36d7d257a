"""The one interface every provider adapter implements, and the plain data it speaks.

An adapter turns a :class:`CallRequest` into exactly one HTTP request on the ``httpx.Client``
it was given, and either returns a :class:`PlaceResult` (the provider accepted the call) or
raises one of :mod:`dialer.errors`' ``ProviderError`` classes. It never retries a call on its
own — the dispatcher owns retries, because only the ledger knows whether a retry is allowed —
with one documented exception: libby-legacy re-sends once after refreshing an expired token,
because its 403 proves the first request placed nothing.

Afterwards, an adapter reads what became of a call (:class:`ProviderOutcome`) from the
provider's webhook (:meth:`CallProvider.outcome_from_webhook`) or by asking for the call's
status (:meth:`CallProvider.poll`), for providers that offer either. What a provider can do is
declared as data, its :class:`Capabilities`, which the rest of the dialer reads instead of
asking which provider it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Protocol

from dialer.outcomes import Outcome, StatusTable

ATTEMPT_FIELD = "dialerAttempt"
"""Metadata key carrying :attr:`CallRequest.attempt_key` where a provider takes metadata that
reaches its webhooks (libby, trillet, polyai): the key a webhook receiver correlates on."""
CAMPAIGN_FIELD = "dialerCampaign"
"""Metadata key carrying the campaign name, next to :data:`ATTEMPT_FIELD`."""

MESSAGE_OPTIONS = {
    "intro": "--intro",
    "voicemail": "--voicemail",
    "instructions": "--instructions",
    "intro_notes": "--intro-notes",
    "questions": "--question",
    "rules": "--rule",
}
"""Each :class:`Messages` field and the ``campaign create`` option that fills it."""


@dataclass(frozen=True, slots=True)
class Messages:
    """Message templates already rendered for one contact. Empty means not given."""

    intro: str = ""
    voicemail: str = ""
    instructions: str = ""
    intro_notes: str = ""
    questions: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    def given(self) -> dict[str, str | list[str]]:
        """The non-empty fields by name (lists for questions and rules), in declaration order."""
        fields = {name: getattr(self, name) for name in MESSAGE_OPTIONS}
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in fields.items()
            if value
        }

    def unsupported(self, supported: Iterable[str], provider: str) -> str | None:
        """A reason naming the given fields ``provider`` has no place for, or None."""
        extra = [MESSAGE_OPTIONS[name] for name in self.given() if name not in supported]
        if not extra:
            return None
        return f"{provider} has no field for {', '.join(extra)}"


@dataclass(frozen=True, slots=True)
class BadNumberError:
    """An error answer a provider's document gives when the number itself cannot be called:
    its HTTP ``status`` and ``words``, quoted verbatim from the document (the registry test
    finds them there)."""

    status: int
    words: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do, as data.

    ``messages``: the :class:`Messages` fields its call request has a place for (a campaign
    giving any other is refused at import). ``call_id_fields``: where its answer names the
    call, first found wins (empty: it returns no call id, and our attempt key correlates).
    ``takes_callback_url``: it POSTs a call's outcome to a URL given with the call.
    ``poll_window``: how long after a call starts its status can still be asked for (None:
    there is no status to poll). ``checks_rows``: its rules read something that differs
    between the contacts of a campaign, so the import checks every row (False: checking the
    campaign once answers for every row). ``bad_numbers``: the errors its document gives for a
    number that cannot be called, which :meth:`CallProvider.number_refused` recognises (empty:
    its document names none, and no answer of it lists a number).
    """

    messages: frozenset[str] = frozenset()
    call_id_fields: tuple[str, ...] = ()
    takes_callback_url: bool = False
    poll_window: timedelta | None = None
    checks_rows: bool = True
    bad_numbers: tuple[BadNumberError, ...] = ()

    @property
    def returns_call_id(self) -> bool:
        return bool(self.call_id_fields)

    @property
    def pollable(self) -> bool:
        return self.poll_window is not None


@dataclass(frozen=True, slots=True)
class CallRequest:
    """Everything an adapter may put on the wire for one call attempt.

    ``attempt_key`` is the ledger's correlation id for this attempt (a UUID); adapters send it in
    the provider's metadata where the provider allows it. ``variables`` are the lead's own
    columns (snake_case names, string values) plus the campaign's ``--var`` values.
    """

    attempt_key: str
    campaign: str
    phone: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    messages: Messages = field(default_factory=Messages)
    callback_url: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """The provider accepted the call.

    ``provider_call_id`` is None for providers that return none; ``body`` is the answer, trimmed.
    """

    http_status: int
    provider_call_id: str | None
    body: str


@dataclass(frozen=True, slots=True)
class ProviderOutcome:
    """A final outcome a provider reported for one call, and the document that said so.

    The call is named by ``provider_call_id``, by ``attempt_key`` (our
    :attr:`CallRequest.attempt_key`, echoed back in webhook metadata), or by both.
    """

    outcome: Outcome
    payload: Mapping[str, Any]
    provider_call_id: str | None = None
    attempt_key: str | None = None


class CallProvider(Protocol):
    """One provider account, bound to an ``httpx.Client`` supplied by the caller."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    webhook_statuses: ClassVar[StatusTable]
    """The status words its webhooks carry (empty: it sends none we read)."""
    poll_statuses: ClassVar[StatusTable]
    """The status words :meth:`poll` reads (empty: it has no status to poll)."""

    def check(self, request: CallRequest) -> str | None:
        """Why this request breaks a rule of the provider (checked at import), or None."""
        ...

    def place(self, request: CallRequest) -> PlaceResult:
        """Send one call request. Raises RetryableProviderError, RejectedByProvider,
        AccountBroken or AmbiguousOutcome when the call was not (provably) placed."""
        ...

    def number_refused(self, status: int, payload: Any) -> bool:
        """Whether an error answer (HTTP ``status``, its JSON body decoded, None when not JSON)
        is one of :attr:`Capabilities.bad_numbers`: the number itself cannot be called. Pure."""
        ...

    def outcome_from_webhook(self, payload: Mapping[str, Any]) -> ProviderOutcome | None:
        """The final outcome a webhook body reports, or None when it reports something else
        (a call still in progress, an event about something else). Raises
        :class:`~dialer.outcomes.MalformedOutcome` when the body names no call or a status
        the provider's table does not know. Pure: it reads ``payload`` and nothing else."""
        ...

    def poll(self, call_id: str) -> ProviderOutcome | None:
        """Ask the provider for the call's status once: its final outcome, or None while the
        call is not final, once the provider has forgotten it, or when the provider has no
        status to poll. Raises a ProviderError when the provider could not answer (try again
        at the next round) and MalformedOutcome when its answer cannot be read."""
        ...
