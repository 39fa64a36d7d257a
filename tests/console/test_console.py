"""The operator console end to end in a real browser: sign in, a messy file previewed then
created and started, dialed to "completed" by the embedded runner against the sandbox, the
export downloaded; pause, resume and cancel through their confirmations; axe-core finds no
serious or critical violation on any page, and every page fits a phone's width.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from dialer.capacity.gate import BREAKER_FAILURES
from tests.console.conftest import (
    Console,
    fits_phone_width,
    script_errors,
    serious_violations,
    sign_in,
    text,
    wait_for,
    wait_for_text,
)
from tests.draining import drain

pytestmark = pytest.mark.timeout(120)

# A file as people export them: a BOM, semicolons, a header with spaces, numbers written
# five ways, one missing, one repeated, a blank record, a non-US number.
MESSY = (
    "\ufeffFirst Name;Last Name;Mobile Phone;City\n"
    "Ann;Lee;(212) 555-2671;NYC\n"
    "Bob;Ray;n/a;LA\n"
    "Cy;Oh;2125552671;NYC\n"
    ";;;\n"
    "Di;Fox;+44 20 7946 0958;London\n"
    "Ed;Kim;212.555.2672;NYC\n"
)
SIMPLE = "first_name,phone\nAnn,+12125552671\nBob,+12125552672\nCy,+12125552673\n"


def _no_violations(browser: WebDriver, page: str) -> None:
    assert serious_violations(browser) == [], page
    assert script_errors(browser) == [], page


def _create(console: Console, name: str) -> None:
    response = console.api.post(
        "/campaigns",
        files={"file": ("leads.csv", SIMPLE, "text/csv")},
        data={"name": name, "account": "sandbox", "window": "00:00-24:00", "days": "daily"},
    )
    assert response.status_code == 201, response.text


def _confirm(browser: WebDriver, action: str, expected_text: str) -> None:
    browser.find_element(By.ID, action).click()
    wait_for(browser, lambda d: d.find_element(By.ID, "confirm").is_displayed(), "no dialog")
    assert expected_text in text(browser, "confirm-text")
    browser.find_element(By.ID, "confirm-yes").click()


def test_sign_in_says_what_the_key_is_and_refuses_a_wrong_one(
    browser: WebDriver, console: Console
) -> None:
    browser.get(f"{console.url}/")
    wait_for(browser, lambda d: "/console/sign-in" in d.current_url, "not sent to sign in")
    assert "api_keys" in browser.find_element(By.TAG_NAME, "main").text
    _no_violations(browser, "sign in")
    key = browser.find_element(By.ID, "key")
    key.send_keys("not-the-key-at-all", Keys.ENTER)  # the keyboard alone signs in
    wait_for_text(browser, "sign-in-error", "This key was not accepted")
    assert text(browser, "sign-in-error") == "This key was not accepted: check it and try again."
    sign_in(browser, console)
    wait_for(browser, lambda d: d.find_element(By.ID, "empty").is_displayed(), "no empty note")
    _no_violations(browser, "campaigns (empty)")


def test_a_messy_file_previewed_created_started_and_dialed_to_the_end(
    browser: WebDriver, console: Console, tmp_path: Path
) -> None:
    leads = tmp_path / "spring.csv"
    leads.write_text(MESSY, encoding="utf-8")
    sign_in(browser, console)
    browser.get(f"{console.url}/console/new")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#account option"), "no accounts")
    _shows_the_message_fields_of_each_provider(browser)
    browser.find_element(By.ID, "file").send_keys(str(leads))
    assert browser.find_element(By.ID, "name").get_attribute("value") == "spring"
    browser.find_element(By.ID, "window").send_keys("00:00-24:00")
    browser.find_element(By.ID, "days").send_keys("daily")
    browser.find_element(By.ID, "intro").send_keys("Hi {first_name}, this is Acme")
    browser.find_element(By.ID, "voicemail").send_keys("Sorry we missed you")
    browser.find_element(By.ID, "question").send_keys("Still in {city}?\nWhen suits you?")
    browser.find_element(By.ID, "preview").click()

    wait_for(browser, lambda d: d.find_element(By.ID, "preview-box").is_displayed(), "no preview")
    assert (text(browser, "p-rows"), text(browser, "p-accepted"), text(browser, "p-rejected")) == (
        "5",
        "3",
        "2",
    )
    assert text(browser, "p-phone-column") == "Mobile Phone (3)"
    reasons = browser.find_elements(By.CSS_SELECTOR, "#p-reasons tbody tr")
    assert sorted(r.text for r in reasons) == ["duplicate 1", "missing 1"]
    contacts = browser.find_elements(By.CSS_SELECTOR, "#p-contacts tbody tr")
    assert [c.text for c in contacts] == [
        "1 +12125552671 America/New_York fixed_line_or_mobile Ann Lee",
        "5 +442079460958 Europe/London fixed_line Di Fox",
        "6 +12125552672 America/New_York fixed_line_or_mobile Ed Kim",
    ]
    assert text(browser, "p-messages").splitlines() == [
        "As the agent gets them for row 1:",
        "intro: Hi Ann, this is Acme",
        "voicemail: Sorry we missed you",
        "questions: Still in NYC?",
        "questions: When suits you?",
    ]
    browser.find_element(By.ID, "intro").send_keys(" in {city}")  # rendered as one types
    wait_for_text(browser, "p-messages", "intro: Hi Ann, this is Acme in NYC")
    assert "00:00-24:00 in each recipient's own time zone" in text(browser, "p-window")
    assert "3 contacts need" in text(browser, "p-estimate")
    _no_violations(browser, "new campaign (preview)")
    assert console.api.get("/campaigns").json() == []  # the preview created nothing

    browser.find_element(By.ID, "create").click()
    wait_for_text(browser, "created-text", "Campaign spring was created with 3 contacts")
    browser.find_element(By.ID, "start").click()
    wait_for(browser, lambda d: d.current_url.endswith("/console/campaigns/spring"), "not opened")
    wait_for_text(browser, "status", "running")

    drain(console.service)
    wait_for_text(browser, "status", "completed")
    wait_for_text(browser, "done", "3 of 3 contacts done")
    progress = browser.find_element(By.ID, "progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "3"
    wait_for(
        browser,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#attempts tbody tr")) == 3,
        "the three attempts never showed",
    )
    assert "placed" in text(browser, "attempts")
    wait_for_text(browser, "rejects", "n/a missing")
    assert "Rate limit\n200/s" in text(browser, "account")
    # The three calls hold their places until their outcome is polled: 3 of the cap of 4.
    wait_for_text(browser, "account", "Calls in progress\n3 of 4")
    assert "Outage breaker\nclosed: calls go out normally" in text(browser, "account")
    assert "every day" in text(browser, "window-hours")
    assert not browser.find_element(By.ID, "cancel").is_displayed()
    _no_violations(browser, "campaign (completed)")

    expected = [
        ("1", "+12125552671", "placed", "Ann"),
        ("5", "+442079460958", "placed", "Di"),
        ("6", "+12125552672", "placed", "Ed"),
    ]
    assert _downloaded(browser, console, "export", "spring-export.csv") == expected
    assert _downloaded(browser, console, "export-excel", "spring-export-excel.csv") == expected
    # The Excel file starts with a byte-order mark, so Excel reads it as UTF-8.
    assert (console.downloads / "spring-export-excel.csv").read_bytes()[:3] == b"\xef\xbb\xbf"

    browser.get(f"{console.url}/console/")
    wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-campaign=spring]"),
        "spring not listed",
    )
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-campaign=spring]").text
    assert "completed" in row and "3 of 3" in row
    _no_violations(browser, "campaigns")


def _shows_the_message_fields_of_each_provider(browser: WebDriver) -> None:
    """Only the message fields of the chosen account's provider are shown (GET /accounts)."""

    def shown(account: str) -> list[str]:
        Select(browser.find_element(By.ID, "account")).select_by_value(account)
        boxes = browser.find_elements(By.CSS_SELECTOR, "[data-message]")
        return [b.get_attribute("data-message") or "" for b in boxes if b.is_displayed()]

    assert shown("gym") == ["intro", "voicemail", "instructions"]  # libby
    assert shown("tri") == []  # trillet takes no message
    assert "trillet takes no message" in text(browser, "messages-hint")
    every = ["intro", "voicemail", "instructions", "intro_notes", "questions", "rules"]
    assert shown("sandbox") == every


def _downloaded(
    browser: WebDriver, console: Console, button: str, name: str
) -> list[tuple[str, str, str, str]]:
    """Click ``button`` and read the file it downloads: (row, phone, status, first_name)."""
    browser.find_element(By.ID, button).click()
    export = console.downloads / name
    deadline = time.monotonic() + 10
    while not export.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    with export.open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    return [(r["row"], r["phone"], r["status"], r["first_name"]) for r in rows]


def test_pause_resume_and_cancel_each_say_what_will_happen(
    browser: WebDriver, console: Console
) -> None:
    _create(console, "summer")
    _create(console, "autumn")
    sign_in(browser, console)
    browser.get(f"{console.url}/console/campaigns/summer")
    wait_for_text(browser, "status", "draft")
    _confirm(browser, "start", "Calls to 3 contacts begin now")
    wait_for_text(browser, "status", "running")

    browser.find_element(By.ID, "pause").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "confirm").is_displayed(), "no dialog")
    assert browser.switch_to.active_element.get_attribute("id") == "confirm-no"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)  # changing one's mind
    wait_for(browser, lambda d: not d.find_element(By.ID, "confirm").is_displayed(), "not closed")
    assert console.api.get("/campaigns/summer").json()["status"] == "running"

    _confirm(browser, "pause", "No new call is placed until you resume")
    wait_for_text(browser, "status", "paused")
    _confirm(browser, "resume", "Dialing continues for 3 contacts")
    wait_for_text(browser, "status", "running")

    browser.get(f"{console.url}/console/campaigns/autumn")
    wait_for_text(browser, "status", "draft")
    _confirm(browser, "cancel", "3 pending calls will never be made")
    wait_for_text(browser, "status", "cancelled")
    assert console.api.get("/campaigns/autumn").json()["contacts"]["cancelled"] == 3
    assert not browser.find_element(By.ID, "cancel").is_displayed()


def test_every_page_fits_a_phone_screen(browser: WebDriver, console: Console) -> None:
    sign_in(browser, console)
    _create(console, "winter")
    browser.set_window_size(390, 844)
    try:
        for path, ready in [
            ("/console/sign-in", "key"),
            ("/console/", "campaigns"),
            ("/console/new", "upload"),
            ("/console/campaigns/winter", "progress"),
        ]:
            browser.get(f"{console.url}{path}")
            wait_for(browser, lambda d, r=ready: d.find_element(By.ID, r), f"{path} not loaded")
            time.sleep(0.3)  # the first poll's answer drawn
            assert fits_phone_width(browser), path
    finally:
        browser.set_window_size(1280, 900)


def test_the_account_panel_says_when_the_breaker_is_open_and_the_account_held(
    browser: WebDriver, console: Console
) -> None:
    _create(console, "spring-outage")
    gate = console.service.gate
    for _ in range(BREAKER_FAILURES):
        gate.report("sandbox", ok=False)
    gate.report("sandbox", ok=False, hold_for=120.0)
    try:
        sign_in(browser, console)
        browser.get(f"{console.url}/console/campaigns/spring-outage")
        wait_for_text(browser, "account", "Outage breaker\nopen since")
        panel = text(browser, "account")
        assert "no calls but one probe, next" in panel
        assert "Held until" in panel and "(the provider asked us to wait)" in panel
        _no_violations(browser, "campaign (account in an outage)")
    finally:
        gate.report("sandbox", ok=True)
