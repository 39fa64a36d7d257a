"""The operator console in headless Chromium (Debian's chromium and chromium-driver, via
Selenium): one browser and one served API per test module, on a SQLite ledger, with the
session's sandbox provider. As ``dialer serve`` does, the API shares the account gate of the
service that dials (the tests drain it), so the account panel shows its capacity.

Skipped when chromium is not installed, unless DIALER_TEST_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.ledger.engine import make_engine, migrate
from dialer.sandbox import SandboxServer
from dialer.service import CallService
from dialer.settings import AccountConfig, Settings
from dialer.wiring import build_service
from tests.api.conftest import API_KEY, ServedApp, api_settings
from tests.conftest import REQUIRE_SERVICES

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


@dataclass
class Console:
    """The served console: its URL, the ledger behind it and an API client with the key."""

    url: str
    settings: Settings
    engine: Engine
    api: httpx.Client
    downloads: Path
    service: CallService
    """What dials the campaigns, its gate the API's."""


@contextmanager
def served_console(
    workdir: Path, sandbox_url: str, accounts: Callable[[Settings], dict[str, AccountConfig]]
) -> Iterator[Console]:
    """``dialer serve`` as the console tests see it: a migrated SQLite ledger in ``workdir``,
    the accounts ``accounts`` makes of the API test settings, and a dialing service whose
    gate the API shares."""
    url = f"sqlite:///{workdir / 'ledger.db'}"
    engine = make_engine(url)
    migrate(engine)
    settings = api_settings(url, sandbox_url)
    settings = settings.model_copy(update={"accounts": accounts(settings)})
    service = build_service(settings, engine)
    app = create_app(settings, engine, workdir / "files", gate=service.gate)
    with (
        ServedApp(app) as served,
        httpx.Client(base_url=served.url, headers={"X-API-Key": API_KEY}, timeout=20) as api,
    ):
        yield Console(served.url, settings, engine, api, workdir / "downloads", service)
    service.close()
    engine.dispose()


def _console_accounts(settings: Settings) -> dict[str, AccountConfig]:
    """The sandbox capped at 4 calls, and a Libby and a Trillet account (never dialed)."""
    capped = settings.accounts["sandbox"].model_copy(update={"concurrent_calls": 4})
    others = {
        "gym": {"name": "gym", "provider": "libby", "api_key": "k", "agent_id": "a1"},
        "tri": {"name": "tri", "provider": "trillet", "workspace_id": "ws1", "agent_id": "a1"},
    }
    return {"sandbox": capped} | {
        name: AccountConfig.model_validate(fields) for name, fields in others.items()
    }


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, sandbox_server: SandboxServer
) -> Iterator[Console]:
    workdir = tmp_path_factory.mktemp("console")
    with served_console(workdir, sandbox_server.url, _console_accounts) as served:
        yield served


@pytest.fixture(scope="module")
def browser(console: Console) -> Iterator[WebDriver]:
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        message = f"{CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium chromium-driver)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (DIALER_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={console.downloads.parent / 'profile'}"):
        options.add_argument(flag)
    console.downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(console.downloads),
            "download.prompt_for_download": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def sign_in(browser: WebDriver, console: Console) -> None:
    """Open the sign-in page and sign in with the right key."""
    browser.get(f"{console.url}/console/sign-in")
    browser.find_element(By.ID, "key").send_keys(API_KEY)
    browser.find_element(By.ID, "connect").click()
    wait_for(browser, lambda d: d.current_url.endswith("/console/"), "never reached the list")


def wait_for(browser: WebDriver, condition: object, message: str, timeout: float = 20) -> None:
    WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition, message)  # type: ignore[arg-type]


def text(browser: WebDriver, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def wait_for_text(browser: WebDriver, element_id: str, expected: str, timeout: float = 20) -> None:
    wait_for(
        browser,
        lambda d: expected in d.find_element(By.ID, element_id).text,
        f"#{element_id} never read {expected!r}",
        timeout,
    )


def serious_violations(browser: WebDriver) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not browser.execute_script("return typeof window.axe !== 'undefined'"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then((r) => done(JSON.stringify("
        "{violations: r.violations, passes: r.passes.length})), (e) => done(String(e)));"
    )
    found = json.loads(result)
    assert found["passes"] > 10, "axe-core checked nothing"
    violations = found["violations"]
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def script_errors(browser: WebDriver) -> list[str]:
    """Script errors and Content-Security-Policy refusals logged since the last call (answers
    the API gave with an error status are the pages' business, not script errors)."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]


def fits_phone_width(browser: WebDriver) -> bool:
    """True when the page at 390 px wide needs no sideways scrolling (wide tables scroll
    inside their own region)."""
    return bool(
        browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
    )
