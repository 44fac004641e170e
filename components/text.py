"""How the NLU components read a visitor's text: one normalised form, its sentences and parts, and
the cues that tell a follow-up, a correction or a year apart.

Pure functions, shared by the classifier (components/intent_classifier.py), the conversation
context (components/conversation_context.py), the safety check and the not-a-question filter, so
all of them see the same words.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional, Tuple

# Chat-speak and common short forms, written the way the training data spells them out. Only whole
# words are replaced; "4" only between two words ("ph# 4 response ctr"), where it is never a count.
SHORT_FORMS = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "pleez": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "tnx": "thanks",
    "thanx": "thanks",
    "ph": "phone",
    "fone": "phone",
    "phn": "phone",
    "tel": "telephone",
    "num": "number",
    "nmbr": "number",
    "numbr": "number",
    "nbr": "number",
    "no#": "number",
    "ctr": "center",
    "cntr": "center",
    "centre": "center",
    "info": "information",
    "addy": "address",
    "addr": "address",
    "emial": "email",
    "e-mail": "email",
    "yr": "year",
    "yrs": "years",
    "wat": "what",
    "wut": "what",
    "wht": "what",
    "wot": "what",
    "whats": "what is",
    "wher": "where",
    "whr": "where",
    "wen": "when",
    "whn": "when",
    "hw": "how",
    "dat": "that",
    "b4": "before",
    "2day": "today",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2moro": "tomorrow",
    "govt": "government",
    "dept": "department",
    "pd": "police department",
    "cuz": "because",
    "coz": "because",
    "abt": "about",
    "w/": "with",
    "w": "with",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "dunno": "do not know",
    "idk": "i do not know",
    "rn": "right now",
    "ppl": "people",
    "hrs": "hours",
    "hr": "hour",
    "conf": "conference",
    "natl": "national",
    "org": "organization",
    "skool": "school",
    "skul": "school",
    "ofc": "office",
    "mgr": "manager",
    "kk": "ok",
    "k": "ok",
    "im": "i am",
    "i'm": "i am",
    "dont": "do not",
    "don't": "do not",
    "cant": "can not",
    "can't": "can not",
    "wont": "will not",
    "won't": "will not",
    "isnt": "is not",
    "isn't": "is not",
    "doesnt": "does not",
    "doesn't": "does not",
    "didnt": "did not",
    "didn't": "did not",
    "hasnt": "has not",
    "hasn't": "has not",
    "havent": "have not",
    "haven't": "have not",
    "wasnt": "was not",
    "wasn't": "was not",
    "arent": "are not",
    "aren't": "are not",
    "theres": "there is",
    "there's": "there is",
    "hes": "he is",
    "he's": "he is",
    "shes": "she is",
    "she's": "she is",
    "its": "it is",
    "it's": "it is",
    "whos": "who is",
    "who's": "who is",
    "wheres": "where is",
    "where's": "where is",
    "what's": "what is",
    "how's": "how is",
    "i've": "i have",
    "ive": "i have",
    "i'd": "i would",
    "id": "i would",
    "i'll": "i will",
    "they're": "they are",
    "theyre": "they are",
    "we're": "we are",
    "you're": "you are",
    "youre": "you are",
    "tryin": "trying",
    "nite": "night",
    "somone": "someone",
    "sombody": "somebody",
    "ther": "there",
    "thier": "their",
    "pleas": "please",
    "hlp": "help",
    "teh": "the",
    "da": "the",
    "iz": "is",
    "wuz": "was",
    "opn": "open",
    "hsa": "has",
    "sentr": "center",
    "wich": "which",
    "&": "and",
    "+": "and",
}
_WORD = re.compile(r"[a-z0-9]+(?:['/#][a-z0-9]*)?|[&+]")
_BETWEEN_WORDS_FOUR = re.compile(r"(?<=[a-z]) 4 (?=[a-z])")
# "ph#", "phone #", "#?" : a number sign is the word "number".
_NUMBER_SIGN = re.compile(r"(?<=[a-z])#|#(?=\s|$|\?)")


def fold(text: str) -> str:
    """Lower case, accents and typographic quotes removed: "Teléfono’s" -> "telefono's"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"').lower()


def normalize(text: str) -> str:
    """The form every component classifies and matches: folded, letters repeated for emphasis
    shortened ("pleeeease" -> "pleease"), short forms written out, one space between words."""
    text = fold(text)
    text = re.sub(r"([a-z])\1{2,}", r"\1\1", text)
    text = " ".join(_NUMBER_SIGN.sub(" number ", text).split())
    text = _BETWEEN_WORDS_FOUR.sub(" for ", f" {text} ").strip()
    words = [SHORT_FORMS.get(word, word) for word in _WORD.findall(text)]
    return " ".join(words)


# The classifier reads a year as one of two words: 2019, the year of the facts, and any other
# year. Which year is asked is the conversation context's business
# (components/conversation_context.py); a year's digits would otherwise pull a question towards
# whatever intent its training examples named that year in.
YEAR_OF_THE_FACTS, OTHER_YEAR = "yearnineteen", "yearnumber"
_ANY_YEAR = re.compile(r"\b(?:19[89]\d|20[0-4]\d)\b|'\d\d\b")


def classifier_form(text: str) -> str:
    """What the intent classifier reads: the normalised text, its years as two words."""
    return normalize(
        _ANY_YEAR.sub(
            lambda match: f" {YEAR_OF_THE_FACTS if match.group(0) in ('2019', chr(39) + '19') else OTHER_YEAR} ",
            fold(text),
        )
    )


def words(text: str) -> List[str]:
    """The words of an already normalised text."""
    return text.split()


# --- sentences and parts ------------------------------------------------------------------------

# A sentence ends at ? ! ; or a line break, or at a full stop that ends a word of three letters or
# more ("...last week. What is"), so "U.S.", "N.E.", "a.m." and "no." do not cut a sentence.
_SENTENCE_END = re.compile(r"[?!;\n]+|(?<=[A-Za-z]{3})\.+(?=\s|$)|(?<=\d{4})\.(?=\s)|\.{2,}|\s[-\u2013\u2014]+\s")
# Where one question ends and the next begins inside a sentence.
_PART_SEPARATOR = re.compile(
    r",?\s+(?:and also|and then|and what about|and how about|and|also|plus|as well as|together with|"
    r"along with|but|&|\+)\s+"
    r"|,\s+(?=(?:what|where|when|who|how|which|is|are|can|could|do|does|did|will|would)\b)",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|so|and|also|but|please|pls|quick question|just|now)[,!\s]+)*"
    r"(?:what|whats|what's|wat|where|wheres|where's|when|who|whos|who's|whom|whose|which|why|how|"
    r"is|are|was|were|do|does|did|can|could|will|would|should|may|might|shall|have|has|any|"
    r"tell|give|gimme|send|show|list|explain|share|provide|find|get me|need|i need|i want|i'd like|"
    r"i would like|looking for|i'm looking|im looking|wondering|i wonder|help|kindly|please)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Part:
    """A stretch of the visitor's text that may ask something on its own."""

    text: str
    start: int
    end: int
    # Ends with a question mark or reads like a question or request (not like background).
    asks: bool


class _Outside:
    """A pattern's matches that fall outside the given spans."""

    def __init__(self, pattern: re.Pattern, spans: List[Tuple[int, int]]) -> None:
        self.pattern, self.spans = pattern, spans

    def finditer(self, text: str):
        return (
            match
            for match in self.pattern.finditer(text)
            if not any(start < match.end() and match.start() < end for start, end in self.spans)
        )


def _spans(text: str, pattern: re.Pattern, offset: int = 0) -> List[Tuple[int, int]]:
    spans, start = [], 0
    for match in pattern.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(offset + a, offset + b) for a, b in spans if text[a:b].strip(" ,.-")]


# A request written as a statement: "I would be grateful if you could inform me of ...".
_REQUEST = re.compile(
    r"\b(?:could you|can you|would you|will you|please|pls|kindly|i would like|i'd like|i want|i need|"
    r"tell me|let me know|inform me|advise|i am looking for|i'm looking for|wondering|grateful if)\b",
    re.IGNORECASE,
)
_THANKS = r"(?:thanks|thank you|thank u|thx|thnx|thanx|thks|ty|tia|many thanks|cheers)"
# The end of a letter, which asks nothing.
_CLOSING = re.compile(
    r"^(?:with )?(?:kind |best |warm |many )?(?:" + _THANKS + r"|regards|sincerely|respectfully|"
    r"yours(?: (?:faithfully|sincerely|truly))?|respectfully yours|all the best)\W*$",
    re.IGNORECASE,
)


# A greeting before a question and thanks after it: "Hello, what is COPS?", "... the phone. thx".
_OPENING_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day)|dear (?:sir|madam|sir or madam|team))"
    r"(?: there| all| everyone| team| folks)?\s*[,.!:;-]+\s*",
    re.IGNORECASE,
)
_CLOSING_THANKS = re.compile(
    r"[\s,.!;-]*\b" + _THANKS + r"(?: (?:a lot|so much|very much|in advance|for your help|for the help))?[\s.!]*$",
    re.IGNORECASE,
)


# Thanks or an "ok" for the last answer, then a question of its own: "Thank you. And in writing?"
_OPENING_THANKS = re.compile(
    r"^\W*(?:" + _THANKS + r"|ok|okay|great|perfect|got it|cool|awesome|alright|all right)"
    r"(?: (?:a lot|so much|very much|for that|for the help))?\s*[,.!:;-]+\s*",
    re.IGNORECASE,
)


def without_courtesies(text: str) -> str:
    """The message without a greeting or thanks before it and thanks after it, when a question of
    its own remains: they decide nothing of what it asks ("hi, what is COPS?" asks what COPS is)."""
    opened = _OPENING_GREETING.sub("", text, count=1)
    body = _CLOSING_THANKS.sub("", _OPENING_THANKS.sub("", opened, count=1))
    return body if len(body.split()) >= 3 else text


# "Two things: what city ...", "Quick one: where ...": a preface before the question itself.
_PREFACE = re.compile(r"^[^:?.!]{1,40}:\s+")


# A question in Spanish, folded, often without its question marks ("hasta cuando estuvo",
# "me pueden dar el correo"): its first words ask.
_PREGUNTA = re.compile(
    r"^(?:(?:hola|buenas|oye|y|pero|tambien|por favor|porfa|disculpe|perdon)[,!\s]+)*"
    r"(?:que|cual|cuales|cuando|cuanto|cuanta|cuantos|cuantas|donde|adonde|quien|quienes|como|"
    r"por que|para que|hasta cuando|desde cuando|me (?:puede|pueden|podria|podrian|da|dan)|"
    r"puedo|podria|necesito|quiero saber|quisiera saber|dime|digame|expliqueme|busco)\b"
)


def _asks(sentence: str, ends_with_question_mark: bool) -> bool:
    stripped = _PREFACE.sub("", sentence.strip(" ,.-\"'"), count=1)
    return (
        ends_with_question_mark
        or bool(_QUESTION_START.match(stripped) or _REQUEST.search(stripped))
        or bool(_PREGUNTA.match(fold(stripped).lstrip("¿¡ ")))
    )


def asks(text: str) -> bool:
    """Whether a text reads like a question or a request."""
    return _asks(text, text.rstrip().endswith("?"))


# Question words joined before what they share: "where and when was it?", "where, when, how many
# ppl?" ask two or three questions of one subject.
_ONE_ASKING_WORD = r"(?:where|when|who|why|how many(?: people| ppl| attendees)?|how much|how long|how often|what time)"
_ASKING_WORDS_JOINED = re.compile(
    r"\b(?P<words>" + _ONE_ASKING_WORD + r"(?:\s*(?:,|/|&|\+|\band\b)\s*(?:and\s+)?" + _ONE_ASKING_WORD + r")+)\b",
    re.IGNORECASE,
)
_ASKING_WORD = re.compile(_ONE_ASKING_WORD, re.IGNORECASE)


def sentences(text: str) -> List[Part]:
    """The message's sentences; when none reads like a question, the last one is taken to ask
    ("I've tried all week. JUST GIVE ME THE NUMBER")."""
    found = []
    for start, end in _spans(text, _SENTENCE_END):
        stripped = text[start:end].strip()
        if not stripped:
            continue
        start += text[start:end].index(stripped)
        question_mark = text[start + len(stripped) : start + len(stripped) + 3].lstrip(" ").startswith("?")
        closing = bool(_CLOSING.match(stripped))
        found.append(Part(stripped, start, start + len(stripped), _asks(stripped, question_mark) and not closing))
    for i in range(len(found) - 1, 0, -1):
        if _ASKING_WORDS_JOINED.fullmatch(found[i].text.strip(" ?.!")):
            # "2019 nasro conf - where, when, how many ppl?": the question words ask of the
            # sentence before them.
            joined = text[found[i - 1].start : found[i].end]
            found[i - 1 : i + 1] = [Part(joined, found[i - 1].start, found[i].end, True)]
    if found and not any(sentence.asks for sentence in found):
        last = max((i for i, sentence in enumerate(found) if not _CLOSING.match(sentence.text)), default=len(found) - 1)
        found[last] = Part(found[last].text, found[last].start, found[last].end, True)
    return found


# A part that tells rather than asks: "I'm a vice principal, how do I ...", "we have 9 officers".
_STATEMENT = re.compile(
    # "and also my son has been missing since noon" tells as much as "my son is missing".
    r"^(?:(?:and|also|plus|but|oh|btw|ps|by the way)\s+)*"
    r"(?:i|i'm|im|i've|ive|we|we're|my|our|he|she|they|it|it's|this|that|there|there's|theres|thats|hes|shes|theyre)\b"
    r"|\b(?:am|is|are|was|were|has been|have been)\b",
    re.IGNORECASE,
)


# A part that only frames the question after it: "and for background, how many SROs ...?",
# "just out of curiosity, when ...?".
_FRAMING = re.compile(
    r"^(?:(?:and|also|so|ok|okay|oh|but|btw)\s+)*(?:"
    r"(?:just )?(?:for|as) (?:some |a bit of |a little |more )?(?:background|context|reference|the record|"
    r"my (?:article|story|notes|records|report|paper|piece|research))"
    r"|(?:just )?(?:out of )?curio(?:us|sity)|one (?:more|last|other) (?:thing|question)|"
    r"(?:another|last|quick|final|follow[- ]up|side) question|by the way|btw|while i have you"
    r")[.!:,\s]*$",
    re.IGNORECASE,
)


# A question word inside a part that reads like a statement: "COPS office is founded which year",
# "through which system is the application submitted".
_ASKS_INSIDE = re.compile(
    r"\b(?:which|what) (?:year|system|ministry|department|agency|date|day|month|time|number|e-?mail|address|"
    r"website|site|program|office|state|city|town)\b",
    re.IGNORECASE,
)


_CLAUSE_SEPARATOR = re.compile(r"\s*(?:[,;:]|\s-+)\s+")


def telling_clauses(text: str) -> List[str]:
    """The clauses of a message that tell rather than ask, cut at commas, semicolons and dashes:
    "what's your phone number, there's a man with a knife outside my office" tells of a knife in
    a sentence that asks. Nothing when the message is one clause."""
    pieces = [piece.strip(" ,;:-") for piece in _CLAUSE_SEPARATOR.split(text.strip())]
    pieces = [piece for piece in pieces if piece]
    if len(pieces) < 2:
        return []
    return [piece for piece in pieces if _STATEMENT.search(piece) and not asks(piece)]


# Names with an "and" in them: one question, not two ("is the Crisis Prevention and Response
# training free?" asks nothing of a "Response training").
_NAMES_WITH_AND = re.compile(
    r"\b(?:crisis prevention|supervisors?|violent crime control|health|suicide)\s+(?:and|&)\s+"
    r"(?:response|management|law enforcement|human services|crisis)\b",
    re.IGNORECASE,
)


def _asking_words_joined(sentence: Part) -> List[Part]:
    match = _ASKING_WORDS_JOINED.search(sentence.text)
    if not match:
        return []
    before, after = sentence.text[: match.start()], sentence.text[match.end() :]
    # Each question is the whole sentence with one of the words: what it shares is before or after.
    return [
        Part(before + word.group(0) + after, sentence.start, sentence.end, True)
        for word in _ASKING_WORD.finditer(match.group("words"))
    ]


def parts(sentence: Part) -> List[Part]:
    """The questions a sentence joins with "and", "also", "plus" ... ("the email and the phone
    number?"). A part of an asking sentence asks too, unless it tells something itself ("I'm a
    vice principal, how do I ...")."""
    joined = _asking_words_joined(sentence)
    if joined:
        return joined
    found = []
    names = [match.span() for match in _NAMES_WITH_AND.finditer(sentence.text)]
    separators = _PART_SEPARATOR
    if names:
        separators = _Outside(_PART_SEPARATOR, names)
    for start, end in _spans(sentence.text, separators, sentence.start):
        piece = sentence.text[start - sentence.start : end - sentence.start].strip(" ,")
        if piece:
            asks = not _FRAMING.match(piece) and (
                _asks(piece, False)
                or (sentence.asks and (not _STATEMENT.search(piece) or bool(_ASKS_INSIDE.search(piece))))
            )
            found.append(Part(piece, start, end, asks))
    return found if len(found) > 1 else []


# --- cues ---------------------------------------------------------------------------------------

# A follow-up leans on the previous turn: it opens with "and ...", "what about ...", or refers back.
# ... and in Spanish, folded ("¿y qué tal el de 2021?", "¿eso es gratis?", "¿y cuánto dieron ese
# año?"). Not "el"/"la"/"este"/"esta": folded, they are also "the", "east" and "is".
_FOLLOW_UP_OPENER = re.compile(
    r"^(?:ok(?:ay)?|so|oh|cool|great|thanks|thank you|right|hmm|vale|bueno|oye|ah|listo|perfecto|gracias)?[,\s]*"
    r"(?:and|also|what about|how about|and what about|and how about|what of|plus|but|then|"
    r"same for|same question for|ok and|so what about|"
    r"y|tambien|y que hay de|que hay de|y que tal|que tal|y sobre|y en cuanto a|pero|entonces|"
    r"lo mismo para|la misma pregunta para|y para)\b"
)
_REFERS_BACK = re.compile(
    r"\b(?:it|its|that|this|they|them|their|theirs|there|those|these|he|she|him|her|his|hers|"
    r"that one|this one|the same|same one|the other one|the one|which one|one|"
    r"eso|esa|ese|esos|esas|ello|ellos|ellas|les|aquello|lo mismo|los mismos|ahi|alli)\b"
)
# A bare "why?", "on what?": more of what was just said, which its answer tells.
_ONLY_ASKS_BACK = re.compile(
    r"^(?:(?:but|and|so|ok|okay|hmm|y|pero|entonces) )?(?:why|how come|what for|for what reason|on what|"
    r"about what|like what|such as|in what way|how so|meaning|since when|"
    r"por que|para que|como asi|en que sentido|desde cuando|sobre que|como cuales)(?: so| exactly| then| exactamente)?$"
)
# "no, I meant ...", "not that, the postal one": the visitor corrects the last answer.
CORRECTION = re.compile(
    r"^(?:(?:no+|nope|nah|wrong|not that(?: one)?|not this(?: one)?|not what i (?:meant|asked)|"
    r"that is not (?:it|what i (?:meant|asked))|sorry|actually|oops)(?: wait| hold on)?\b[,.!\s]*)+"
    r"(?:i (?:meant|mean|wanted|asked(?: for| about)?)|i was asking(?: about| for)?|"
    r"what i (?:meant|want) (?:is|was))?[,:\s]*"
    r"|^i (?:meant|mean)\b[,:\s]*"
)


# "can I talk to a human?", "is there an actual person I can e-mail?", "get me a live agent".
_A_PERSON = re.compile(
    r"\b(?:humans?(?: beings?)?|(?:real|live|actual) (?:person|people|human|agent|someone)|"
    r"(?:a|an|some|one) (?:(?:cops|cops office|response center|real|live|actual|human) )?(?:person|agent|representative|rep|operator|staff member|employee|staffer)|"
    r"(?:hand|pass|transfer|forward|escalate|connect|put) (?:this (?:chat|conversation|question) |the (?:chat|conversation) |my (?:call|question|chat) |me )(?:over |through )?(?:to|with)|"
    r"(?:someone|somebody) (?:real|human|live)|real people|live chat|not a (?:bot|robot|machine|chatbot)|"
    r"(?:someone|somebody) (?:who|that) (?:knows|actually knows|can actually help|understands)|"
    r"reach (?:anyone|anybody|someone|somebody|a human))\b"
)
_IN_PERSON = re.compile(r"\bin person\b")
_TO_REACH = re.compile(
    r"\b(?:talk|speak|chat|reach|contact|email|e-mail|call|write|get|connect|transfer|put me through|"
    r"rather|want|need|prefer|please|is there|are there|can i|could i|may i|let me)\b"
)
_ONLY_A_PERSON = re.compile(r"^(?:a |an |the )?(?:humans?|person|agent|operator|representative|rep)$")
# "who can explain our options?": someone to help, not a fact.
_WHO_CAN_HELP = re.compile(
    r"^(?:\w+ )?who (?:can|could|would|will|should|do|does) (?:i |we )?"
    r"(?:(?:ask|call|phone|ring|contact|talk to|speak (?:to|with)|email|write to)(?: to)? )?"
    r"(?:(?:explain|help|walk (?:me|us) through|advise|go over|talk (?:me|us) through|understand|discuss|figure out)\b|"
    r"tell (?:me|us)(?: that| this| then)?\W*$|answer (?:that|this|it|me)\W*$)"
)


def asks_for_a_person(normalized: str) -> bool:
    """Whether the visitor asks to reach a person rather than the assistant."""
    text = _IN_PERSON.sub(" ", normalized)
    if _ONLY_A_PERSON.match(" ".join(words(text))) or _WHO_CAN_HELP.match(text):
        return True
    return bool(_A_PERSON.search(text)) and bool(_TO_REACH.search(text))


_THE_REST = re.compile(
    r"\b(?:general|everything else|anything else|other (?:questions|things|stuff)|not (?:press|media)|"
    r"response cent(?:er|re)|rc|main (?:line|number|office)|regular (?:line|number))\b"
)


def asks_of_the_rest(normalized: str) -> bool:
    """Whether a follow-up asks about everything but the last answer's subject: "and for general
    questions?" after the press contacts wants the Response Center's, as does "response center
    phone?"."""
    return bool(_THE_REST.search(normalized))


_COMPARES = re.compile(
    r"\bwhich (?:one |year |conference |of them |of the two )?(?:was|were|had|got|drew|is) (?:the )?"
    r"(?:bigger|biggest|larger|largest|more|most|busier|busiest|better attended|smaller|smallest|fewer|less)\b"
    r"|\bcompare (?:them|the two|both)\b|\b(?:bigger|larger|busier|smaller) than\b"
)


def compares(normalized: str) -> bool:
    """Whether a follow-up compares what the conversation asked of two years: "which was bigger?"."""
    return bool(_COMPARES.search(normalized))


# What a question is asked of, by name, and the name a question of it is rewritten with: "and
# nasro?" after "when was the cops office created?" asks when NASRO was created. Longer names
# first: "cops hiring program" is no question of the COPS Office.
_SUBJECTS = [
    ("the cops hiring program", r"(?:the )?(?:cops )?hiring program|(?:the )?chp"),
    ("the school violence prevention program", r"(?:the )?school violence prevention program|(?:the )?svpp"),
    ("supporting safe schools", r"supporting safe schools"),
    ("the cops training portal", r"(?:the )?(?:cops )?training portal"),
    ("the response center", r"(?:the )?(?:cops )?response center|(?:the )?rc"),
    ("the press office", r"(?:the )?(?:press|media)(?: office| line| people)?|public affairs"),
    ("the community policing dispatch", r"(?:the )?(?:community policing )?dispatch|(?:the )?newsletter"),
    ("nasro", r"nasro|(?:the )?national association of school resource officers"),
    ("the cops office", r"(?:the )?cops(?: office)?|(?:the )?office of community oriented policing services"),
    ("the basic course", r"(?:the )?basic(?: sro)?(?: course| class| training| one)?"),
    ("the advanced course", r"(?:the )?advanced(?: sro)?(?: course| class| training| one)?"),
    (
        "the supervisors course",
        r"(?:the )?(?:supervisors?|supervisor s|management)(?: and management)?(?: course| class| training| one)?",
    ),
]
_A_NAMED_SUBJECT = re.compile(
    r"\b(?:" + "|".join(f"(?P<s{index}>{pattern})" for index, (_, pattern) in enumerate(_SUBJECTS)) + r")\b"
)
# "and nasro?", "what about for the press?", "and the advanced one then?"
_ONLY_A_SUBJECT = re.compile(
    r"^(?:(?:ok|okay|so|and|but|hmm|what|how) )*(?:about |of )?(?:for |with )?(?P<subject>.+?)(?: s)?"
    r"(?: then| too| as well| instead)?$"
)


def _subjects_named(normalized: str) -> List[Tuple[int, int, int]]:
    """Each subject named: (its index in _SUBJECTS, start, end)."""
    found = []
    for match in _A_NAMED_SUBJECT.finditer(normalized):
        index = next(int(name[1:]) for name, value in match.groupdict().items() if value is not None)
        found.append((index, match.start(), match.end()))
    return found


def only_a_subject(normalized: str) -> Optional[int]:
    """The subject a follow-up names and nothing else ("and nasro?"), as its index in _SUBJECTS."""
    match = _ONLY_A_SUBJECT.match(normalized.replace("'", " ").strip())
    if not match:
        return None
    named = _subjects_named(match.group("subject"))
    if len(named) == 1 and named[0][1] == 0 and named[0][2] == len(match.group("subject")):
        return named[0][0]
    return None


def asked_of(question: str, subject: int) -> Optional[str]:
    """The question (normalised) asked of another subject: "when was nasro founded" of the COPS
    Office is "when was the cops office founded". None when it names no one subject, or that one."""
    named = _subjects_named(question)
    if len({index for index, _, _ in named}) != 1 or named[0][0] == subject:
        return None
    _, start, end = named[0]
    return question[:start] + _SUBJECTS[subject][0] + question[end:]


def refers_back(normalized: str) -> bool:
    """Whether a message says it leans on the one before: "and ...", "what about ...", "it"."""
    return bool(_FOLLOW_UP_OPENER.match(normalized)) or points_back(normalized)


# "... mentioned an MOU - what's that about?": a sentence asking only what the one before named.
_WHAT_THAT_IS = re.compile(
    r"^(?:(?:so|and|ok|okay|but|hmm|um|sorry) )*(?:what|wat|wht) (?:is|was|does) (?:that|this|it)"
    r"(?: thing)?(?: (?:about|mean|for|exactly|again|all about))?$"
)


def asks_what_that_is(normalized: str) -> bool:
    """Whether a sentence asks only what the one before it named: "what's that about?"."""
    return bool(_WHAT_THAT_IS.match(normalized))


def only_asks_back(normalized: str) -> bool:
    """Whether a message only asks more of the answer before it: "why?", "on what?"."""
    return bool(_ONLY_ASKS_BACK.match(normalized))


_ONLY_AN_ASKING_WORD = re.compile(
    r"^(?:(?:and|so|ok|okay|but|then|y|pero|entonces) )?" + _ONE_ASKING_WORD + r"(?: (?:then|exactly|again))?$"
)


def only_an_asking_word(normalized: str) -> bool:
    """Whether a message is a bare "where?", "and when?", "how many?": it names nothing, so it can
    only ask of the conversation's subject."""
    return bool(_ONLY_AN_ASKING_WORD.match(normalized))


def points_back(normalized: str) -> bool:
    """Whether a message names what it asks about only by pointing back: "it", "they", "that one"."""
    return bool(_REFERS_BACK.search(normalized))


# What a question may be about, named: a message of a few words naming none of these ("how much
# money in 2018?") asks about the conversation's subject.
_A_SUBJECT = re.compile(
    r"\b(?:nasro|cops|sros?|school resource officers?|officers?|police|conference|conf|convention|svpp|chp|"
    r"hiring|dispatch|newsletter|portal|courses?|training|response center|rc|director|keith|pruitt|coach|"
    r"grants?|triad|certification|mou|lifeline|988|911|press|media|email|e mail|phone|number|address|"
    r"schools?|students?|kids|program|programs|office|website|link|doj|justice|vcpi|grants gov|justgrants)\b"
)


def names_a_subject(normalized: str) -> bool:
    """Whether a message names what it asks about ("is the portal free?"), rather than leaving it
    to the conversation ("is it free?")."""
    return bool(_A_SUBJECT.search(normalized))


# What a follow-up of the safety answer may name and still ask of the Lifeline: "is that number
# free?", "does it work for kids at my school too?"
_OF_THE_LIFELINE = re.compile(
    r"\b(?:lifeline|988|911|number|phone|line|text|call|hotline|crisis line|schools?|"
    r"students?|kids|police|officers?|sros?|school resource officers?)\b"
)


def names_a_subject_besides_the_lifeline(normalized: str) -> bool:
    """Whether a message after the safety answer names a subject of its own ("what was that hiring
    program you mentioned?") rather than asking more of the 988 Lifeline."""
    return names_a_subject(_OF_THE_LIFELINE.sub(" ", normalized))


# A few words: the most a follow-up without a subject of its own has.
FEW_WORDS = 6


def is_follow_up(normalized: str) -> bool:
    """Whether a message leans on the one before: it says so, or is too short to say what it is
    about, or names no subject of its own in a few words."""
    count = len(words(normalized))
    return refers_back(normalized) or count <= 4 or (count <= FEW_WORDS and not names_a_subject(normalized))


def correction(normalized: str) -> Optional[str]:
    """What the visitor meant, when the message corrects the last answer ("no, i meant the
    phone" -> "the phone"); None when it is not a correction or says nothing more than "no"."""
    match = CORRECTION.match(normalized)
    if not match or not match.group(0).strip():
        return None
    rest = _NOT_THAT.sub("", normalized[match.end() :]).strip()
    if _SOFT_OPENER.match(match.group(0)) and _QUESTION_START.match(rest):
        # "actually how do I change my preferences later?" asks a question of its own: it takes
        # nothing back ("sorry, I meant the phone" and "no, what's the email?" do).
        return None
    return rest or None


_SOFT_OPENER = re.compile(r"^(?:(?:sorry|actually|oops)[,.!\s]*)+$")


# "... the general line, not press": what the correction is not about is no part of what it asks.
_NOT_THAT = re.compile(r",?\s*\b(?:not|rather than|instead of) (?:the |that |this )?[\w ]{1,30}$")


# --- years --------------------------------------------------------------------------------------

# Besides a year written out: "'21", "nasro 21", and what the facts tell of one conference's number
# (2021's was the 31st), form (2020's was held online: "the virtual one") or town ("the one in
# Orlando").
_YEAR = re.compile(
    r"\b(?:19[89]\d|20[0-4]\d)\b|'(\d\d)\b"
    r"|(?<=\bnasro )(19|2[0-5])\b(?! ?(?:hours?|hrs|people|ppl|%|percent|officers|sros|days|minutes|states))"
    r"|\b(?P<ordinal>31st)(?= (?:annual |nasro |national )*(?:conference|conf|convention|one)\b|\W*$)"
    r"|(?<=\bthe )(?P<form>virtual|online)(?= (?:one|nasro conference|conference|conf|convention)\b)"
    r"|(?:(?<=\bin )|(?<=\bthe ))(?P<town>orlando|pigeon forge)\b"
)
_YEAR_OF_A_NAME = {"31st": 2021, "virtual": 2020, "online": 2020, "orlando": 2021, "pigeon forge": 2019}


def _year_of(match: re.Match) -> int:
    if match.group("ordinal") or match.group("form") or match.group("town"):
        return _YEAR_OF_A_NAME[match.group(0)]
    short = match.group(1) or match.group(2)
    return 2000 + int(short) if short else int(match.group(0))


_COUNT = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "couple of": 2}
_N_YEARS = r"(?P<count>a|one|two|three|four|five|couple of|[1-5]) (?:years?|yrs?)"
_NEXT_YEAR = re.compile(
    r"\b(?:the )?(?:next|following|subsequent) year\b|\bthe year after\b|\b"
    + _N_YEARS
    + r" (?:later|after(?:wards)?|on)\b"
)
_PREVIOUS_YEAR = re.compile(
    r"\b(?:the )?(?:previous|preceding|prior) year\b|\bthe year before\b|\b" + _N_YEARS + r" (?:earlier|before|prior)\b"
)
# In a follow-up, "the next one" is next year's conference; asked afresh it means the upcoming one.
_NEXT_ONE = re.compile(r"\b(?:the )?(?:next|following) (?:one|conference)\b|\bthe one after\b")
_PREVIOUS_ONE = re.compile(r"\b(?:the )?(?:previous|last|prior) (?:one|conference)\b|\bthe one before\b")


def year_mentioned(
    text: str, context_year: Optional[int], relative_ones: bool = False
) -> Optional[Tuple[Optional[int], int, int]]:
    """(year, start, end) of the year a lower-case text names; "the next year", "the year before"
    (and, with `relative_ones`, "the next one") are counted from `context_year`, and are None when
    that is unknown. None if no year is named."""
    match = _YEAR.search(text)
    if match:
        return _year_of(match), match.start(), match.end()
    relative = [(_NEXT_YEAR, 1), (_PREVIOUS_YEAR, -1)]
    if relative_ones:
        relative += [(_NEXT_ONE, 1), (_PREVIOUS_ONE, -1)]
    for pattern, direction in relative:
        match = pattern.search(text)
        if match:
            count = match.groupdict().get("count")
            step = direction * (int(count) if count and count.isdigit() else _COUNT.get(count, 1))
            return (None if context_year is None else context_year + step), match.start(), match.end()
    return None


def years_named(text: str) -> List[int]:
    """Every year a lower-case text writes out, in order, each once: "2019 or 2021" -> [2019, 2021]."""
    found = [_year_of(match) for match in _YEAR.finditer(text)]
    return list(dict.fromkeys(found))


def names_a_year(text: str) -> bool:
    """Whether the text writes out a year ("2020", "'21"), rather than "the next year"."""
    return bool(_YEAR.search(text))


def without_year(normalized: str) -> str:
    """The message with its year (or "the next year") taken out: what else it asks."""
    for pattern in (_YEAR, _NEXT_YEAR, _PREVIOUS_YEAR, _NEXT_ONE, _PREVIOUS_ONE):
        normalized = pattern.sub(" ", normalized)
    return " ".join(normalized.split())
