"""The conversation's language, English or Spanish: every reply is given in it.

The slot `language` holds it (unset is English). This component sets it, through the entity
`language`, when a message shows that the visitor wants the other one:
- the visitor asks for a language ("English please", "¿habla español?", "espanol"): the intent
  `switch_language`, which the classifier learns from data/nlu/; a message that is only a
  language's name gets that intent here, whatever the classifier made of it;
- the message is written in the other language (`language_of`);
- the client names one in the message's metadata ({"language": "es"}: the web page's language, a
  REST or socket.io client), the conversation has none yet, and the message does not say otherwise.
  (Later, the page's language may lag behind the conversation's: a visitor who wrote in Spanish on
  the English page and then types "ok" stays in Spanish.)
A message that says nothing about its language (a name, a number, "ok", "SRO?") leaves it as it is.

How a message's language is told: by the words that only one of the two languages writes (function
words, and the words visitors use for this assistant's subjects: "telefono", "escuela",
"capacitacion"), and by Spanish's own letters (ñ, accents, ¿ ¡). Measured against py3langid
(docs/spanish.md): on the held-out sets' short messages langid is wrong far more often ("telefono?"
is Italian to it, "nasro 2019 donde" Portuguese), and it cannot say "I don't know".

Spanish speakers in the U.S. write English words in Spanish sentences ("necesito el email"), so
one English word does not take a Spanish conversation back to English: that needs two, and more
English than Spanish. One Spanish word is enough the other way: an English speaker seldom writes one.
"""

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message

from components import text as visitor_text
from content.answers import QUESTIONS
from content.languages import LANGUAGE_SLOT

ENGLISH, SPANISH = "en", "es"
LANGUAGE = LANGUAGE_SLOT  # the entity fills the slot of the same name
SWITCH_INTENT = "switch_language"
# Decided by components/safety.py, never overruled here: a danger written as a language's name alone
# is still a danger. Its answer is in the language the safety check found it in, or else in the
# message's own.
SAFETY_INTENTS = {"emergency", "self_harm"}

# Not here: words English writes the same ("director", "son", "era", "sin", "con", "hay", "soy",
# "dale"), which tell neither language ("phil keith director dates", "my son").
SPANISH_WORDS = set(
    """
    el la los las del de que como cual cuales donde cuando quien quienes cuanto cuantos cuantas
    es esta estan estoy fue fueron sera un una unos unas por para sobre entre
    mi mis su sus tu yo usted ustedes nosotros se le les lo nos y o pero muy mas tambien ya
    puedo puede pueden podria necesito necesita quiero quisiera tengo tiene tienen hago hace hacen
    saber sabe gracias hola adios buenos buenas dias tardes noches favor porfa si claro vale bueno
    hablar habla hablas hablo hablan llamar comunicarme contactar ayuda ayudar ayudame
    informacion telefono numero correo electronico direccion oficina escuela escuelas colegio
    policia policias oficial oficiales agente agentes capacitacion entrenamiento curso cursos
    conferencia congreso programa programas subvencion subvenciones fondos financiamiento solicitar
    solicitud pagina enlace horario horarios persona alguien hijo hija hijos peligro emergencia
    ano anos directora asociacion nacional estado estados gratis gratuito gratuitos
    cuesta paga pagan quienes boletin noticias suscribirme prensa periodista
    espanol ingles saludos chao hasta luego pronto vemos grasias amable eres correcto
    significa pasame dime digame oye q nop
    """.split()
)
ENGLISH_WORDS = set(
    """
    the an is are was were what whats how who where when why which do does did can could would
    should will you your my our i im to of for with about and this that it its have has had
    please thanks thank hello hi hey need want get there their they we us from at on in
    phone number email address office school schools police officer officers training trained
    conference program programs grant grants apply funding funded link page hours open person
    someone talk call help yes yeah bye goodbye much many people year held happen happened
    """.split()
)
# Written only in Spanish: one is enough.
_SPANISH_LETTERS = re.compile(r"[ñ¿¡áéíóú]", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
# A change of language needs this much more evidence towards English than towards Spanish.
TO_ENGLISH_MIN_WORDS = 2

_LANGUAGE_NAMES = {SPANISH: r"spanish|espanol|castellano", ENGLISH: r"english|ingles"}
# "No hablo inglés", "I don't speak Spanish": the other one.
_CANNOT = re.compile(
    r"\b(?:no|not|dont|don t|cant|can t|cannot)\b.*\b(?:speak|hablo|habla|understand|entiendo|read|leo)\b"
)
# A message that is only a language's name, maybe with "please" or "in": a request for it.
_ONLY_A_NAME = re.compile(
    r"^(?:in |en |el )?(?:spanish|espanol|castellano|english|ingles)(?: (?:please|pls|por favor|porfa))?$"
)


def _fold(text: str) -> str:
    """components/text.py's folded form, punctuation as spaces: "¿Qué?" -> "que"."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", visitor_text.fold(text)).split())


def scores(text: str) -> Dict[str, int]:
    """How many of the message's words only English writes, and only Spanish (its letters count one)."""
    words = _WORD.findall(_fold(text))
    return {
        SPANISH: sum(word in SPANISH_WORDS for word in words) + (1 if _SPANISH_LETTERS.search(text) else 0),
        ENGLISH: sum(word in ENGLISH_WORDS for word in words),
    }


def language_of(text: str, current: Optional[str] = None) -> Optional[str]:
    """The language the message is written in, as far as it tells, for a conversation in `current`
    (None: English); None when it does not tell."""
    found = scores(text)
    if found[SPANISH] >= 1 and found[SPANISH] > found[ENGLISH]:
        return SPANISH
    needed = TO_ENGLISH_MIN_WORDS if current == SPANISH else 1
    if found[ENGLISH] >= needed and found[ENGLISH] > found[SPANISH]:
        return ENGLISH
    return None


def asked_for(text: str) -> Optional[str]:
    """The language a request to switch names ("english please" -> en, "no hablo ingles" -> es)."""
    folded = _fold(text)
    named = [language for language, pattern in _LANGUAGE_NAMES.items() if re.search(rf"\b(?:{pattern})\b", folded)]
    if len(named) != 1:
        return None
    if _CANNOT.search(folded):
        return SPANISH if named[0] == ENGLISH else ENGLISH
    return named[0]


def is_only_a_language_name(text: str) -> bool:
    return bool(_ONLY_A_NAME.match(_fold(text)))


def from_metadata(metadata: Any) -> Optional[str]:
    """The language a client names in a message's metadata ({"language": "es"}), if one it speaks."""
    if isinstance(metadata, dict):
        named = str(metadata.get(LANGUAGE) or "").lower()[:2]
        if named in (ENGLISH, SPANISH):
            return named
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageChooser(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageChooser":
        return cls()

    def process(self, messages: List[Message], tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        current = tracker.get_slot(LANGUAGE) if tracker is not None and LANGUAGE in tracker.slots else None
        for message in messages:
            chosen = self.choose(message, current)
            if chosen is not None and chosen != (current or ENGLISH):
                text = message.get(TEXT) or ""
                entities = [entity for entity in message.get(ENTITIES) or [] if entity.get("entity") != LANGUAGE]
                entities.append(
                    {
                        "entity": LANGUAGE,
                        "value": chosen,
                        "start": 0,
                        "end": len(text),
                        "extractor": LanguageChooser.__name__,
                        "confidence_entity": 1.0,
                    }
                )
                message.set(ENTITIES, entities, add_to_output=True)
        return messages

    @staticmethod
    def choose(message: Message, current: Optional[str]) -> Optional[str]:
        """The language the conversation goes on in after `message`, or None: no change."""
        if any(entity.get("entity") == LANGUAGE for entity in message.get(ENTITIES) or []):
            return None  # components/safety.py has chosen it
        text = message.get(TEXT) or ""
        if text.startswith("/"):
            # A button's payload: Rasa's RegexMessageHandler replaces its entities with the
            # payload's own ('/greet{"language": "es"}' names one that way).
            return None
        named_by_client = from_metadata(message.get(METADATA)) if current is None else None
        intent = (message.get(INTENT) or {}).get("name")
        if intent not in SAFETY_INTENTS and is_only_a_language_name(text):
            switched = {"name": SWITCH_INTENT, "confidence": 1.0}
            message.set(INTENT, switched, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [switched], add_to_output=True)
            message.data.pop(QUESTIONS, None)
            intent = SWITCH_INTENT
        if intent == SWITCH_INTENT:
            return asked_for(text)
        return language_of(text, current) or named_by_client
