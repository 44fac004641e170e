"""The contact data file: complete, well-formed, the only place its details are written, and a
broken copy is refused with the name of the bad key."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from actions import contact_data, replies
from actions.contact_data import ContactDataError

ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = ROOT / "actions" / "contact_data.yml"


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
    for topic in contact_data.RESOURCE_TOPICS:
        links = data.links_for_topic(topic)
        assert links, topic
        assert all(link.confirmed for link in links), topic


def test_every_reply_formats_with_what_the_actions_provide():
    from actions.actions import ReplyStyle, contact_values

    loaded = replies.load()
    extra = {"links": "-", "link": "-", "suggestions": "-", "max_chars": "1000"}
    for style in (ReplyStyle(markdown=True, buttons=True), ReplyStyle(markdown=False, buttons=False)):
        for key in loaded.templates:
            assert loaded.text(key, **contact_values(style), **extra).strip(), key


def broken_copy(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "contact_data.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["response_center"].pop("phone"), "response_center.phone: is missing"),
        (lambda d: d["response_center"].update(phone="call us"), "response_center.phone: 'call us' does not look like a phone number written with hyphens"),
        (lambda d: d["response_center"].update(email="nobody"), "response_center.email: 'nobody' does not look like an e-mail address"),
        (lambda d: d["links"]["nasro"].update(url="http://www.nasro.org"), "links.nasro.url: 'http://www.nasro.org' does not look like an https:// address"),
        (lambda d: d["links"]["nasro"].pop("title"), "links.nasro.title: is missing"),
        (lambda d: d["links"]["nasro"].update(confirmed="yes"), "links.nasro.confirmed: must be true or false"),
        (lambda d: d["links"]["svpp"].update(fallback="supporting_safe_schools"), "links.svpp.fallback: must name a confirmed link"),
        (lambda d: d["links"]["chp"].update(topics=["grants"]), "links.chp.topics: unknown topic 'grants'"),
        (lambda d: d["links"]["cops_training_portal"]["answers"].append("what_is_nasro"), "links.cops_training_portal.answers: 'what_is_nasro' is already answered by links.nasro"),
        (lambda d: d.update(fax="202"), "(top level): unknown key 'fax'"),
        (lambda d: d.update(mailing_address="145 N Street"), "mailing_address: must be a list of at least two address lines"),
        (lambda d: d["subscribe"].update(link="nowhere"), "subscribe.link: names no link under links: 'nowhere'"),
    ],
)
def test_a_broken_file_is_refused_naming_the_key(tmp_path, change, message):
    with pytest.raises(ContactDataError) as error:
        contact_data.load(broken_copy(tmp_path, change))
    assert str(error.value).startswith("contact_data.yml: ")
    assert message in str(error.value)


def tracked_files():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_contact_details_and_urls_are_written_only_in_the_data_file():
    """Tests aside, no other file of the project repeats a phone, an e-mail address or a URL."""
    data = contact_data.load()
    details = [data.phone, data.email, data.feedback_email, "145 N Street"]
    url = re.compile(r"https?://(?!localhost|127\.0\.0\.1)[\w.-]+\.[a-z]{2,}", re.IGNORECASE)
    phone = re.compile(r"\b\d{3}[-. ]\d{3}[-. ]\d{4}\b")
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
        offenders += [f"{relative}: {match}" for match in url.findall(text)]
        offenders += [f"{relative}: {match}" for match in phone.findall(text)]
    assert offenders == []


def test_the_action_server_refuses_to_start_on_a_broken_file(tmp_path):
    """A copy of the actions package with one bad value: the server exits naming the key."""
    import shutil
    import sys

    shutil.copytree(ROOT / "actions", tmp_path / "actions", ignore=shutil.ignore_patterns("__pycache__"))
    broken_copy(tmp_path / "actions", lambda d: d["links"]["chp"].update(url="cops.usdoj.gov/chp"))
    started = subprocess.run(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert started.returncode != 0
    assert "contact_data.yml: links.chp.url: 'cops.usdoj.gov/chp' does not look like an https:// address" in started.stderr
