"""The one place where an adapter's request is sent and the answer is classified.

Transport failures (:func:`send`), by whether the request can have reached the provider:

    ConnectError, ConnectTimeout, PoolTimeout   no byte left: RetryableProviderError
    ReadTimeout, ReadError, RemoteProtocolError the request was sent, no answer: AmbiguousOutcome
    WriteTimeout, WriteError                    part of the request (maybe all of it: the kernel
                                                buffers what it reports as failed) left: Ambiguous
    anything else httpx raises                  not provably unsent: AmbiguousOutcome

Answers (:func:`classify`):

    2xx              PlaceResult (the provider said yes, even when its body is not the JSON
                     we expected: then the call id is None and the body is kept)
    429, 5xx         RetryableProviderError, ``retry_at`` from ``Retry-After``
    401, 403         AccountBroken
    any other        RejectedByProvider, with the provider's own error text; BadNumber when
                     the adapter's ``number_refused`` recognises one of its document's errors
                     for a number that cannot be called

Every message is built from the status code and the provider's text, with the account's
secrets masked out of that text too (a provider may echo a key back): no credential ever
reaches an exception or a log record. :class:`HttpProvider` is the shared shell of the adapters.
"""

from __future__ import annotations

import json as jsonlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from dialer.backoff import parse_retry_after
from dialer.errors import (
    AccountBroken,
    AmbiguousOutcome,
    BadNumber,
    ConfigError,
    ProviderError,
    RejectedByProvider,
    RetryableProviderError,
)
from dialer.outcomes import StatusTable
from dialer.providers.account import AccountConfig
from dialer.providers.base import CallRequest, Capabilities, PlaceResult, ProviderOutcome

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none

logger = logging.getLogger(__name__)

BODY_LIMIT = 2048
"""How much of a provider's answer is kept (in results, errors and the attempt row)."""

_MASK = "***"


def endpoint(base_url: str, path: str, *, setting: str = "base_url") -> str:
    """``base_url`` (scheme, host, optional prefix) joined with the provider's documented path.
    ConfigError, naming ``setting``, unless ``base_url`` is an http(s) URL."""
    import httpx

    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"{setting} {base_url!r} is not an http:// or https:// URL")
    return base_url.rstrip("/") + path


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every (non-empty) secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    return text


def send(
    client: httpx.Client,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    json: Any = None,
    data: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
) -> httpx.Response:
    """POST once on ``client``, with the client's timeouts (never retried here). Returns
    whatever answer came back.

    Raises RetryableProviderError when the request provably never left (connect failure, pool
    timeout), AmbiguousOutcome for every other transport failure (see the module docstring).
    """
    import httpx

    try:
        response = client.post(url, headers=headers, json=json, data=data)
    except httpx.RequestError as exc:
        reason = mask(str(exc), secrets) or "no detail"
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            message = f"{provider}: could not connect ({type(exc).__name__}: {reason})"
            logger.info("%s", message)
            raise RetryableProviderError(message) from exc
        message = f"{provider}: no answer after sending ({type(exc).__name__}: {reason})"
        logger.warning("%s", message)
        raise AmbiguousOutcome(message) from exc
    logger.debug("%s: POST %s answered %s", provider, url, response.status_code)
    return response


def classify(
    response: httpx.Response,
    *,
    provider: str,
    call_id_fields: Sequence[str] = (),
    secrets: Sequence[str] = (),
    now: datetime | None = None,
    number_refused: Callable[[int, Any], bool] | None = None,
) -> PlaceResult:
    """The meaning of a provider's answer: a PlaceResult for 2xx, else the ProviderError it is.

    The call id is the first of ``call_id_fields`` present in a JSON object body (empty: the
    provider returns none). ``now`` (default: the clock) anchors a ``Retry-After`` delay.
    ``number_refused`` (the adapter's) turns a rejection into BadNumber when it recognises it.
    """
    status = response.status_code
    body = mask(response.text, secrets)[:BODY_LIMIT]
    if response.is_success:
        return PlaceResult(
            http_status=status, provider_call_id=_call_id(response, call_id_fields), body=body
        )
    message = f"{provider}: HTTP {status}: {mask(provider_text(response), secrets)}"
    error: ProviderError
    if status == 429 or status >= 500:
        retry_at = parse_retry_after(response.headers.get("Retry-After"), now or datetime.now(UTC))
        error = RetryableProviderError(message, status=status, body=body, retry_at=retry_at)
    elif status in (401, 403):
        error = AccountBroken(message, status=status, body=body)
    elif number_refused is not None and number_refused(status, _json(response)):
        error = BadNumber(message, status=status, body=body)
    else:
        error = RejectedByProvider(message, status=status, body=body)
    logger.info("%s", message)
    raise error


def provider_text(response: httpx.Response) -> str:
    """The provider's own account of an error, one line, at most ~500 characters.

    From a JSON object: ``error`` or ``message`` (or ``detail``, ``error_description``), plus a
    ``details`` list of ``{field, message}`` (AlloMia's validation errors) as ``field: message``.
    Otherwise the body's text, or the status's reason phrase when the body is empty.
    """
    payload = _json(response)
    text = _json_error_text(payload) if isinstance(payload, dict) else ""
    if not text:
        text = response.text.strip() or response.reason_phrase
    return " ".join(text.split())[:500]


def _json_error_text(payload: dict[str, Any]) -> str:
    """The first error message field of a JSON error body, with its ``details`` appended."""
    text = next(
        (
            payload[key]
            for key in ("error", "message", "detail", "error_description")
            if isinstance(payload.get(key), str) and payload[key]
        ),
        "",
    )
    details = payload.get("details")
    if not isinstance(details, list):
        return text
    parts = [
        f"{item.get('field', '?')}: {item.get('message', '')}"
        for item in details
        if isinstance(item, dict)
    ]
    return f"{text} ({'; '.join(parts)})" if text and parts else text or "; ".join(parts)


def _json(response: httpx.Response) -> Any:
    try:
        return jsonlib.loads(response.content)
    except ValueError:
        return None


def _call_id(response: httpx.Response, fields: Sequence[str]) -> str | None:
    payload = _json(response) if fields else None
    if not isinstance(payload, dict):
        return None
    for field in fields:
        value = payload.get(field)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


AccountT = TypeVar("AccountT", bound=AccountConfig)


class HttpProvider(ABC, Generic[AccountT]):
    """The shell every adapter shares: its account, the caller's client, the endpoint URL.

    A subclass is everything the dialer knows about one provider. It declares, as class
    attributes: ``kind`` (its ``provider = "..."``), ``account_model`` (its ``[accounts.NAME]``
    block), ``document`` (its API document in ``providers/``, None for our own sandbox),
    ``default_base_url`` and ``path`` (the documented path, kept when ``base_url`` overrides
    the host), its ``capabilities`` and its status words; and it implements
    :class:`CallProvider`'s methods. By default a provider sends no webhook we read and has no
    status to poll. Timeouts, pool limits and proxies are the client's: whoever builds the
    client applies the account's ``timeout`` (see :mod:`dialer.clients`). An adapter built
    without a client checks requests and sends nothing (the import builds one so: making an
    ``httpx.Client`` costs more than checking a small file). ``repr`` names the account and
    nothing else.
    """

    kind: ClassVar[str]
    account_model: ClassVar[type[AccountConfig]]
    document: ClassVar[str | None]
    default_base_url: ClassVar[str]
    path: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    webhook_statuses: ClassVar[StatusTable] = {}
    poll_statuses: ClassVar[StatusTable] = {}

    def __init__(self, account: AccountT, client: httpx.Client | None) -> None:
        self.account = account
        self._client = client
        self.url = endpoint(account.base_url or self.default_base_url, self.path)

    @property
    def client(self) -> httpx.Client:
        """The caller's client; RuntimeError when the adapter was built without one."""
        if self._client is None:
            raise RuntimeError(f"{self!r} was built to check requests: it sends nothing")
        return self._client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account.name!r})"

    @abstractmethod
    def check(self, request: CallRequest) -> str | None:
        """See :meth:`CallProvider.check`."""

    @abstractmethod
    def place(self, request: CallRequest) -> PlaceResult:
        """See :meth:`CallProvider.place`."""

    @staticmethod
    def outcome_from_webhook(payload: Mapping[str, Any]) -> ProviderOutcome | None:
        """See :meth:`CallProvider.outcome_from_webhook` (a static method: it needs no
        account, so the webhook receiver calls it on the class)."""
        return None

    def poll(self, call_id: str) -> ProviderOutcome | None:
        """See :meth:`CallProvider.poll`."""
        return None

    @staticmethod
    def number_refused(status: int, payload: Any) -> bool:
        """See :meth:`CallProvider.number_refused`; by default no answer is one (a provider
        whose document names bad-number errors overrides it, with ``bad_numbers``)."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """Every credential of the account (its ``SecretStr`` fields), to be masked out of any
        text this adapter reports."""
        return self.account.secrets()

    def unsupported(self, request: CallRequest) -> str | None:
        """A reason naming the request's messages this provider has no field for, or None."""
        return request.messages.unsupported(self.capabilities.messages, self.kind)

    def post(self, payload: Mapping[str, Any], *, headers: Mapping[str, str]) -> PlaceResult:
        """Send ``payload`` as JSON to the endpoint and classify the answer (the call id is
        read from the capabilities' ``call_id_fields``)."""
        response = send(
            self.client,
            self.url,
            provider=self.kind,
            headers=headers,
            json=payload,
            secrets=self.secrets(),
        )
        return classify(
            response,
            provider=self.kind,
            call_id_fields=self.capabilities.call_id_fields,
            secrets=self.secrets(),
            number_refused=self.number_refused,
        )
