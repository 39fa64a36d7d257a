"""The console over two accounts in a real browser: the new-campaign form splits the contacts
by weight with failover, and the campaign page compares the accounts when asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from dialer.sandbox import SandboxServer
from dialer.settings import AccountConfig, Settings
from tests.console.conftest import (
    Console,
    script_errors,
    serious_violations,
    served_console,
    sign_in,
    text,
    wait_for,
    wait_for_text,
)
from tests.draining import drain

pytestmark = pytest.mark.timeout(120)

LEADS = "first_name,phone\n" + "".join(f"L{i},+1212555{2600 + i:04d}\n" for i in range(10))


def _with_trial(settings: Settings) -> dict[str, AccountConfig]:
    """The API test accounts and a second sandbox account, ``trial``."""
    trial = settings.accounts["sandbox"].model_copy(update={"name": "trial"})
    return {**settings.accounts, "trial": trial}


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, sandbox_server: SandboxServer
) -> Iterator[Console]:
    """The served console with a second sandbox account, ``trial``."""
    workdir = tmp_path_factory.mktemp("console-accounts")
    with served_console(workdir, sandbox_server.url, _with_trial) as served:
        yield served


def test_a_campaign_split_between_two_accounts_and_compared(
    browser: WebDriver, console: Console, tmp_path: Path
) -> None:
    leads = tmp_path / "duo.csv"
    leads.write_text(LEADS, encoding="utf-8")
    sign_in(browser, console)
    browser.get(f"{console.url}/console/new")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#account option"), "no accounts")
    browser.find_element(By.ID, "file").send_keys(str(leads))
    browser.find_element(By.ID, "window").send_keys("00:00-24:00")
    browser.find_element(By.ID, "days").send_keys("daily")
    browser.find_element(By.ID, "account_weight").send_keys("70")
    browser.find_element(By.ID, "other_accounts").send_keys("trial=30")
    browser.find_element(By.ID, "failover").click()
    browser.find_element(By.ID, "preview").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "preview-box").is_displayed(), "no preview")
    assert serious_violations(browser) == [] and script_errors(browser) == []
    browser.find_element(By.ID, "create").click()
    wait_for_text(browser, "created-text", "Campaign duo was created with 10 contacts")
    report = console.api.get("/campaigns/duo").json()
    assert report["accounts"] == [
        {"name": "sandbox", "weight": 70},
        {"name": "trial", "weight": 30},
    ]
    assert report["failover"] is True

    browser.find_element(By.ID, "start").click()
    wait_for(browser, lambda d: d.current_url.endswith("/console/campaigns/duo"), "not opened")
    drain(console.service)
    wait_for_text(browser, "status", "completed")
    wait_for_text(browser, "compare-split", "sandbox 70, trial 30; failover on, 0 reassigned")
    browser.find_element(By.ID, "compare-load").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "compare-table").is_displayed(), "no table")
    rows = browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
    assert [r.text.split(" ")[0] for r in rows] == ["sandbox", "trial"]
    assert "vs sandbox" in rows[1].text
    assert "not yet attempted" in text(browser, "compare-note")
    assert serious_violations(browser) == [] and script_errors(browser) == []
