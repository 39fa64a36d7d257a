"""The exception tree: split by what the caller does next, as dialer/errors.py draws it."""

from __future__ import annotations

import pytest

from dialer import errors
from dialer.errors import (
    AccountBroken,
    AccountProblem,
    AmbiguousOutcome,
    DialerError,
    InputError,
    MalformedOutcome,
    ProviderError,
    RateLimitTimeout,
    RejectedByProvider,
    RetryableProviderError,
)


def test_an_account_problem_is_not_a_rejection_of_the_contact() -> None:
    # A rejection fails the contact; an account problem must put it back to pending.
    assert issubclass(AccountBroken, AccountProblem)
    assert not issubclass(AccountBroken, RejectedByProvider)
    with pytest.raises(AccountBroken):
        try:
            raise AccountBroken("libby: HTTP 401", status=401)
        except RejectedByProvider:  # pragma: no cover - the point: this must not catch it
            pytest.fail("an AccountBroken was handled as a rejection")


@pytest.mark.parametrize(
    "kind", [RetryableProviderError, RejectedByProvider, AccountProblem, AmbiguousOutcome]
)
def test_every_provider_outcome_class_is_a_provider_error(kind: type[ProviderError]) -> None:
    assert issubclass(kind, ProviderError)
    assert kind.__mro__[1] is ProviderError


def test_errors_raised_elsewhere_live_in_the_one_tree() -> None:
    assert issubclass(MalformedOutcome, InputError)
    assert issubclass(RateLimitTimeout, DialerError)
    assert str(RateLimitTimeout("acme", 1.25, 0.5)) == (
        "rate limit of 'acme': next slot in 1.250 s, beyond the 0.5 s timeout"
    )


def test_the_docstring_draws_every_class_of_the_tree() -> None:
    doc = errors.__doc__ or ""
    classes = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, DialerError)
    ]
    assert classes and all(f" {name} " in doc or f"── {name}" in doc for name in classes)
