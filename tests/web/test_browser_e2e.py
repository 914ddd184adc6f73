"""The dashboards in a real browser (Debian's Chromium through Playwright) against ``rehab demo``.

One demo run serves the whole story: a clinician finds the patient with an urgent alert at the top
of the list, opens them, sees the progression chart and acknowledges the alert with a note; the
demo patient sends a check-in with a red-flag symptom, and the clinician's open list shows it
without a reload. Screenshots of every page go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.browser_service import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    RunningDemo,
    run_demo,
)

pytestmark = pytest.mark.e2e

# Tunable default: a live page polls every 5 s (service.web._layout.POLL_S); allow three polls.
LIVE_UPDATE_TIMEOUT_MS = 15_000
URGENT_PATIENT = "Cleo Later (week 8)"
PATIENT_NAME = "Ben Midway (week 3)"


@pytest.fixture(scope="module")
def demo(make_database: Callable[[], str]) -> Iterator[RunningDemo]:
    """``rehab demo`` on a fresh database, with an urgent red-flag alert on one patient."""
    for running in run_demo(make_database()):
        _urgent_alert(running, URGENT_PATIENT)
        yield running


def _urgent_alert(demo: RunningDemo, name: str) -> None:
    """A clinician reports a red-flag check-in for ``name`` through the API."""
    with httpx.Client(base_url=demo.url, timeout=10) as api:
        email, password = demo.clinician
        token = api.post("/v1/auth/token", data={"username": email, "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        patients = api.get("/v1/patients", headers=headers).json()
        patient_id = next(p["id"] for p in patients if p["display_name"] == name)
        response = api.post(
            f"/v1/patients/{patient_id}/checkins",
            headers=headers,
            json={"pain_0_10": 7, "red_flags": ["numbness_or_weakness"], "note": "left foot numb"},
        )
        assert response.status_code in (200, 201), response.text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _log_in(page: Page, demo: RunningDemo, who: tuple[str, str]) -> None:
    page.goto(f"{demo.url}/login")
    page.get_by_label("E-mail").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Log in").click()


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_clinician_and_patient_dashboards(demo: RunningDemo, browser: Browser) -> None:
    clinician = browser.new_context(viewport={"width": 1280, "height": 900})
    page = clinician.new_page()
    _log_in(page, demo, demo.clinician)
    expect(page).to_have_url(f"{demo.url}/team")
    rows = page.locator("table.patients tbody tr")
    expect(rows).to_have_count(3)
    top = rows.first
    expect(top).to_contain_text("Urgent alert")
    expect(top).to_contain_text(URGENT_PATIENT)
    _shot(page, "care-team-list")

    top.get_by_role("link").click()
    expect(page.get_by_role("heading", name=URGENT_PATIENT)).to_be_visible()
    chart = page.locator("#progression svg")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() > 0, "the progression chart has no bars"
    assert "aerobic minutes" in (chart.get_attribute("aria-label") or "")
    _shot(page, "patient-page", full_page=False)
    _shot(page, "patient-page-full")

    alert = page.locator("li.alert", has_text="Red-flag symptoms reported")
    alert.get_by_label("Acknowledge with a note").fill("Called the patient; GP visit booked")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status").filter(has_text="Alert acknowledged")).to_be_visible()
    acknowledged = page.locator("li.alert", has_text="Red-flag symptoms reported")
    expect(acknowledged).to_contain_text("acknowledged")
    expect(acknowledged).to_contain_text("GP visit booked")
    _shot(page, "patient-page-acknowledged")

    page.goto(f"{demo.url}/team")
    patient_row = page.locator("table.patients tbody tr", has_text=PATIENT_NAME)
    expect(patient_row).not_to_contain_text("Urgent alert")
    page.evaluate("window.__sameDocument = true")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mine = phone.new_page()
    _log_in(mine, demo, demo.patient)
    expect(mine).to_have_url(f"{demo.url}/me")
    expect(mine.get_by_role("heading", name="Today's goal")).to_be_visible()
    _shot(mine, "patient-view")
    mine.locator("label.pill", has_text="3").first.click()
    mine.get_by_label("Stretching sessions today").fill("2")
    mine.get_by_label("Sharp or shooting pain").check()
    mine.get_by_label("Anything else for your care team?").fill("sharp pain after the walk")
    mine.get_by_role("button", name="Send check-in").click()
    expect(mine.get_by_role("alert")).to_contain_text("Your care team has been alerted")
    _shot(mine, "patient-view-after-checkin")

    # The clinician's list, still open, picks the red flag up without a reload.
    expect(patient_row).to_contain_text("Urgent alert", timeout=LIVE_UPDATE_TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument") is True
    _shot(page, "care-team-list-updated")
    phone.close()
    clinician.close()


def test_keyboard_reaches_the_login_form_and_charts_have_tables(
    demo: RunningDemo, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo.url}/login")
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type(demo.clinician[0])
    page.keyboard.press("Tab")
    page.keyboard.type(demo.clinician[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{demo.url}/team")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute("href", re.compile(r"^/patients/"))
    page.keyboard.press("Enter")
    table = page.locator("#progression table")
    page.locator("#progression summary").click()
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() > 0
    context.close()
