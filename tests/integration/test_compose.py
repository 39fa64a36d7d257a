"""docker-compose.yml parses, and keeps the properties the stack relies on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).parent.parent.parent / "docker-compose.yml"
ENV = {"POSTGRES_PASSWORD": "pw", "FLOWER_USER": "u", "FLOWER_PASSWORD": "p", "DIALER_API_KEY": "k"}


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_config_parses() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose client on this machine")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", **ENV},
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_stack_shape() -> None:
    stack = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = stack["services"]
    assert {"redis", "postgres", "migrate", "worker", "beat", "flower"} <= set(services)
    redis_command = services["redis"]["command"]
    assert "--appendonly" in redis_command and "noeviction" in redis_command
    for name in ("worker", "beat"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
    flower = " ".join(services["flower"]["command"])
    assert "--read_only=true" in flower and "--basic-auth=" in flower
    text = COMPOSE.read_text(encoding="utf-8")
    assert "${POSTGRES_PASSWORD:?" in text and "${FLOWER_PASSWORD:?" in text
