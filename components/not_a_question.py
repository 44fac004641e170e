"""Recognises a message that is not a question in words, so that it gets no fact: markup, code,
JSON, web addresses, bare numbers, random keys, pasted e-mail headers, and text in a language the
assistant does not speak. The classifier reads any of these as *some* intent ("1234567890" once
got an answer about NASRO's 2021 conference); here they become `not_a_question` or
`other_language`, which domain/conversation.yml answers by asking for the question in words.

Other languages are told by their alphabet, or by py3langid (its model ships inside its wheel: no
download) when no English word is in the message and the classifier understands it poorly; Spanish
is let through (the safety check
reads it, and Spanish answers are planned).
"""

import json
import re
from typing import Any, Dict, List, Optional, Text

from py3langid.langid import MODEL_FILE, LanguageIdentifier
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components import text as visitor_text
from components.understanding import AS_WRITTEN, UNANSWERED
from content.answers import QUESTIONS

NOT_A_QUESTION, OTHER_LANGUAGE = "not_a_question", "other_language"
SPOKEN = {"en", "es"}
# A Spanish message shows some of these; langid alone confuses short Spanish with its neighbours.
# (Words Spanish shares with Portuguese or Italian, "que", "para", "como", "conferencia", are left out.)
SPANISH_WORDS = {
    "el",
    "los",
    "las",
    "del",
    "hay",
    "una",
    "mi",
    "mis",
    "estoy",
    "es",
    "muy",
    "pero",
    "donde",
    "cuando",
    "tengo",
    "tiene",
    "cual",
    "telefono",
    "correo",
    "hola",
    "gracias",
    "ayuda",
    "escuela",
    "quiero",
    "puedo",
    "necesito",
    "informacion",
    "usted",
    "ustedes",
    "cuales",
    "quien",
}

# Latin letters neither English nor Spanish writes (Portuguese ã ê ç, French è, Turkish ı ş ğ ...).
_NEITHER_ENGLISH_NOR_SPANISH = re.compile(r"(?![áéíóúüñÁÉÍÓÚÜÑ])[\u00C0-\u024F]")

# A message with one of these words is English, whatever langid makes of its other words.
# (Short words other languages write too, "a", "in", "is", "die", "was", "do", "we", are left out.)
ENGLISH_WORDS = {
    "the",
    "are",
    "what",
    "how",
    "who",
    "where",
    "when",
    "why",
    "which",
    "does",
    "did",
    "can",
    "could",
    "would",
    "should",
    "will",
    "you",
    "my",
    "your",
    "our",
    "for",
    "of",
    "with",
    "about",
    "and",
    "this",
    "that",
    "it",
    "have",
    "has",
    "please",
    "thanks",
    "thank",
    "hello",
    "need",
    "want",
    "get",
}

# A few of the commonest words of the languages written in the Latin alphabet that visitors may
# use: a message in one of them has some; made-up words ("blorp zanquiddle") have none, and go to
# "did you mean" like any message not understood.
OTHER_LANGUAGES_WORDS = set(
    """
le la les est et je vous des une pour avec qui quel quelle bonjour merci
der die das und ist ich sie wie nicht mit ein eine wo wann guten
il di che per sono con come dove quando buongiorno grazie
os um uma nao com do da onde ola obrigado
het een en van ik niet hoe wat waar
jest nie sie czy jak gdzie dzien
ya ni na wa kwa je apa dan yang saya ini bagaimana kapan
ang ng sa mga po paano ba bir ve ne nedir nasil nerede icin merhaba
och jag hur og er jeg hvordan hvor ja ei kuinka missa ahoj jsem kde
si este unde cum buna mikor hol hogy es zdravo kako gdje kada
""".split()
)

_PAYLOAD = re.compile(r"^/\w+(\{.*\})?$", re.DOTALL)
_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>|<!--|<!\[CDATA\[|<\?xml")
_BBCODE = re.compile(r"\[/?(?:b|i|u|s|url|img|quote|code|color|size|list)(?:=[^\]]*)?\]", re.IGNORECASE)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
# Markdown: a heading, bold, inline code or a fenced block.
_MARKDOWN = re.compile(r"^#{1,6}\s+\S|\*\*[^*\n]+\*\*|__[^_\n]+__|`[^`\n]+`|^```", re.MULTILINE)
_CODE = re.compile(
    r"\b(?:def|function|var|let|const|import|class|public static|return|elif|lambda)\b[^\n]*[(){}=:;]"
    r"|#include\b|console\.\w+\(|\bprint(?:f|ln)?\(|System\.out|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b|\bDROP TABLE\b|\bsudo\s|\brm -rf\b|\b(?:curl|wget|grep|chmod|ssh)\s+-?\S"
    r"|=>|\$\(|\becho \$|Traceback \(most recent call last\)|^\s*at [\w$.]+\(.*\)$"
    r"|\b\w+(?:Error|Exception)\b:|\b(?:INFO|WARN|WARNING|ERROR|DEBUG)\b[\]:]|^\d{4}-\d\d-\d\d[ T]\d\d:\d\d",
    re.MULTILINE,
)
_CODE_SYMBOLS = set("{}[]();=<>$\\|`^")
_URL = re.compile(
    r"(?:https?://|www\.|mailto:|data:\w+/[\w.+-]+;)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|gov|net|edu|io|us|uk|info|biz|co|me|ly|gl|app|dev)(?:/\S*)?\b",
    re.IGNORECASE,
)
# "what's copstrainingportal.org?" asks what the page is; "nasro.org or nasro.com?" which is right.
_ASKS_WHAT_IT_IS = re.compile(r"^\s*(?:(?:what(?:'s|s| is)|whats)\s+\??|(?:is it\s+)?or\s*\?)\s*$", re.IGNORECASE)
_KEY = re.compile(
    r"^(?=[A-Za-z0-9+/=_\-.:]*\d)(?=[A-Za-z0-9+/=_\-.:]*[A-Za-z])[A-Za-z0-9+/=_\-.:]{10,}$"
    # a password: letters, digits and signs in one word ("P@ssw0rd!2024")
    r"|^(?=\S*\d)(?=\S*[A-Za-z])(?=\S*[@!#$%^&*])[A-Za-z0-9@!#$%^&*+/=_\-.:]{8,}$"
    r"|^[0-9a-f]{16,}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    re.IGNORECASE,
)
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
_HEADER = re.compile(
    r"^\s*(?:from|to|cc|bcc|subject|date|sent|received|message-id|reply-to|return-path|mime-version|"
    r"content-type|content-transfer-encoding|importance|x-[\w-]+)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARDED = re.compile(r"-{3,}\s*(?:original message|forwarded message)\s*-{3,}", re.IGNORECASE)
# One header line is enough when it is one no visitor would write ("Message-ID: <...>").
_TECHNICAL_HEADER = re.compile(
    r"^\s*(?:message-id|received|return-path|mime-version|content-type|content-transfer-encoding|"
    r"x-[\w-]+|dkim-signature|in-reply-to|references|thread-topic|thread-index|content-language|"
    r"authentication-results|arc-[\w-]+|received-spf|delivered-to)\s*:|^\s*subject\s*:\s*(?:re|fw|fwd)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
# A pasted signature: a closing, then name and title lines, or a confidentiality notice.
_SIGNATURE = re.compile(
    r"\A\s*(?:best regards|kind regards|warm regards|regards|sincerely|respectfully|thanks|thank you|cheers)"
    r"\s*,?\s*\n|confidentiality notice|this e-?mail and any attachments",
    re.IGNORECASE,
)
_CSV = re.compile(r"^[^,\s]+(?:,[^,\s]*){3,}$", re.MULTILINE)
_THE_LINES = re.compile(r"\W*(?:988|911)\W*")
_PATH = re.compile(r"^(?:/|[a-zA-Z]:\\|~/|\./|\.\./)[\w./\\ -]+$")


def _mashed(word: str) -> bool:
    """Keyboard mashing: four or more keys in a row of the keyboard, or no vowel in a long word."""
    if not word.isascii():
        return False
    if len(word) >= 5 and not re.search(r"[aeiouy]", word):
        return True
    return any(
        word[i : i + 4] in row or word[i : i + 4] in row[::-1] for row in _KEYBOARD_ROWS for i in range(len(word) - 3)
    )


def _words(text: str) -> List[str]:
    return re.findall(r"[^\W\d_]{2,}", text)


class InputKind:
    """What a message is, when it is not a question in words."""

    def __init__(self) -> None:
        # The model the package ships (a file inside its wheel).
        self.languages = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)

    def of(self, text: str, understood: float = 0.0) -> Optional[str]:
        stripped = text.strip()
        if not stripped:
            return None  # the channels answer an empty message themselves
        if (
            _TAG.search(stripped)
            or _BBCODE.search(stripped)
            or len(_TABLE_ROW.findall(stripped)) >= 2
            or len(_MARKDOWN.findall(stripped)) >= 2
        ):
            return NOT_A_QUESTION
        symbols = sum(char in _CODE_SYMBOLS for char in stripped)
        if _CODE.search(stripped) or (symbols >= 3 and symbols / len(stripped) > 0.08):
            return NOT_A_QUESTION
        if stripped[0] in "{[" and self._is_json(stripped):
            return NOT_A_QUESTION
        if (
            len(_HEADER.findall(stripped)) >= 2
            or _FORWARDED.search(stripped)
            or _TECHNICAL_HEADER.search(stripped)
            or _SIGNATURE.search(stripped)
        ):
            return NOT_A_QUESTION
        if _CSV.fullmatch(stripped) or _PATH.match(stripped):
            return NOT_A_QUESTION
        around_urls = _URL.sub(" ", stripped)
        if len(_words(around_urls)) < 2 and _URL.search(stripped) and not _ASKS_WHAT_IT_IS.match(around_urls):
            return NOT_A_QUESTION
        tokens = stripped.split()
        plain = [token for token in tokens if not _KEY.match(token.strip(".,;!?\"'"))]
        if len(plain) < len(tokens) and len(_words(" ".join(plain))) < 2:
            return NOT_A_QUESTION
        words = _words(stripped)
        if _THE_LINES.fullmatch(stripped):
            return None  # "988?" names the Lifeline, "911" the emergency line: the words of a question
        if not words:
            # Digits, dates, amounts, emoji, punctuation: no word to read. A lone letter is a word
            # ("y", "k"), answered by the classifier.
            return None if re.fullmatch(r"[A-Za-z]\W*", stripped) else NOT_A_QUESTION
        if all(_mashed(word.lower()) for word in words):
            return NOT_A_QUESTION
        return OTHER_LANGUAGE if self._other_language(stripped, words, understood) else None

    @staticmethod
    def _is_json(text: str) -> bool:
        try:
            json.loads(text)
            return True
        except ValueError:
            return bool(re.search(r"\"\s*:\s*|:\s*\"|\[\s*\{", text))

    def _other_language(self, text: str, words: List[str], understood: float) -> bool:
        letters = [char for char in text if char.isalpha()]
        if sum(ord(char) > 0x24F for char in letters) > len(letters) / 2:
            return True  # not written in the Latin alphabet
        if sum(0x1E00 <= ord(char) <= 0x1EFF for char in letters) >= 2:
            return True  # Vietnamese: letters neither English nor Spanish has
        folded = set(re.findall(r"[a-z]+", visitor_text.fold(text)))
        if (
            len(words) >= 3
            and _NEITHER_ENGLISH_NOR_SPANISH.search(text)
            and not folded & (SPANISH_WORDS | ENGLISH_WORDS)
        ):
            # "conferência", "numarası": however well the classifier, which knows Spanish, reads
            # the words it shares with Spanish, the language is another; langid says which.
            language, probability = self.languages.classify(text)
            return language not in SPOKEN and probability >= 0.9
        # Short messages, messages with an English or Spanish word, and messages the classifier
        # understands are English or Spanish: langid alone takes "nasro email address" for another.
        if len(words) < 3 or folded & SPANISH_WORDS or folded & ENGLISH_WORDS or understood >= 0.5:
            return False
        if not folded & OTHER_LANGUAGES_WORDS:
            return False
        language, probability = self.languages.classify(text)
        return language not in SPOKEN and probability >= 0.9


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NotAQuestionFilter(GraphComponent):
    def __init__(self) -> None:
        self.kind = InputKind()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "NotAQuestionFilter":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if _PAYLOAD.match(text.strip()):
                continue  # a button's payload
            guess = message.get(INTENT) or {}
            as_written = message.get(AS_WRITTEN)
            if as_written:
                name = max(as_written, key=as_written.get)
                guess = {"name": name, "confidence": as_written[name]}
            # Understood: read as a question the assistant answers (not as junk, off-topic, or the
            # facts it does not have, where words it cannot place end up).
            understood = (
                0.0
                if guess.get("name") in (NOT_A_QUESTION, OTHER_LANGUAGE, "out_of_scope", UNANSWERED)
                else guess.get("confidence", 0.0)
            )
            kind = self.kind.of(text, understood)
            if kind is not None:
                intent = {"name": kind, "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
                message.data.pop(QUESTIONS, None)
            elif (message.get(INTENT) or {}).get("name") in (NOT_A_QUESTION, OTHER_LANGUAGE):
                # The classifier's guess, overruled: the words are a question, whatever it is.
                ranking = [
                    entry
                    for entry in message.get(INTENT_RANKING_KEY) or []
                    if entry["name"] not in (NOT_A_QUESTION, OTHER_LANGUAGE)
                ]
                message.set(INTENT, ranking[0] if ranking else {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
