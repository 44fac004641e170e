"""The contact data file: complete, well-formed, the only place its details are written, and a
broken copy is refused with the name of the bad key."""

import re
import subprocess
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import yaml

from content import answers, build, contact_data, replies
from content.contact_data import ContactData, ContactDataError

ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = ROOT / "content" / "contact_data.yml"
CONVERSATION_FILE = ROOT / "domain" / "conversation.yml"
# The whole address, but not the full stop or comma of the sentence it ends.
URL = re.compile(
    r"https?://(?!localhost|127\.0\.0\.1)[\w.-]+\.[a-z]{2,}(?:[^\s)\]>\"'`]*[^\s)\]>\"'`.,;:!?])?", re.IGNORECASE
)
PHONE = re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[-. ])\d{3}[-. ]\d{4}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def test_the_data_file_holds_the_facts():
    data = contact_data.load()
    assert data.phone == "800-421-6770"
    assert data.email == "AskCopsRC@usdoj.gov"
    assert data.feedback_email == "CPDispatch@usdoj.gov"
    assert data.mailing_address == (
        "U.S. Department of Justice",
        "Office of Community Oriented Policing Services",
        "145 N Street, N.E.",
        "Washington, DC 20530",
    )
    assert data.links["cops_home"].url == "https://cops.usdoj.gov"
    assert data.links["nasro"].url == "https://www.nasro.org"


def test_every_topic_has_a_confirmed_link():
    data = contact_data.load()
    assert set(data.topics()) == {
        "sro_training",
        "school_safety",
        "hiring",
        "dispatch",
        "nasro",
        "cops_office",
        "conference",
    }
    for topic in data.topics():
        links = data.links_for_topic(topic)
        assert links, topic
        assert all(link.confirmed for link in links), topic


def test_the_placeholders_an_answer_may_use_are_the_contact_values_the_actions_fill_in():
    from content.formatting import ReplyStyle, contact_values

    assert set(contact_values(ReplyStyle(markdown=True, buttons=True))) == answers.CONTACT_PLACEHOLDERS


def test_every_reply_formats_with_what_the_actions_provide():
    from content.formatting import ReplyStyle, contact_values

    loaded = replies.load()
    extra = {"links": "-", "link": "-", "suggestions": "-", "max_chars": "1000"}
    for style in (ReplyStyle(markdown=True, buttons=True), ReplyStyle(markdown=False, buttons=False)):
        for key in loaded.templates:
            assert loaded.text(key, **contact_values(style), **extra).strip(), key


def broken_copy(tmp_path: Path, change, source: Path = DATA_FILE) -> Path:
    """A copy of `source` (the contact data by default) in tmp_path, with `change` made to it."""
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["response_center"].pop("phone"), "response_center.phone: is missing"),
        (
            lambda d: d["response_center"].update(phone="call us"),
            "response_center.phone: 'call us' does not look like a phone number written with hyphens",
        ),
        (
            lambda d: d["response_center"].update(email="nobody"),
            "response_center.email: 'nobody' does not look like an e-mail address",
        ),
        (
            lambda d: d["links"]["nasro"].update(url="http://www.nasro.org"),
            "links.nasro.url: 'http://www.nasro.org' does not look like an https:// address",
        ),
        (lambda d: d["links"]["nasro"].pop("title"), "links.nasro.title: is missing"),
        (lambda d: d["links"]["nasro"].update(confirmed="yes"), "links.nasro.confirmed: must be true or false"),
        (
            lambda d: d["links"]["svpp"].update(fallback="supporting_safe_schools"),
            "links.svpp.fallback: must name a confirmed link",
        ),
        (lambda d: d["links"]["chp"].update(topics="hiring"), "links.chp.topics: must be a list of names"),
        (
            lambda d: d["links"]["nasro_article"]["mentioned_in"].append("what_is_fax"),
            "links.nasro_article.mentioned_in: 'what_is_fax' is no question of answers.yml",
        ),
        (lambda d: d.update(fax="202"), "(top level): unknown key 'fax'"),
        (
            lambda d: d.update(mailing_address="145 N Street"),
            "mailing_address: must be a list of at least two address lines",
        ),
        (lambda d: d["subscribe"].update(link="nowhere"), "subscribe.link: names no link under links: 'nowhere'"),
    ],
)
def test_a_broken_file_is_refused_naming_the_key(tmp_path, change, message):
    with pytest.raises(ContactDataError) as error:
        contact_data.load(broken_copy(tmp_path, change))
    assert str(error.value).startswith("contact_data.yml: ")
    assert message in str(error.value)


def strings_in(value: Any, path: str) -> Iterator[Tuple[str, str]]:
    """(key path, text) for every text in a YAML value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from strings_in(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from strings_in(inner, f"{path}[{index}]")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def texts_of(conversation: dict, answers: dict, replies_file: dict) -> List[Tuple[str, str]]:
    """(where, text) for every text the assistant may say."""
    return (
        [
            (f"domain/conversation.yml: {path}", text)
            for path, text in strings_in(conversation.get("responses"), "responses")
        ]
        + [(f"content/answers.yml: {path}", text) for path, text in strings_in(answers, "")]
        + [(f"content/replies.yml: {path}", text) for path, text in strings_in(replies_file, "")]
    )


def the_texts(**changed: dict) -> List[Tuple[str, str]]:
    files = {"conversation": CONVERSATION_FILE, "answers": answers.ANSWERS_FILE, "replies_file": replies.REPLIES_FILE}
    return texts_of(
        **{name: changed.get(name) or yaml.safe_load(path.read_text(encoding="utf-8")) for name, path in files.items()}
    )


def contact_details_in_responses(texts: List[Tuple[str, str]], data: ContactData) -> List[str]:
    """Each URL, phone number or e-mail address a response writes out, and what to do instead."""
    known = {link.url.rstrip("/").lower(): f"links.{key}.url" for key, link in data.links.items()}
    known[digits(data.phone)] = "response_center.phone"
    known[data.email.lower()] = "response_center.email"
    known[data.feedback_email.lower()] = "dispatch_editorial_board.email"
    kinds = [
        ("URL", URL, lambda url: url.rstrip("/").lower()),
        ("phone number", PHONE, digits),
        ("e-mail address", EMAIL, str.lower),
    ]
    found = []
    for where, text in texts:
        for kind, pattern, key_of in kinds:
            for detail in pattern.findall(text):
                key = known.get(key_of(detail))
                if key:
                    found.append(
                        f"{where} writes out the {kind} {detail}, which is {key} in content/contact_data.yml: "
                        "write it only there; a custom action gives it (a {placeholder} in content/answers.yml, "
                        "or its `link:`, given after the answer; docs/content.md)"
                    )
                else:
                    found.append(
                        f"{where} names the {kind} {detail}, which is not in content/contact_data.yml: add it "
                        "there and let a custom action give it (docs/content.md)"
                    )
    return found


def test_no_response_writes_out_a_url_a_phone_or_an_e_mail_address():
    found = contact_details_in_responses(the_texts(), contact_data.load())
    assert found == [], "\n" + "\n".join(found)


def test_a_response_naming_an_unknown_url_or_phone_fails_naming_it():
    raw = yaml.safe_load(answers.ANSWERS_FILE.read_text(encoding="utf-8"))
    raw["answers"]["ask_chp"]["text"]["en"] += " Apply at https://grants.example.org/chp or call 555-010-0199."
    found = contact_details_in_responses(the_texts(answers=raw), contact_data.load())
    assert found == [
        "content/answers.yml: answers.ask_chp.text.en names the URL https://grants.example.org/chp, which is not "
        "in content/contact_data.yml: add it there and let a custom action give it (docs/content.md)",
        "content/answers.yml: answers.ask_chp.text.en names the phone number 555-010-0199, which is not in "
        "content/contact_data.yml: add it there and let a custom action give it (docs/content.md)",
    ]


def test_a_reply_repeating_a_known_detail_fails_saying_where_it_belongs():
    data = contact_data.load()
    raw = yaml.safe_load(answers.ANSWERS_FILE.read_text(encoding="utf-8"))
    raw["answers"]["ask_phone"]["text"]["en"] = (
        f"Call ({data.phone[:3]}) {data.phone[4:]} or see {data.links['chp'].url}/."
    )
    found = contact_details_in_responses(the_texts(answers=raw), data)
    advice = (
        "in content/contact_data.yml: write it only there; a custom action gives it (a {placeholder} in "
        "content/answers.yml, or its `link:`, given after the answer; docs/content.md)"
    )
    assert found == [
        f"content/answers.yml: answers.ask_phone.text.en writes out the URL {data.links['chp'].url}/, which is "
        f"links.chp.url {advice}",
        f"content/answers.yml: answers.ask_phone.text.en writes out the phone number ({data.phone[:3]}) "
        f"{data.phone[4:]}, which is response_center.phone {advice}",
    ]


def tracked_files():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_contact_details_and_urls_are_written_only_in_the_data_file():
    """Tests aside, no other file of the project repeats a phone, an e-mail address or a URL."""
    data = contact_data.load()
    details = [data.phone, data.email, data.feedback_email, "145 N Street"]
    offenders = []
    for path in tracked_files():
        relative = path.relative_to(ROOT).as_posix()
        generated = path.name == "package-lock.json" or path.suffix == ".png"
        if relative.startswith("tests/") or path == DATA_FILE or generated:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for detail in details:
            if detail in text:
                offenders.append(f"{relative}: {detail}")
        offenders += [f"{relative}: {match}" for match in URL.findall(text)]
        offenders += [f"{relative}: {match}" for match in PHONE.findall(text)]
    assert offenders == [], (
        "\nThese files write out a contact detail or a URL; write it only in content/contact_data.yml "
        "and let the actions give it (docs/content.md):\n" + "\n".join(offenders)
    )


def test_the_action_server_refuses_to_start_on_a_broken_file(tmp_path):
    """A copy of the actions package with one bad value: the server exits naming the key."""
    import shutil
    import sys

    for package in ("actions", "content", "privacy"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    broken_copy(tmp_path / "content", lambda d: d["links"]["chp"].update(url="cops.usdoj.gov/chp"))
    started = subprocess.run(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert (
        "contact_data.yml: links.chp.url: 'cops.usdoj.gov/chp' does not look like an https:// address" in started.stderr
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["answers"]["ask_chp"].pop("title"), "answers.ask_chp.title: is missing"),
        (lambda d: d["answers"]["ask_chp"].pop("text"), "answers.ask_chp.text: is missing"),
        (lambda d: d["answers"]["ask_chp"]["text"].pop("es"), "answers.ask_chp.text.es: is missing"),
        (lambda d: d["answers"]["ask_chp"]["title"].pop("es"), "answers.ask_chp.title.es: is missing"),
        (
            lambda d: d["answers"]["ask_chp"]["text"].update(fr="Le programme"),
            "answers.ask_chp.text.fr: is not a language",
        ),
        (
            lambda d: d["answers"]["ask_chp"].update(link="chp_page"),
            "answers.ask_chp.link: names no link under links: in contact_data.yml: 'chp_page'",
        ),
        (lambda d: d["answers"]["ask_chp"].update(dated="2019"), "answers.ask_chp.dated: must be a list of years"),
        (lambda d: d["answers"]["ask_chp"].update(deadline="May 1"), "answers.ask_chp.deadline: unknown field"),
        (
            lambda d: d["answers"]["ask_chp"]["text"].update(en="Call {phone}."),
            "answers.ask_chp.text.en: only an answer given by an action may have {placeholders}",
        ),
        (
            lambda d: d["answers"]["ask_phone"]["text"].update(en="Call {fax}."),
            "answers.ask_phone.text.en: unknown placeholder {fax}",
        ),
        (
            lambda d: d["answers"]["conference_date"]["years"].update({"2018": {"en": "x"}}),
            "answers.conference_date.years.2018: is not a year",
        ),
        (
            lambda d: d["answers"]["conference_date"]["years"].pop("2021"),
            "answers.conference_date.years: has no answer for 2021",
        ),
        (
            lambda d: d["answers"].update({"Ask Fax": {"topic": "contact", "title": "Fax", "text": {"en": "No."}}}),
            "answers.Ask Fax: a key is written in small letters",
        ),
    ],
)
def test_a_broken_answers_file_is_refused_naming_the_entry(tmp_path, change, message):
    with pytest.raises(answers.AnswersError) as error:
        answers.load(broken_copy(tmp_path, change, answers.ANSWERS_FILE), links=contact_data.load().links)
    assert str(error.value).startswith("answers.yml: ")
    assert message in str(error.value)


def test_the_resource_topics_are_the_links_topics_and_their_phrases_are_found_longest_first():
    phrases = build.topic_phrases()
    table = build.lookup(phrases, contact_data.load().topics())
    assert sorted(table) == sorted({phrase for topic in phrases.values() for phrase in topic})
    assert table.index("cops training portal") < table.index("cops")
    with pytest.raises(build.TopicsError) as error:
        build.lookup({**phrases, "grants": ["grant page"]}, contact_data.load().topics())
    assert str(error.value) == (
        "data/nlu/: `- synonym: grants` is no topic a link answers: add it to a link's "
        "`topics:` in content/contact_data.yml, or fix its name"
    )
    without = {topic: names for topic, names in phrases.items() if topic != "hiring"}
    with pytest.raises(build.TopicsError) as error:
        build.lookup(without, contact_data.load().topics())
    assert "no `- synonym: hiring` names the phrases of the topic 'hiring'" in str(error.value)
