"""`make dashboard` in a real browser: visitors hold conversations with the running assistant (the
servers as `make run` starts them, tests/conftest.py), over REST; the dashboard is made from its
tracker store with `make dashboard`, opened with OPEN=1, and rendered in Debian's Chromium
(Playwright): its tables show the figures of those conversations, its charts are drawn, nothing
is loaded from elsewhere, and axe-core finds no serious or critical accessibility violation. It
saves docs/dashboard.png, which the README shows."""

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT
from playwright.sync_api import sync_playwright
from test_browser import CHROMIUM, CHROMIUM_ARGS

from content.feedback import payload

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = ROOT / "docs" / "dashboard.png"
SRO = "what is a school resource officer?"
PHONE = "what is the response center phone number?"
NOT_UNDERSTOOD = "blorf snaggle wump"
CLARIFIED = "what is nasro"
AGAIN_NOT_UNDERSTOOD = "frobnitz quux wobble"
OUT_OF_SCOPE = "what's the weather in paris?"
UNKNOWN = "how much does the basic sro course cost?"
EMERGENCY = "there's a man with a gun in our parking lot"
# What each visitor types or clicks, and what became of each message typed (scripts/dashboard.py).
VISITS = [
    [(SRO, "answered"), (payload("not_helpful", "what_is_sro"), None)],
    [(PHONE, "answered"), (payload("helpful", "ask_phone"), None)],
    [(NOT_UNDERSTOOD, '"did you mean ...?"'), (CLARIFIED, "answered"), (payload("not_helpful", "what_is_nasro"), None)],
    [(NOT_UNDERSTOOD, '"did you mean ...?"'), (AGAIN_NOT_UNDERSTOOD, "given up")],
    [(OUT_OF_SCOPE, "out of scope"), (payload("not_helpful", "no_such_answer"), None)],
    [(UNKNOWN, "not in the facts")],
    [(EMERGENCY, "emergency")],
]


def next_second() -> str:
    """A --since date after every message so far and before every message sent from now on."""
    start = datetime.now().replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((start - datetime.now()).total_seconds() + 0.05)
    return start.isoformat()


def without_make_flags() -> dict:
    return {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


@pytest.fixture(scope="module")
def dashboard(assistant, tmp_path_factory):
    """The conversations held, then `make dashboard OPEN=1` on them: (the page, what it printed,
    what the browser was asked to open, the --since date before the conversations)."""
    since = next_second()
    for visit in VISITS:
        sender = f"dashboard-{uuid.uuid4()}"
        for text, _ in visit:
            assert assistant.ask(text, sender), f"no reply to {text!r}"
    tmp = tmp_path_factory.mktemp("dashboard")
    page, opened = tmp / "dashboard.html", tmp / "opened"
    # The browser OPEN=1 starts (Python's webbrowser reads BROWSER): here, one that notes what it was asked to open.
    browser = f"{sys.executable} -c \"import pathlib, sys; pathlib.Path('{opened}').write_text(sys.argv[1])\" %s"
    made = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "dashboard",
            "OPEN=1",
            f"ARGS=--endpoints {assistant.endpoints} --since {since} --out {page}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(without_make_flags(), BROWSER=browser),
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-3000:]
    deadline = time.monotonic() + 10
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return page, made.stdout, opened.read_text() if opened.exists() else None, since


@pytest.fixture(scope="module")
def shown(dashboard):
    """The page in Chromium, as a visitor of it sees it."""
    page_path = dashboard[0]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (never a downloaded browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # The page's Content-Security-Policy runs no script: axe-core is let in by the test alone.
        context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        page.requests = requests
        try:
            yield page
        finally:
            context.close()
            browser.close()


def rows(page, table: str) -> list:
    return [
        [cell.inner_text().strip() for cell in row.locator("td").all()]
        for row in page.locator(f"#{table} tbody tr").all()
    ]


def test_make_dashboard_prints_the_page_s_path_and_opens_it(dashboard):
    page, printed, opened, _ = dashboard
    typed = sum(1 for visit in VISITS for _, category in visit if category)
    assert printed.splitlines()[-2].endswith(f": {len(VISITS)} conversations, {typed} messages typed")
    assert printed.splitlines()[-1] == str(page)
    assert opened == page.resolve().as_uri()
    assert page.stat().st_mode & 0o077 == 0


def test_the_page_shows_what_became_of_each_message_held(shown):
    expected = {}
    for visit in VISITS:
        for _, category in visit:
            if category:
                expected[category] = expected.get(category, 0) + 1
    counted = {row[0]: int(row[2]) for row in rows(shown, "outcomes")}
    total = counted.pop("all")
    assert total == sum(expected.values())
    assert {name: count for name, count in counted.items() if count} == expected
    per_day = rows(shown, "per-day")
    assert sum(int(row[1]) for row in per_day) == len(VISITS)
    assert sum(int(row[2]) for row in per_day) == total
    assert sum(int(row[1]) for row in rows(shown, "confidence")) == total


def test_the_answers_rated_not_helpful_come_first_with_the_question_before(shown):
    rated = rows(shown, "not-helpful")
    assert [(row[2], row[3], row[4], row[5]) for row in rated] == [
        ("what_is_nasro", "1", "1", "100 %"),
        ("what_is_sro", "1", "1", "100 %"),
        ("ask_phone", "1", "0", "0 %"),
    ]
    assert [row[6] for row in rated] == [CLARIFIED, SRO, ""]
    # the rating of an answer content/answers.yml does not have is left out, and said so
    assert "1 rating(s) named no answer" in shown.locator("#not-helpful-section").inner_text()


def test_the_unanswered_questions_are_make_report_s(shown, assistant, dashboard):
    since = dashboard[3]
    reported = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--endpoints", str(assistant.endpoints), "--since", since],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert reported.returncode == 0, reported.stderr[-3000:]
    table = [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in reported.stdout.splitlines()
        if line.startswith("| ")
    ][2:]
    assert rows(shown, "unanswered") == table
    assert {row[1]: int(row[0]) for row in table} == {
        NOT_UNDERSTOOD: 2,
        AGAIN_NOT_UNDERSTOOD: 1,
        OUT_OF_SCOPE: 1,
        UNKNOWN: 1,
    }


def test_each_chart_is_drawn_from_the_page_itself_with_its_table(shown):
    charts = shown.locator("main img")
    assert charts.count() == 4
    for chart in charts.all():
        assert chart.evaluate("image => image.complete && image.naturalWidth > 0")
        assert "table below" in chart.get_attribute("alt")
    assert shown.locator("table caption").count() == 5
    assert [url for url in shown.requests if not url.startswith(("file:", "data:"))] == []


def test_axe_finds_no_serious_or_critical_violation(shown):
    shown.add_script_tag(path=str(AXE))
    found = shown.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    serious = [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "where": [node["target"] for node in violation["nodes"]],
        }
        for violation in found
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == [], json.dumps(serious, indent=1)
    shown.screenshot(path=str(SCREENSHOT), full_page=True)
