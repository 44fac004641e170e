"""The web page and its chat widget, in a real browser (Debian's Chromium, driven by Playwright),
against the real servers started the way `make run` starts them (tests/conftest.py).

What a visitor sees: the greeting and its topic buttons, answers to a button and to a typed
question, links that open in a new tab, a conversation that survives a reload (and is one
conversation in the tracker store, with the page's customData as metadata), typed HTML shown as
text. And what another web site cannot do: use the socket.io channel.
"""

import json
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, free_port, port_is_open
from playwright.sync_api import expect, sync_playwright

from content import contact_data

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT = ROOT / "docs" / "widget.png"
# The bot answers in well under 2 s; the first page load (the widget's 700 kB bundle, the socket
# handshake) can take longer on a busy machine.
TIMEOUT_MS = 30_000
LOCAL_HOSTS = {"localhost", "127.0.0.1"}

WIDGET = "#rasaWebchatPro"
GREETING = "Hello! I'm the COPS Office's virtual assistant."
SALUDO = "¡Hola! Soy el asistente virtual"
EN_ESPANOL = "De acuerdo, le responderé en español."
PHONE = "800-421-6770"

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (never a downloaded browser)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """One visitor: a fresh browser profile (so a new conversation) on one tab, and what happened."""

    def __init__(self, browser, assistant, locale: str = "en-US") -> None:
        self.assistant = assistant
        self.context = browser.new_context(viewport={"width": 1100, "height": 1000}, locale=locale)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.dialogs = []
        self.page.on("dialog", self._dialog)
        self.requests = []
        self.page.on("request", lambda request: self.requests.append(request))
        self.websockets = []
        self.page.on("websocket", lambda socket: self.websockets.append(socket.url))
        self.console = []
        self.page.on("console", lambda message: self.console.append(message.text))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, web_url=None) -> None:
        self.page.goto(f"{web_url or self.assistant.web_url}/?server={self.assistant.url}")

    @property
    def widget(self):
        return self.page.locator(WIDGET)

    def answers(self, text: str):
        """The bot's messages containing `text`, each with its buttons."""
        return self.widget.locator(".rw-message").filter(has=self.page.locator(".rw-response", has_text=text))

    def questions(self, text: str):
        return self.widget.locator(".rw-client .rw-message-text").filter(has_text=text)

    def sees_answer(self, text: str):
        answer = self.answers(text).last
        expect(answer).to_be_visible()
        return answer

    def sees_greeting(self) -> None:
        self.sees_answer(GREETING)
        # The topic buttons come with the greeting.
        expect(self.widget.locator(".rw-reply")).to_have_count(4)

    def type(self, text: str) -> None:
        box = self.widget.locator("textarea.rw-new-message")
        box.fill(text)
        box.press("Enter")
        expect(self.questions(text).last).to_be_visible()

    def session_id(self) -> str:
        stored = self.page.evaluate("() => localStorage.getItem('chat_session')")
        assert stored, "the widget keeps no session in localStorage"
        return json.loads(stored)["session_id"]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, assistant):
    opened = Visit(browser, assistant)
    try:
        yield opened
    finally:
        opened.close()


def is_local(url: str) -> bool:
    return urlsplit(url).hostname in LOCAL_HOSTS


def user_events(db: Path, sender_id: str, expected: int, timeout_s: float = 15) -> list:
    """The conversation's user events, once there are `expected` of them (Rasa saves the tracker
    right after it answers)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with closing(sqlite3.connect(db)) as connection:
            rows = connection.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender_id,)
            ).fetchall()
        events = [json.loads(data) for (data,) in rows]
        if len(events) >= expected or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_a_visitor_asks_by_button_and_by_typing(visit):
    visit.open()
    page = visit.page
    expect(page).to_have_title("COPS Office help assistant")
    expect(page.get_by_role("heading", level=1)).to_have_text("COPS Office help assistant")
    expect(page.locator("main")).to_contain_text("call 911")
    visit.sees_greeting()

    visit.widget.locator(".rw-reply", has_text="Contact the COPS Office").click()
    expect(visit.questions("Contact the COPS Office")).to_be_visible()
    contacts = visit.sees_answer("Here's how to reach the COPS Office")
    expect(contacts).to_contain_text(PHONE)
    # The answer is whole once its related questions have come.
    expect(visit.answers("Related questions:")).to_have_count(1)

    visit.type("how do I call the COPS Office?")
    phone_answer = visit.sees_answer("You can call the COPS Office Response Center")
    expect(phone_answer).to_contain_text(PHONE)
    # The answer's follow-up questions are offered as buttons.
    expect(visit.answers("Related questions:")).to_have_count(2)
    expect(visit.answers("Related questions:").last.locator(".rw-reply").first).to_be_visible()

    # The links in the answers open in a new tab, without a handle on this page.
    links = visit.widget.locator(".rw-response a")
    assert links.count() >= 3
    for link in links.all():
        expect(link).to_be_visible()
        expect(link).to_have_attribute("target", "_blank")
        assert "noopener" in (link.get_attribute("rel") or "").split()
    phone_link = phone_answer.get_by_role("link", name=PHONE)
    assert phone_link.get_attribute("href").startswith("tel:")

    website = contacts.locator('a[href^="https://"]').first  # the COPS Office's web site
    href = website.get_attribute("href")
    # Nothing leaves this machine: a stand-in answers for the web site.
    visit.context.route(
        lambda url: url.rstrip("/") == href.rstrip("/"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<title>stand-in</title>"),
    )
    with page.expect_popup() as opened:
        website.click()
    new_tab = opened.value
    new_tab.wait_for_load_state()
    assert new_tab.url.rstrip("/") == href.rstrip("/")
    assert new_tab.evaluate("() => window.opener") is None
    new_tab.close()
    assert urlsplit(page.url).hostname == "localhost"

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert visit.dialogs == []


def test_the_page_loads_nothing_from_elsewhere(visit):
    """The page, the widget and the conversation come from this machine only. The widget's
    stylesheet asks for a web font from elsewhere: the page's Content-Security-Policy refuses it."""
    visit.open()
    visit.sees_greeting()
    assert any(is_local(request.url) and request.url.endswith("/chat.js") for request in visit.requests)
    elsewhere = [request for request in visit.requests if request.url.startswith("http") and not is_local(request.url)]
    assert [
        (request.url, request.failure) for request in elsewhere if "csp" not in (request.failure or "").lower()
    ] == []
    assert [url for url in visit.websockets if not is_local(url)] == []


def test_the_conversation_survives_a_reload_and_is_one_conversation(visit, assistant):
    visit.open()
    visit.sees_greeting()
    visit.type("how do I call the COPS Office?")
    visit.sees_answer(PHONE)
    before = visit.session_id()

    visit.page.reload()
    # The earlier messages are still there, and the greeting was not sent again.
    expect(visit.answers(GREETING)).to_have_count(1)
    expect(visit.questions("how do I call the COPS Office?")).to_be_visible()
    expect(visit.answers(PHONE)).to_be_visible()
    visit.type("when was the cops office created")
    visit.sees_answer("1994")
    assert visit.session_id() == before

    # One conversation in the tracker store: the widget's session is the sender id.
    events = user_events(assistant.db, before, expected=3)
    assert [event["text"] for event in events] == [
        "/greet",
        "how do I call the COPS Office?",
        "when was the cops office created",
    ]
    # The page's customData reached the tracker as each message's metadata.
    for event in events:
        assert event["metadata"]["page"] == "/"
        assert event["metadata"]["language"] == "en"


def test_a_spanish_speaker_switches_asks_and_stays_in_spanish_after_a_reload(visit):
    visit.open()
    visit.sees_greeting()
    switch = visit.page.get_by_role("button", name="Ver esta página y el chat en español")
    expect(switch).to_have_text("Español")
    expect(switch).to_have_attribute("lang", "es")
    switch.click()

    # The page reloads in Spanish, and the assistant, asked for Spanish, says so in Spanish.
    visit.sees_answer(EN_ESPANOL)
    expect(visit.page.locator("html")).to_have_attribute("lang", "es")
    box = visit.widget.locator("textarea.rw-new-message")
    expect(box).to_have_attribute("placeholder", "Escriba su pregunta...")
    expect(box).to_have_attribute("aria-label", "Su pregunta")
    expect(visit.page.get_by_text("En una emergencia, llame al 911.")).to_be_visible()
    visit.type("¿cuál es el número de teléfono?")
    answer = visit.sees_answer(PHONE)
    # Screen readers read the answer as Spanish, the English greeting before it as English.
    expect(answer.locator(".rw-message-text").first).to_have_attribute("lang", "es")
    expect(visit.answers(GREETING).locator(".rw-message-text").first).to_have_attribute("lang", "en")

    visit.page.reload()
    expect(box).to_have_attribute("placeholder", "Escriba su pregunta...")
    expect(visit.answers(PHONE)).to_be_visible()
    visit.type("y a que hora atienden?")
    visit.sees_answer("de lunes a viernes")
    switch = visit.page.get_by_role("button", name="View this page and the chat in English")
    expect(switch).to_have_text("English")


def stored_user_texts(db: Path, sender_id: str) -> list:
    with closing(sqlite3.connect(db)) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender_id,)
        ).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def test_a_visitor_deletes_the_conversation_from_the_page_s_button(visit, assistant):
    """The header's "Delete my conversation" asks in the chat, and a yes there erases the
    conversation from the tracker store; the visitor can go on asking."""
    visit.open()
    visit.sees_greeting()
    # The greeting, what every channel shows first, carries the privacy notice.
    visit.sees_answer('Say "delete my conversation" to erase yours at any time.')
    visit.type("how do I call the COPS Office?")
    visit.sees_answer(PHONE)
    session = visit.session_id()
    assert "how do I call the COPS Office?" in user_events(assistant.db, session, expected=2)[-1]["text"]

    erase = visit.page.get_by_role("button", name="Delete my conversation")
    expect(erase).to_be_visible()
    erase.focus()
    visit.page.keyboard.press("Enter")  # a real button: the keyboard works it
    expect(visit.questions("Delete my conversation")).to_be_visible()
    question = visit.sees_answer("Do you want me to delete this conversation?")
    question.locator(".rw-reply", has_text="Yes, delete it").click()
    visit.sees_answer("Your conversation has been deleted from our records.")

    # Nothing the visitor typed before is left in the tracker store.
    deadline = time.monotonic() + 15
    while stored_user_texts(assistant.db, session) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stored_user_texts(assistant.db, session) == []

    # Nor in the browser: the page starts afresh, says why, and keeps no copy of what was typed
    # (on a shared computer, the next person sees nothing of it).
    expect(visit.page.get_by_role("status")).to_have_text(
        "Your conversation has been deleted, here and from our records. The chat below starts afresh.",
        timeout=15000,
    )
    visit.sees_greeting()
    expect(visit.questions("how do I call the COPS Office?")).to_have_count(0)
    kept_in_browser = visit.page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
    assert "how do I call the COPS Office?" not in kept_in_browser
    assert visit.session_id() != session

    visit.type("when was the cops office created")
    visit.sees_answer("1994")


def test_a_spanish_page_offers_to_delete_the_conversation_in_spanish(browser, assistant):
    visit = Visit(browser, assistant, locale="es-MX")
    try:
        visit.open()
        visit.sees_answer(SALUDO)
        visit.sees_answer('escriba "borrar mi conversación"')
        visit.page.get_by_role("button", name="Borrar mi conversación").click()
        question = visit.sees_answer("¿Quiere que borre esta conversación?")
        question.locator(".rw-reply", has_text="No, consérvela").click()
        visit.sees_answer("No se borró nada")
    finally:
        visit.close()


def test_a_spanish_browser_is_greeted_in_spanish(browser, assistant):
    visit = Visit(browser, assistant, locale="es-MX")
    try:
        visit.open()
        visit.sees_answer(SALUDO)
        expect(visit.widget.locator(".rw-reply")).to_have_count(4)
        expect(visit.page.locator("html")).to_have_attribute("lang", "es")
    finally:
        visit.close()


def test_what_a_visitor_types_is_shown_as_text_never_as_html(visit):
    """The widget writes the visitor's text as text. (Were it ever written as HTML, the page's
    Content-Security-Policy would still stop the inline handler: the element check is the proof.)"""
    visit.open()
    visit.sees_greeting()
    answers_before = visit.widget.locator(".rw-response").count()
    payload = "<img src=x onerror=alert(1)>"
    visit.type(payload)
    # The bot has answered it, so the widget has rendered everything it will for it.
    expect(visit.widget.locator(".rw-response")).not_to_have_count(answers_before)

    def shown_literally() -> None:
        expect(visit.questions(payload)).to_have_text(payload)
        assert visit.widget.locator('img[src="x"]').count() == 0
        assert visit.page.locator("img[onerror]").count() == 0

    shown_literally()
    visit.page.reload()  # the conversation is drawn again, from localStorage
    shown_literally()
    assert visit.dialogs == []


def test_links_in_the_widget_are_kept_safe(visit):
    """chat.js: whatever a message holds, links open in a new tab without a handle on the page,
    and a link that is not a web page, an e-mail address or a phone number loses its target."""
    visit.open()
    visit.sees_greeting()
    visit.widget.locator(".rw-markdown").first.evaluate(
        """(element) => element.insertAdjacentHTML('beforeend',
            '<a id="t-self" href="/elsewhere" target="_self">a</a> <a id="t-js" href="javascript:void 0">b</a>')"""
    )
    same_tab = visit.widget.locator("#t-self")
    expect(same_tab).to_have_attribute("target", "_blank")
    expect(same_tab).to_have_attribute("rel", "noopener noreferrer")
    script = visit.widget.locator("#t-js")
    expect(script).to_have_attribute("target", "_blank")  # done with its href too
    assert script.get_attribute("href") is None


def test_topic_buttons_work_from_the_keyboard(visit):
    visit.open()
    visit.sees_greeting()
    visit.widget.locator("textarea.rw-new-message").focus()
    # Shift+Tab from the text box lands on the last topic button, with a visible focus ring.
    visit.page.keyboard.press("Shift+Tab")
    button = visit.widget.locator(".rw-reply", has_text="Contact the COPS Office")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("role", "button")
    ring = button.evaluate("(element) => getComputedStyle(element).outlineStyle")
    assert ring == "solid"
    visit.page.keyboard.press("Enter")
    visit.sees_answer("Here's how to reach the COPS Office")


def rating_groups(visit, name: str = "Was this answer helpful?"):
    return visit.widget.get_by_role("group", name=name)


def contrast(element) -> float:
    """The WCAG contrast ratio of an element's text colour on its background colour."""
    colours = element.evaluate(
        """(element) => [getComputedStyle(element).color, getComputedStyle(element).backgroundColor]
            .map((colour) => colour.match(/[\\d.]+/g).slice(0, 3).map(Number))"""
    )

    def luminance(rgb) -> float:
        linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(rgb) for rgb in colours), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def press_tab_until_focused(visit, target, key: str, most: int) -> int:
    """Presses `key` (Tab or Shift+Tab) until `target` has the focus; how many presses it took."""
    for presses in range(1, most + 1):
        visit.page.keyboard.press(key)
        if target.evaluate("(element) => element === document.activeElement"):
            return presses
    pytest.fail(f"{most} presses of {key} never reached {target}")


def stored_ratings(db: Path, sender_id: str, expected_user_events: int) -> list:
    """(rating, rated answer) of each rating the conversation holds, from its user events."""
    ratings = []
    for event in user_events(db, sender_id, expected_user_events):
        parsed = event.get("parse_data") or {}
        if (parsed.get("intent") or {}).get("name") == "rate_answer":
            entities = {entity["entity"]: entity["value"] for entity in parsed.get("entities") or []}
            ratings.append((entities.get("rating"), entities.get("rated_answer")))
    return ratings


def test_a_visitor_rates_an_answer_not_helpful_with_the_keyboard_and_goes_on(visit, assistant):
    """Under an answer, "Helpful" / "Not helpful" in a named group; reached and pressed with the
    keyboard only, the choice is marked, stays in the history (also after a reload) and cannot be
    made twice; the assistant offers other words or a person, and answers the next question."""
    center = contact_data.load()
    visit.open()
    visit.sees_greeting()
    visit.type("how do I call the COPS Office?")
    visit.sees_answer("You can call the COPS Office Response Center")
    expect(rating_groups(visit)).to_have_count(1)
    group = rating_groups(visit).first
    helpful = group.get_by_role("button", name="Helpful", exact=True)
    not_helpful = group.get_by_role("button", name="Not helpful", exact=True)
    for button in (helpful, not_helpful):
        expect(button).to_be_visible()
        expect(button).to_have_attribute("aria-pressed", "false")
    # The group is the answer's own: its text and its buttons are one message.
    expect(visit.answers("You can call the COPS Office Response Center").locator(".rw-replies")).to_have_attribute(
        "role", "group"
    )

    # From the text box back to "Not helpful", past the next questions' buttons, then Enter.
    visit.sees_answer("Related questions:")
    visit.widget.locator("textarea.rw-new-message").focus()
    press_tab_until_focused(visit, not_helpful, "Shift+Tab", most=8)
    ring = not_helpful.evaluate("(element) => getComputedStyle(element).outlineStyle")
    assert ring == "solid"
    visit.page.keyboard.press("Enter")
    expect(visit.questions("Not helpful")).to_have_count(1)
    expect(not_helpful).to_have_attribute("aria-pressed", "true")
    expect(helpful).to_have_attribute("aria-pressed", "false")
    for button in (helpful, not_helpful):
        expect(button).to_be_disabled()
    # The choice shows by more than its name: ticked, and filled in a colour that reads well,
    # unlike the other.
    assert "\u2713" in not_helpful.evaluate("(element) => getComputedStyle(element, '::before').content")
    assert contrast(not_helpful) >= 4.5
    assert not_helpful.evaluate("(e) => getComputedStyle(e).backgroundColor") != helpful.evaluate(
        "(e) => getComputedStyle(e).backgroundColor"
    )

    visit.sees_answer("ask your question again in other words")
    person = visit.sees_answer("talk to a person")
    expect(person).to_contain_text(center.phone)
    expect(person).to_contain_text(center.email)

    # A rated answer is rated once: its other button does nothing now (a click goes through to it
    # all the same: the check Playwright makes before clicking is no visitor's).
    helpful.click(force=True)
    visit.type("when was the cops office created")
    visit.sees_answer("1994")
    sent_helpful = visit.widget.locator(".rw-client .rw-message-text").filter(has_text=re.compile("^Helpful$"))
    expect(sent_helpful).to_have_count(0)
    # The new answer has a pair of its own; the first stays in the history, still marked.
    expect(rating_groups(visit)).to_have_count(2)
    expect(rating_groups(visit).last.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(not_helpful).to_have_attribute("aria-pressed", "true")
    # The first answer's related questions keep their buttons too: no heading is left alone.
    related = visit.answers("Related questions:")
    expect(related).to_have_count(2)
    expect(related.first.locator(".rw-reply")).to_have_count(3)
    session = visit.session_id()

    visit.page.reload()
    expect(rating_groups(visit)).to_have_count(2)
    expect(not_helpful).to_have_attribute("aria-pressed", "true")
    expect(helpful).to_have_attribute("aria-pressed", "false")
    expect(not_helpful).to_be_disabled()
    expect(not_helpful).to_have_attribute("tabindex", "-1")
    for button in rating_groups(visit).last.get_by_role("button").all():
        expect(button).to_have_attribute("aria-pressed", "false")
        expect(button).to_have_attribute("tabindex", "0")

    # greet, the question, the rating, the next question: one rating, of the answer rated.
    assert stored_ratings(assistant.db, session, expected_user_events=4) == [("not_helpful", "ask_phone")]


def test_a_spanish_page_offers_the_rating_in_spanish(browser, assistant):
    """The rating group and its buttons are named in the page's language, and the thanks comes in it."""
    visit = Visit(browser, assistant, locale="es-MX")
    try:
        visit.open()
        visit.sees_answer(SALUDO)
        visit.type("¿cuál es el número de teléfono?")
        group = rating_groups(visit, "¿Le fue útil esta respuesta?")
        useful = group.get_by_role("button", name="Útil", exact=True)
        expect(group.get_by_role("button", name="No fue útil", exact=True)).to_have_attribute("aria-pressed", "false")
        useful.click()
        expect(useful).to_have_attribute("aria-pressed", "true")
        visit.sees_answer("Gracias por decírnoslo.")
    finally:
        visit.close()


def test_a_server_parameter_pointing_elsewhere_is_ignored(visit):
    visit.page.goto(f"{visit.assistant.web_url}/?server=http://203.0.113.7:5005")
    expect(visit.widget).to_be_visible()
    # chat.js runs before the page's load event, which goto waits for.
    assert any("Ignoring ?server=" in text for text in visit.console)
    requested = [request.url for request in visit.requests] + visit.websockets
    assert [url for url in requested if urlsplit(url).hostname == "203.0.113.7"] == []


@pytest.fixture
def other_site(assistant):
    """The same page served from another origin (another port), the way a foreign site would embed
    the widget."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(ROOT / "web")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_is_open(port):
            assert server.poll() is None and time.monotonic() < deadline, "http.server did not start"
            time.sleep(0.1)
        yield f"http://localhost:{port}"
    finally:
        server.terminate()
        server.wait(10)


def test_another_origin_cannot_use_the_socket_channel(visit, assistant, other_site):
    # The server itself refuses the engine.io handshake from another origin, and accepts ours.
    handshake = f"{assistant.url}/socket.io/?EIO=4&transport=polling"
    refused = visit.page.request.get(handshake, headers={"Origin": other_site})
    assert refused.status == 400
    assert "not an accepted origin" in refused.text().lower()
    accepted = visit.page.request.get(handshake, headers={"Origin": assistant.origin})
    assert accepted.status == 200 and accepted.text().startswith("0{")

    # In the browser: the widget on the other site is refused and never gets a greeting.
    with visit.page.expect_event("requestfailed", lambda request: "/socket.io/" in request.url):
        visit.open(other_site)
    expect(visit.widget).to_be_visible()
    assert visit.widget.locator(".rw-response").count() == 0
    assert visit.websockets == []
    # Browsers do not apply CORS to WebSockets: the server must refuse them itself.
    websocket = "ws" + assistant.url[len("http") :] + "/socket.io/?EIO=4&transport=websocket"
    assert open_websocket(visit.page, websocket) == "refused"
    visit.open()  # our page, on the allowed origin
    assert open_websocket(visit.page, websocket) == "open packet"


def open_websocket(page, url: str) -> str:
    """Opens a WebSocket from the page: "open packet" if engine.io greets it, else "refused"."""
    return page.evaluate(
        """(url) => new Promise((resolve) => {
            const socket = new WebSocket(url);
            const timer = setTimeout(() => resolve("no answer"), 15000);
            socket.onmessage = (event) => {
                clearTimeout(timer);
                socket.close();
                resolve(String(event.data).startsWith("0{") ? "open packet" : "other message");
            };
            socket.onerror = () => { clearTimeout(timer); resolve("refused"); };
        })""",
        url,
    )
