"""Finds personal data in what a visitor types and replaces it with typed placeholders.

`mask("my ssn is 123-45-6789")` is "my ssn is [SSN]". The tracker store, the logs and everything
read from them (make report, make story) hold the masked text only (privacy/tracker_store.py,
privacy/logging.py); the model reads the original within the turn.

Which detector comes from where:
- phone numbers, U.S. and international: `phonenumbers` (Google's libphonenumber), which knows
  every country's numbering plan;
- social security numbers: `stdnum.us.ssn` (python-stdnum) decides which nine digits can be one
  (no area 000, 666 or 9xx, no group 00, no serial 0000); the ways they are written are ours;
- credit-card numbers: `stdnum.luhn` checks the Luhn digit of any run of 13 to 19 digits;
- street addresses with city, state and ZIP code: `pyap`; it needs the whole address, so the
  street alone ("55 Elm Street Apt 4B"), post-office boxes and Spanish street names are ours;
- e-mail addresses and dates of birth: ours. A date is personal only next to a word that makes
  it a birth date; "June 24, 2019" in a question about the conference is not.

What a visitor quotes of the COPS Office's own published contacts (content/contact_data.yml: its
phone numbers, e-mail addresses, mailing address) stays as it is: it is public, and it is what the
visitor asks about.
"""

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, NamedTuple

import phonenumbers
import pyap
import yaml
from stdnum import luhn
from stdnum.us import ssn as us_ssn

CONTACT_DATA = Path(__file__).resolve().parent.parent / "content" / "contact_data.yml"

# The country a phone number without a country code is read in.
HOME_REGION = "US"


class Found(NamedTuple):
    start: int
    end: int
    kind: str


_EMAIL = re.compile(r"[\w.+%'-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}", re.IGNORECASE)

_SSN_SEPARATED = re.compile(r"(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-])")

# 13 to 19 digits, in groups separated by single spaces or dashes, as cards are printed.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 03/14/1985, 14.03.1985, 3-14-85
    r"|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"  # 1985-03-14
    rf"|(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"  # March 14, 1985
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:de )?(?:{_MONTHS})\.?,? (?:de(?:l)? )?\d{{4}})"  # 14 March 1985, 14 de marzo de 1985
)
_BIRTH_CUE = (
    r"\bd\.?o\.?b\b|\bdate of birth\b|\bbirth ?date\b|\bbirthday\b|\bborn\b|\bbday\b"
    r"|\bfecha de nac(?:imiento\b|\.)|\bnac[ií]\b|\bnacid[oa]\b|\bcumplea[ñn]os\b"
)
# A date of birth follows its cue within a few words ("born on March 14, 1985", "DOB is 3/14/85").
_DATE_OF_BIRTH = re.compile(rf"(?:{_BIRTH_CUE})[^\d\n]{{0,25}}?\b({_DATE})", re.IGNORECASE)

_STREET_TYPES = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|terrace|ter|place|pl"
    r"|circle|cir|parkway|pkwy|highway|hwy|trail|trl|square|sq|loop|row|pike|alley|plaza|crescent"
)
_UNIT = r"(?:,? (?:apt|apartment|suite|ste|unit|fl|floor|rm|room|#) ?\.? ?#?\w{1,6})"
_STATE_ZIP = r"(?:,? [a-z][a-z .'-]{1,30},? [a-z]{2}\.?,? \d{5}(?:-\d{4})?)"
# "742 Evergreen Terrace", "9 W. 57th St.", "55 Elm Street Apt 4B, Boston MA 02110".
_STREET = re.compile(
    rf"(?<![\w,.-])\d{{1,6}}[a-z]? (?:[nsew]\.? |north |south |east |west )?(?:[\w'.-]+ ){{0,3}}?"
    rf"(?:{_STREET_TYPES})\b\.?(?: (?:[ns]\.[ew]\.|[nsew]{{1,2}}\b\.?))?{_UNIT}?{_STATE_ZIP}?",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\bp\.? ?o\.? box \d+\b|\bpost office box \d+\b|\bapartado(?: postal)? \d+\b", re.IGNORECASE)
# "Calle Principal 123", "Av. Juárez #45", "123 Calle Principal".
_SPANISH_STREET = re.compile(
    r"\b(?:calle|avenida|av\.|avda\.|camino|carretera|paseo|callej[oó]n|privada|boulevard)"
    rf"(?: [\w.'-]+){{1,4}}? #? ?\d{{1,5}}\b{_UNIT}?{_STATE_ZIP}?"
    rf"|(?<![\w,.-])\d{{1,5}} (?:calle|avenida|camino|paseo)(?: [\w'-]+){{1,3}}?{_UNIT}?{_STATE_ZIP}?(?![\w'-])",
    re.IGNORECASE,
)


def _emails(text: str) -> Iterable[Found]:
    for match in _EMAIL.finditer(text):
        yield Found(match.start(), match.end(), "EMAIL")


def _cards(text: str) -> Iterable[Found]:
    for match in _CARD.finditer(text):
        if luhn.is_valid(re.sub(r"\D", "", match.group())):
            yield Found(match.start(), match.end(), "CARD")


def _ssns(text: str) -> Iterable[Found]:
    for match in _SSN_SEPARATED.finditer(text):
        if us_ssn.is_valid("".join(match.group(1, 3, 4))):
            yield Found(match.start(), match.end(), "SSN")


def _phones(text: str) -> Iterable[Found]:
    for match in phonenumbers.PhoneNumberMatcher(text, HOME_REGION, leniency=phonenumbers.Leniency.POSSIBLE):
        # The matcher reads "GRANT13456789" as a number: a reference's digits are not a phone's.
        if not text[max(match.start - 1, 0) : match.start].isalnum():
            yield Found(match.start, match.end, "PHONE")


def _dates_of_birth(text: str) -> Iterable[Found]:
    for match in _DATE_OF_BIRTH.finditer(text):
        yield Found(match.start(1), match.end(1), "DOB")


def _addresses(text: str) -> Iterable[Found]:
    lowered = text.lower()
    for address in pyap.parse(text, country="US"):
        start = lowered.find(address.full_address.lower())
        if start >= 0:
            yield Found(start, start + len(address.full_address), "ADDRESS")
    for pattern in (_STREET, _PO_BOX, _SPANISH_STREET):
        for match in pattern.finditer(text):
            yield Found(match.start(), match.end(), "ADDRESS")


# Their order settles a tie between two finds of the same text (find()).
_DETECTORS = (_emails, _cards, _ssns, _dates_of_birth, _addresses, _phones)


def _normalised(text: str) -> str:
    """Lower case, words only: "12 Oak St., N.W." and "12 oak st nw" are the same."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace(".", "")))


@lru_cache(maxsize=None)
def _published(path: Path = CONTACT_DATA) -> tuple:
    """The contacts the COPS Office publishes: every text of contact_data.yml, normalised, and
    the digits of each of its phone numbers."""

    def leaves(value) -> Iterable[str]:
        if isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)
        elif isinstance(value, str):
            yield value

    texts = list(leaves(yaml.safe_load(path.read_text(encoding="utf-8"))))
    # The mailing address is written one line an entry: a visitor quotes it whole.
    whole = " ".join(texts)
    phones = {
        re.sub(r"\D", "", match.raw_string)[-10:]
        for text in texts
        for match in phonenumbers.PhoneNumberMatcher(text, HOME_REGION, leniency=phonenumbers.Leniency.POSSIBLE)
    }
    return _normalised(whole), frozenset(phones)


def _is_published(value: str, kind: str) -> bool:
    published_text, published_phones = _published()
    if kind == "PHONE":
        return re.sub(r"\D", "", value)[-10:] in published_phones
    normalised = _normalised(value)
    return bool(normalised) and f" {normalised} " in f" {published_text} "


def find(text: str) -> List[Found]:
    """The personal data in `text`, first to last. Where two finds overlap the longer is kept,
    and between equally long ones the earlier detector's: a card number is not also read as a
    phone number, nor a whole address as its street."""
    candidates = [
        (found.end - found.start, -rank, found)
        for rank, detector in enumerate(_DETECTORS)
        for found in detector(text)
        if not _is_published(text[found.start : found.end], found.kind)
    ]
    kept: List[Found] = []
    for _, _, found in sorted(candidates, reverse=True):
        if all(found.end <= other.start or other.end <= found.start for other in kept):
            kept.append(found)
    return sorted(kept)


def mask(text: str) -> str:
    """`text` with each piece of personal data replaced by its kind: [PHONE], [EMAIL], [SSN],
    [CARD], [DOB] or [ADDRESS]."""
    if not text or not any(character.isdigit() or character == "@" for character in text):
        # Every kind of personal data found here has a digit or an "@": most messages have none.
        return text
    pieces = []
    position = 0
    for found in find(text):
        pieces.append(text[position : found.start])
        pieces.append(f"[{found.kind}]")
        position = found.end
    pieces.append(text[position:])
    return "".join(pieces)


# Keys of Rasa's event dictionaries whose values are names, numbers or ids, never typed text (the
# model's id, on every event, has digits: masking it would cost a third of a millisecond).
_NOT_TYPED = frozenset(
    {
        "event",
        "name",
        "timestamp",
        "confidence",
        "policy",
        "message_id",
        "input_channel",
        "id",
        "model_id",
        "assistant_id",
    }
)


def masked(value):
    """A copy of an event's dictionary (or any JSON value) with every string masked but those
    under the keys Rasa keeps names and ids in."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: item if key in _NOT_TYPED else masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value
