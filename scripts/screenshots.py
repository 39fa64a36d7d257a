"""Regenerate the console's screenshots in docs/ (1280 px wide, whole pages).

    .venv/bin/python scripts/screenshots.py

Needs Debian's chromium and chromium-driver. Everything shown is real: a sandbox provider, a
SQLite ledger in a temporary directory, campaigns imported from campaigns/demo_leads.csv
and dialed by the embedded runner (a few numbers told to fail, drop or answer 503, so the
pages show retries, a failure and an unknown). Takes about a minute: the demo campaign is
dialed at 1 call/s so that its chart has something to draw.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from pydantic import SecretStr
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dialer.api.app import create_app  # noqa: E402
from dialer.cli.serve import DIALS_HERE  # noqa: E402
from dialer.ledger.engine import make_engine, migrate  # noqa: E402
from dialer.runner import EmbeddedRunner  # noqa: E402
from dialer.sandbox import SandboxServer  # noqa: E402
from dialer.settings import AccountConfig, Settings  # noqa: E402
from dialer.wiring import build_service  # noqa: E402
from tests.api.conftest import ServedApp  # noqa: E402

DOCS = ROOT / "docs"
LEADS = ROOT / "campaigns" / "demo_leads.csv"
KEY = "screenshot-key-0123456789"
WIDTH = 1280
FAULTS = [
    {"phone": "+13125550142", "action": "400"},
    {"phone": "+14155550100", "action": "drop"},
    {"phone": "+12125550147", "action": "503", "times": 1},
]


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="dialer-screenshots-") as tmp,
        SandboxServer() as sandbox,
    ):
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'ledger.db'}"
        engine = make_engine(url)
        migrate(engine)
        account = AccountConfig(
            name="gym",
            provider="sandbox",
            base_url=sandbox.url,
            rate="1/s",
            backoff_seconds=5,
            concurrent_calls=5,
        )
        settings = Settings(database_url=url, accounts={"gym": account}, api_keys=(SecretStr(KEY),))
        for rule in FAULTS:
            httpx.post(f"{sandbox.url}/_sandbox/rules", json=rule).raise_for_status()
        # As `dialer serve` does: the API reads the capacity of the runner that dials.
        service = build_service(settings, engine)
        app = create_app(settings, engine, workdir / "files", dialing=DIALS_HERE, gate=service.gate)
        with (
            ServedApp(app) as served,
            httpx.Client(base_url=served.url, headers={"X-API-Key": KEY}) as api,
        ):
            _campaign(api, "spring-members", "Hi {first_name}, this is Maya from Acme Fitness")
            _campaign(api, "trial-follow-up", "Hi {first_name}, how was your trial week?")
            _campaign(api, "october-win-back", "Hi {first_name}, we miss you at Acme")
            for action in ("start", "pause"):
                api.post(f"/campaigns/trial-follow-up/{action}").raise_for_status()
            api.post("/campaigns/spring-members/start").raise_for_status()
            runner = EmbeddedRunner(service, threads=4, poll_seconds=0.5)
            dialing = threading.Thread(target=runner.run, kwargs={"drain": True}, daemon=True)
            dialing.start()
            browser = _browser(workdir)
            try:
                _shoot(browser, served.url, dialing)
            finally:
                browser.quit()
                runner.stop()
                dialing.join(timeout=30)
        engine.dispose()


def _campaign(api: httpx.Client, name: str, intro: str) -> None:
    with LEADS.open("rb") as leads:
        api.post(
            "/campaigns",
            files={"file": ("members.csv", leads, "text/csv")},
            data={
                "name": name,
                "account": "gym",
                "window": "07:00-21:00",
                "days": "mon-sat",
                "timezone": "America/New_York",
                "intro": intro,
                "voicemail": "Sorry we missed you, {first_name}",
            },
        ).raise_for_status()


def _browser(workdir: Path) -> WebDriver:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WIDTH},900",
        f"--user-data-dir={workdir / 'profile'}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _shoot(browser: WebDriver, url: str, dialing: threading.Thread) -> None:
    browser.get(f"{url}/console/sign-in")
    _save(browser, "console-sign-in.png")
    browser.find_element(By.ID, "key").send_keys(KEY)
    browser.find_element(By.ID, "connect").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "tbody tr"))
    time.sleep(20)  # the demo campaign half dialed
    _save(browser, "console-campaigns.png")

    browser.get(f"{url}/console/new")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#account option"))
    browser.find_element(By.ID, "file").send_keys(str(LEADS))
    browser.find_element(By.ID, "name").clear()
    browser.find_element(By.ID, "name").send_keys("november-renewals")
    browser.find_element(By.ID, "timezone").send_keys("America/New_York")
    browser.find_element(By.ID, "intro").send_keys("Hi {first_name}, your plan renews soon")
    browser.find_element(By.ID, "voicemail").send_keys("Sorry we missed you, {first_name}")
    browser.find_element(By.ID, "preview").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "preview-box").is_displayed())
    _save(browser, "console-new-campaign.png")

    dialing.join(timeout=120)
    browser.get(f"{url}/console/campaigns/spring-members")
    WebDriverWait(browser, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#attempts tbody tr")) > 0
    )
    time.sleep(1)
    _save(browser, "console-campaign.png")


def _save(browser: WebDriver, name: str) -> None:
    """The whole page, 1280 px wide."""
    time.sleep(0.5)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(WIDTH, max(int(height), 700))
    time.sleep(0.5)
    browser.save_screenshot(str(DOCS / name))
    browser.set_window_size(WIDTH, 900)
    print(f"docs/{name}")


if __name__ == "__main__":
    main()
