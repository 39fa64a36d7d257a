"""Libby legacy (phone.mylibby.ai): ``POST /outbound`` with a Cognito bearer token.

The token comes from OAuth2 client credentials at the account's ``token_url`` (form-encoded
``grant_type``, ``client_id``, ``client_secret``, ``scope``). One :class:`TokenSource` per
account credentials serves every thread of the process. A 401 or 403 from ``/outbound`` means
the token was refused before anything was placed, so the adapter fetches a new token and sends
once more — the one re-send any adapter does; a refusal that outlives the refresh is
AccountBroken. The answer carries no call id. Its document's one error about a number, 404
"Agent not found for this number", is about our outgoing number, not the one called: none of
its answers marks a number as bad.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from dialer.errors import (
    AccountBroken,
    AmbiguousOutcome,
    ProviderError,
    RejectedByProvider,
    RetryableProviderError,
)
from dialer.providers.account import AccountConfig
from dialer.providers.base import CallRequest, Capabilities, PlaceResult
from dialer.providers.http import HttpProvider, classify, endpoint, send
from dialer.providers.limits import too_long

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none

TOKEN_MARGIN = 60.0
"""Seconds before its expiry a token is renewed (at most a tenth of its lifetime)."""
DEFAULT_LIFETIME = 3600.0
"""A token's lifetime when the endpoint gives no usable ``expires_in`` (Cognito's default)."""
FAILURE_HOLD = 5.0
"""Seconds a failed token fetch is repeated to callers instead of being retried at once."""

_KIND = "libby-legacy"


class LibbyLegacyAccount(AccountConfig):
    """``provider = "libby-legacy"``: OAuth2 client credentials and the number calls come from."""

    provider: Literal["libby-legacy"] = "libby-legacy"
    client_id: str
    client_secret: SecretStr
    from_number: str
    scope: str = "external-api-resource-server-1/call.out"
    token_url: str = "https://libby.auth.us-east-1.amazoncognito.com/oauth2/token"  # noqa: S105 (a public endpoint, not a credential)


class TokenSource:
    """Access tokens for one set of client credentials, safe to share between threads.

    Callers that arrive together wait for a single fetch; a fetch that failed is reported to
    callers for :data:`FAILURE_HOLD` seconds without asking the endpoint again. Token endpoint
    answers: 2xx with ``access_token`` → the token; 429, 5xx, no connection or no answer →
    RetryableProviderError (a token request places no call); any other answer, including a 2xx
    without a token → AccountBroken (``invalid_client`` and friends: no call can work).
    """

    def __init__(
        self, account: LibbyLegacyAccount, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._url = endpoint(account.token_url, "", setting="token_url")
        self._secret = account.client_secret.get_secret_value()
        self._form = {
            "grant_type": "client_credentials",
            "client_id": account.client_id,
            "client_secret": self._secret,
            "scope": account.scope,
        }
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self._failure: ProviderError | None = None
        self._failed_at = 0.0

    def __repr__(self) -> str:
        return f"TokenSource(url={self._url!r}, client_id={self._form['client_id']!r})"

    def get(self, client: httpx.Client, *, refused: str | None = None) -> str:
        """A token believed valid. ``refused``: the provider just refused that token, so fetch
        a new one — unless another thread already has."""
        with self._lock:
            now = self._clock()
            if self._token is not None and self._token != refused and now < self._renew_at:
                return self._token
            if self._failure is not None and now - self._failed_at < FAILURE_HOLD:
                raise copy.copy(self._failure)
            try:
                token, lifetime = self._fetch(client)
            except ProviderError as exc:
                self._failure, self._failed_at = exc, self._clock()
                raise
            self._token, self._failure = token, None
            self._renew_at = self._clock() + lifetime - min(TOKEN_MARGIN, lifetime / 10)
            return token

    def _fetch(self, client: httpx.Client) -> tuple[str, float]:
        provider = f"{_KIND} token endpoint"
        secrets = (self._secret,)
        try:
            response = send(
                client,
                self._url,
                provider=provider,
                headers={},
                data=self._form,
                secrets=secrets,
            )
        except AmbiguousOutcome as exc:
            raise RetryableProviderError(str(exc)) from exc
        try:
            classify(response, provider=provider, secrets=secrets)
        except AccountBroken:
            raise
        except RejectedByProvider as exc:
            raise AccountBroken(str(exc), status=exc.status, body=exc.body) from exc
        payload = _json_object(response)
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AccountBroken(
                f"{provider}: HTTP {response.status_code} without an access_token",
                status=response.status_code,
            )
        return token, _lifetime(payload.get("expires_in"))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _lifetime(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return DEFAULT_LIFETIME
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_LIFETIME
    return seconds if 0 < seconds < float("inf") else DEFAULT_LIFETIME


_sources: dict[tuple[str, str, str, str], TokenSource] = {}
_sources_lock = threading.Lock()


def shared_token_source(account: LibbyLegacyAccount) -> TokenSource:
    """The process's one :class:`TokenSource` for the account's token endpoint and credentials."""
    secret = hashlib.sha256(account.client_secret.get_secret_value().encode()).hexdigest()
    key = (account.token_url, account.client_id, account.scope, secret)
    with _sources_lock:
        if key not in _sources:
            _sources[key] = TokenSource(account)
        return _sources[key]


class LibbyLegacyProvider(HttpProvider[LibbyLegacyAccount]):
    """A legacy Libby account (``client_id``, ``client_secret``, ``from_number``, ``scope``,
    ``token_url``). ``tokens`` defaults to the process's shared source for those credentials."""

    kind = _KIND
    account_model = LibbyLegacyAccount
    document = "libby-legacy.txt"
    default_base_url = "https://phone.mylibby.ai"
    path = "/outbound"
    capabilities = Capabilities(
        messages=frozenset({"intro", "voicemail", "intro_notes", "questions", "rules"})
    )

    def __init__(
        self,
        account: LibbyLegacyAccount,
        client: httpx.Client | None,
        *,
        tokens: TokenSource | None = None,
    ) -> None:
        super().__init__(account, client)
        self._from_number = account.from_number
        self._tokens = tokens or shared_token_source(account)

    def check(self, request: CallRequest) -> str | None:
        """No instructions; intro and voicemail as a pair, intro notes only without them; a
        name (the document does not mark ``name`` optional)."""
        messages = request.messages
        oversized = too_long(self.kind, messages)
        if oversized:
            return oversized
        unsupported = self.unsupported(request)
        if unsupported:
            return unsupported
        if bool(messages.intro) != bool(messages.voicemail):
            return "libby-legacy needs --intro and --voicemail together (one of them is empty)"
        if messages.intro_notes and messages.intro:
            return "libby-legacy takes --intro/--voicemail or --intro-notes, not both"
        if not _name(request):
            return "libby-legacy needs the contact's name (no first or last name)"
        return None

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call (again once after a token refresh, see the module docstring).
        The result's ``provider_call_id`` is always None."""
        payload = self._payload(request)
        token = self._tokens.get(self.client)
        response = self._send(payload, token)
        if response.status_code in (401, 403):
            token = self._tokens.get(self.client, refused=token)
            response = self._send(payload, token)
        return classify(
            response,
            provider=self.kind,
            secrets=(*self.secrets(), token),
            number_refused=self.number_refused,
        )

    def _send(self, payload: dict[str, Any], token: str) -> httpx.Response:
        return send(
            self.client,
            self.url,
            provider=self.kind,
            headers={"Authorization": f"Bearer {token}"},
            json=payload,
            secrets=(*self.secrets(), token),
        )

    def _payload(self, request: CallRequest) -> dict[str, Any]:
        messages = request.messages
        body: dict[str, Any] = {
            "name": _name(request),
            "toPhoneNumber": request.phone,
            "fromPhoneNumber": self._from_number,
        }
        if messages.intro or messages.voicemail:
            body["introMessage"] = messages.intro
            body["introVoicemail"] = messages.voicemail
        elif messages.intro_notes:
            body["introNotes"] = messages.intro_notes
        if messages.questions:
            body["customQuestions"] = list(messages.questions)
        if messages.rules:
            body["customRules"] = list(messages.rules)
        body["formInfo"] = [{key: value} for key, value in request.variables.items()]
        return body


def _name(request: CallRequest) -> str:
    return f"{request.first_name} {request.last_name}".strip()
