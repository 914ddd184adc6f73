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
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright

from tests.web.browser_service import (
    CHROMIUM,
    CHROMIUM_ARGS,
    OVER_DOER,
    OVER_DOER_EMAIL,
    OVER_DOER_MRN,
    OVER_DOER_PASSWORD,
    SCREENSHOTS,
    RunningDemo,
    expire_sessions,
    run_demo,
    seed_over_doer,
)

pytestmark = pytest.mark.e2e

# Tunable default: a live page polls every 5 s (service.web._layout.POLL_S); allow three polls.
LIVE_UPDATE_TIMEOUT_MS = 15_000
URGENT_PATIENT = "Cleo Later (week 8)"
# The list's controls and column headers before the first patient link, with room to spare.
KEYBOARD_TABS_MAX = 20
PATIENT_NAME = "Ben Midway (week 3)"


@pytest.fixture(scope="module")
def demo(make_database: Callable[[], str]) -> Iterator[RunningDemo]:
    """``rehab demo`` on a fresh database, with an urgent red-flag alert on one patient and a
    patient who overdid it yesterday (an open over-target alert) and again today."""
    for running in run_demo(make_database()):
        _urgent_alert(running, URGENT_PATIENT)
        seed_over_doer(running.db_url)
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


def _is_poll(response: Response) -> bool:
    return "x-rehab-poll" in response.request.headers


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_clinician_and_patient_dashboards(demo: RunningDemo, browser: Browser) -> None:
    clinician = browser.new_context(viewport={"width": 1280, "height": 900})
    page = clinician.new_page()
    _log_in(page, demo, demo.clinician)
    expect(page).to_have_url(f"{demo.url}/team")
    rows = page.locator("table.patients tbody tr")
    expect(rows).to_have_count(5)
    top = rows.first
    expect(top).to_contain_text("Urgent alert")
    expect(top).to_contain_text(URGENT_PATIENT)
    expect(top).to_contain_text("Red-flag symptom reported since")
    # The patient who overdid it yesterday comes next, with the reason, never "On track".
    second = rows.nth(1)
    expect(second).to_contain_text(OVER_DOER)
    expect(second).to_contain_text("Open warning")
    expect(second).to_contain_text("Over target since")
    expect(second).to_contain_text(OVER_DOER_MRN)
    expect(second).not_to_contain_text("On track")
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
    # Past the search form (search, need, show, the sortable column headers) to the first patient.
    for _ in range(KEYBOARD_TABS_MAX):
        page.keyboard.press("Tab")
        if re.match(r"^/patients/", page.locator(":focus").get_attribute("href") or ""):
            break
    expect(page.locator(":focus")).to_have_attribute("href", re.compile(r"^/patients/"))
    page.keyboard.press("Enter")
    table = page.locator("#progression table")
    page.locator("#progression summary").click()
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() > 0
    context.close()


def test_the_patient_who_overdid_it_is_advised_to_rest(demo: RunningDemo, browser: Browser) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    _log_in(page, demo, (OVER_DOER_EMAIL, OVER_DOER_PASSWORD))
    expect(page).to_have_url(f"{demo.url}/me")
    goal = page.locator("#goal")
    expect(goal).to_contain_text("Today you have done more than your plan")
    expect(goal).to_contain_text("one session of 40 minutes, longer than the 20 minutes")
    expect(goal).to_contain_text("Please rest for the rest of today.")
    expect(goal).to_contain_text("Split long walks into shorter ones")
    expect(goal).not_to_contain_text("Well done")
    expect(page.locator("#week")).to_contain_text("0 days in a row")
    # Day 7 after surgery starts week 2: today is its first day, marked as over the plan.
    expect(page.locator("#week li.day.over-plan")).to_have_count(1)
    expect(page.locator("#week li.day.over-plan")).to_contain_text("more than planned")
    expect(page.locator("#checkin")).to_contain_text("Nothing sent yet today.")
    _shot(page, "patient-view-over-plan", full_page=False)
    # An empty check-in is refused with a message; a real one is then listed as sent today.
    page.get_by_role("button", name="Send check-in").click()
    expect(page.get_by_role("alert")).to_contain_text("Your check-in was empty")
    page.locator("label.pill", has_text="2").first.click()
    page.get_by_label("Anything else for your care team?").fill("legs tired after the long walk")
    page.get_by_role("button", name="Send check-in").click()
    expect(page.get_by_role("status").filter(has_text="check-in was sent")).to_be_visible()
    expect(page.locator("#reported-today")).to_contain_text("pain 2/10")
    expect(page.locator("#reported-today")).to_contain_text("legs tired after the long walk")
    phone.close()


def test_the_list_searches_sorts_and_the_patient_page_shows_the_whole_recovery(
    demo: RunningDemo, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _log_in(page, demo, demo.clinician)
    page.get_by_label("Search name or record number").fill(OVER_DOER_MRN.lower())
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.patients tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(OVER_DOER)
    expect(rows.first).to_contain_text("hub: contact 2 min ago, battery 58 %")
    page.goto(f"{demo.url}/team")
    page.get_by_role("link", name="Patient", exact=True).click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Patient")
    names = page.locator("table.patients tbody th a").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    page.get_by_label("Need").select_option("warning")
    page.get_by_role("button", name="Show").click()
    # Only patients whose most pressing need is a warning: the planted over-doer, and a demo
    # patient whose simulated day went over the plan by the time the test runs (the demo's
    # today is cut at the current time, so which patients those are depends on the hour).
    expect(rows.filter(has_not_text="Open warning")).to_have_count(0)
    expect(rows.filter(has_text=OVER_DOER)).to_have_count(1)

    page.goto(f"{demo.url}/team")
    page.get_by_role("link", name=URGENT_PATIENT).click()
    expect(page.locator(".hub-line")).to_contain_text("last contact")
    expect(page.locator(".hub-line")).to_contain_text("band battery")
    # The progression covers the whole recovery (week 8: more than 50 days), with a range control.
    bars = page.locator("#progression table tbody tr")
    whole = bars.count()
    assert whole > 50, whole
    page.get_by_label("Show").select_option("4w")
    page.get_by_role("button", name="Update chart").click()
    expect(bars).to_have_count(28)
    weekly = page.locator("table.weekly tbody tr")
    assert weekly.count() >= 7
    expect(page.locator("table.weekly")).to_contain_text("Adherence")
    timeline = page.locator("#sessions svg")
    expect(timeline.locator("text.axis-unit")).to_have_text("bpm")
    expect(page.locator("#sessions .legend")).to_contain_text("limit")
    expect(page.locator("#sessions .legend")).to_contain_text("heart rate, bpm")
    _shot(page, "patient-page", full_page=False)
    _shot(page, "patient-page-full")
    # Flags in the clinician's words (the patient's wording stays on their own view).
    page.goto(f"{demo.url}/team")
    page.get_by_role("link", name=OVER_DOER).click()
    flags = page.locator("#flags")
    expect(flags).to_contain_text("75 aerobic min against an upper target of 20 min (week 2).")
    expect(flags).not_to_contain_text("rest for the rest of today")
    context.close()


def test_an_expired_session_keeps_the_half_typed_note(demo: RunningDemo, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _log_in(page, demo, demo.clinician)
    page.get_by_role("link", name=OVER_DOER).click()
    alert = page.locator("li.alert", has_text="Doing much more than planned")
    note = alert.get_by_label("Acknowledge with a note")
    # Typing is activity, which the next poll reports (and which renews the session): let it pass.
    with page.expect_response(_is_poll, timeout=LIVE_UPDATE_TIMEOUT_MS):
        note.fill("Phoned Olive: agreed on two walks of 15 min")
    # A warning comes before the end; staying logged in renews the session.
    expire_sessions(demo.db_url, email=demo.clinician[0], in_s=60)
    banner = page.locator("#session-status")
    expect(banner).to_contain_text(
        "Your session ends in about 1 minute", timeout=LIVE_UPDATE_TIMEOUT_MS
    )
    banner.get_by_role("button", name="Stay logged in").click()
    expect(banner).to_be_hidden(timeout=LIVE_UPDATE_TIMEOUT_MS)
    # Then the session ends: the page stays as it is, says so, and keeps the note.
    expire_sessions(demo.db_url, email=demo.clinician[0], in_s=-1)
    expect(banner).to_contain_text("Your session has expired", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(note).to_have_value("Phoned Olive: agreed on two walks of 15 min")
    _shot(page, "session-expired", full_page=False)
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("alert")).to_contain_text("what you typed will be sent")
    page.get_by_label("E-mail").fill(demo.clinician[0])
    page.get_by_label("Password").fill(demo.clinician[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Alert acknowledged")).to_be_visible()
    expect(page.locator("li.alert", has_text="Doing much more than planned")).to_contain_text(
        "agreed on two walks of 15 min"
    )
    context.close()
