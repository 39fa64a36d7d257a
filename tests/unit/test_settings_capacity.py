"""An account's capacity settings in dialer.toml, and the renamed ``concurrency``."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.errors import ConfigError
from dialer.settings import Settings, load_settings


def _load(tmp_path: Path, *lines: str) -> Settings:
    config = tmp_path / "dialer.toml"
    text = "\n".join(["[accounts.acme]", 'provider = "sandbox"', *lines]) + "\n"
    config.write_text(text, encoding="utf-8")
    return load_settings(config, env={})


def test_capacity_fields_and_their_defaults(tmp_path: Path) -> None:
    settings = load_settings(None, env={})
    sandbox = settings.account("sandbox")
    assert sandbox.concurrent_calls is None
    assert (sandbox.call_lease, sandbox.outage_pause, sandbox.sending_threads) == (600, 900, 32)
    capped = _load(tmp_path, "concurrent_calls = 5", "call_lease = 120", "sending_threads = 4")
    acme = capped.account("acme")
    assert (acme.concurrent_calls, acme.call_lease, acme.sending_threads) == (5, 120, 4)


def test_the_old_concurrency_name_is_refused_in_one_line_naming_the_new_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, "concurrency = 8")
    message = str(refused.value)
    assert "\n" not in message
    assert "concurrency" in message and "sending_threads" in message
    assert "accounts.acme" in message


@pytest.mark.parametrize("line", ["concurrent_calls = 0", "call_lease = 0", "outage_pause = -1"])
def test_nonsense_capacity_is_refused(tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError, match=r"accounts\.acme"):
        _load(tmp_path, line)
