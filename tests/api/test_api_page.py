"""The upload page in headless Chromium (Debian's chromium and chromium-driver, via Selenium):
key, CSV and account in, import summary shown, campaign started and followed to completion
while the embedded dispatcher dials the sandbox.

Skipped when chromium is not installed, unless DIALER_TEST_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.wiring import build_service
from tests.api.conftest import API_KEY, ServedApp, api_settings
from tests.conftest import REQUIRE_SERVICES
from tests.draining import drain

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LEADS = "First Name,Phone\nAnn,+12125552671\nBob,+12125552672\nCy,n/a\n"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        message = f"{CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium chromium-driver)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (DIALER_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def _text(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def _wait_for_text(driver: WebDriver, element_id: str, expected: str, timeout: float = 20) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: _text(d, element_id) == expected,
        f"#{element_id} never read {expected!r}",
    )


def test_upload_start_and_watch_a_campaign_complete(
    browser: WebDriver, sqlite_url: str, sqlite_engine: Engine, sandbox_url: str, tmp_path: Path
) -> None:
    settings = api_settings(sqlite_url, sandbox_url)
    leads = tmp_path / "spring.csv"
    leads.write_text(LEADS, encoding="utf-8")
    app = create_app(settings, sqlite_engine, tmp_path / "files")
    with ServedApp(app) as served:
        browser.get(f"{served.url}/")
        key = browser.find_element(By.ID, "key")
        key.send_keys("not-the-key")
        browser.find_element(By.ID, "connect").click()
        _wait_for_text(browser, "connect-error", "missing or wrong X-API-Key header")
        key.clear()
        key.send_keys(API_KEY)
        browser.find_element(By.ID, "connect").click()
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "upload").is_displayed())
        account = Select(browser.find_element(By.ID, "account"))
        assert [o.text for o in account.options] == ["sandbox (sandbox)"]

        browser.find_element(By.ID, "file").send_keys(str(leads))
        assert browser.find_element(By.ID, "name").get_attribute("value") == "spring"
        browser.find_element(By.CSS_SELECTOR, "details summary").click()
        browser.find_element(By.NAME, "window").send_keys("00:00-24:00")
        browser.find_element(By.NAME, "days").send_keys("all")
        browser.find_element(By.ID, "import").click()
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "summary").is_displayed())
        assert (_text(browser, "rows-read"), _text(browser, "accepted")) == ("3", "2")
        assert _text(browser, "reasons") == "missing 1"
        assert browser.find_element(By.ID, "rejects").is_displayed()

        browser.find_element(By.ID, "start").click()
        _wait_for_text(browser, "status", "running")
        assert _text(browser, "done") == "0 of 2 contacts done"

        drain(build_service(settings, sqlite_engine))

        _wait_for_text(browser, "status", "completed")
        assert _text(browser, "done") == "2 of 2 contacts done"
        progress = browser.find_element(By.ID, "progress")
        assert progress.get_attribute("value") == progress.get_attribute("max") == "2"
        assert _text(browser, "progress-error") == ""
        browser.save_screenshot(str(tmp_path / "page.png"))
