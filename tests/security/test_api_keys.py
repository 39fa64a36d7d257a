"""API keys: guessable keys are refused with a line that says how to make one; ``dialer
keygen`` makes one; keys are compared in constant time."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

import pytest
from pydantic import SecretStr

from dialer.api import auth
from dialer.api.auth import check_keys, is_guessable, key_matches
from dialer.errors import ConfigError
from tests.cli.test_cli import dialer

WEAK = ["a" * 32, "abc" * 11, "abcdefgh" * 4, "0101010101010101", "aaaaaaaabbbbbbbbcc"]


@pytest.mark.parametrize("key", WEAK)
def test_a_guessable_key_is_refused_saying_how_to_make_one(key: str) -> None:
    assert is_guessable(key)
    with pytest.raises(ConfigError, match=r"too easy to guess.*`dialer keygen`"):
        check_keys((SecretStr(key),))


def test_random_keys_pass_even_short_ones() -> None:
    for _ in range(200):
        check_keys((SecretStr(secrets.token_urlsafe(12)), SecretStr(secrets.token_hex(16))))


@pytest.mark.slow
def test_keygen_prints_a_key_the_server_accepts(tmp_path: Path) -> None:
    result = dialer(tmp_path, "keygen")
    key = result.stdout.strip()
    assert result.returncode == 0 and len(key) >= 43 and "\n" not in key
    check_keys((SecretStr(key),))


def test_keys_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every configured key is compared with hmac.compare_digest, whichever matches."""
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(given: bytes, key: bytes) -> bool:
        compared.append((given, key))
        return real(given, key)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    keys = (SecretStr("first-key-" + "x1y2z3w4q5"), SecretStr("second-key-k8j7h6g5f4"))
    assert key_matches("first-key-x1y2z3w4q5", keys)
    assert not key_matches("nope", keys)
    assert len(compared) == 4
