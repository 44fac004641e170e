"""The project's NLU components and policy, each on its own (no model, no server): how a text is
read, what the safety check and the not-a-question filter decide, how the conversation context
reads a follow-up, and which answers the policy gives to a message with two questions."""

import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUtteranceReverted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from components import conversation_context
from components import text as visitor_text
from components.conversation_context import ConversationContext
from components.every_question_policy import EveryQuestionPolicy, answers_from_rules
from components.not_a_question import NOT_A_QUESTION, OTHER_LANGUAGE, InputKind, NotAQuestionFilter
from components.safety import SafetyCheck
from components.spelling import Speller
from components.understanding import AS_WRITTEN, READINGS, Reading, Turn, context_text, last_answered, previous_turns

# --- reading a text ---------------------------------------------------------------------------------


def test_chat_speak_is_written_out():
    assert visitor_text.normalize("ph# 4 response ctr??") == "phone number for response center"
    assert visitor_text.normalize("whats ur email pls") == "what is your email please"
    assert visitor_text.normalize("Teléfono’s PLEEEASE") == "telefono's pleease"


def test_a_greeting_before_a_question_and_thanks_after_it_are_not_what_it_asks():
    assert visitor_text.without_courtesies("Hello, what is COPS?") == "what is COPS?"
    assert visitor_text.without_courtesies("my principal asked me to find the COPS phone. thx") == (
        "my principal asked me to find the COPS phone"
    )
    assert visitor_text.without_courtesies("ok great, thanks") == "ok great, thanks"
    assert visitor_text.without_courtesies("hi there") == "hi there"


def test_thanks_for_the_last_answer_before_a_follow_up_is_not_what_it_asks():
    assert visitor_text.without_courtesies("Thank you. And in writing?") == "And in writing?"
    assert visitor_text.without_courtesies("ok, and the hours?") == "and the hours?"
    # A rating or a goodbye is all the message says: it stays.
    assert visitor_text.without_courtesies("thanks, that helped") == "thanks, that helped"
    assert visitor_text.without_courtesies("Thanks! bye") == "Thanks! bye"


def test_the_classifier_reads_2019_and_other_years_as_two_words():
    assert visitor_text.classifier_form("who opened it in 2019") == "who opened it in yearnineteen"
    assert visitor_text.classifier_form("and in 2021 or '22?") == "and in yearnumber or yearnumber"


def test_sentences_and_the_questions_a_sentence_joins():
    found = visitor_text.sentences("I've tried all week. Nobody answers. What's the number?")
    assert [sentence.asks for sentence in found] == [False, False, True]
    parts = visitor_text.parts(visitor_text.sentences("what's the email and the phone number?")[0])
    assert [part.text for part in parts] == ["what's the email", "the phone number"]
    assert all(part.asks for part in parts)


def test_a_part_that_tells_something_does_not_ask():
    sentence = visitor_text.sentences("I'm a vice principal, how do I reach COPS?")[0]
    assert [(part.text, part.asks) for part in visitor_text.parts(sentence)] == [
        ("I'm a vice principal", False),
        ("how do I reach COPS", True),
    ]
    # A question word inside asks, however the part is worded ("is founded which year").
    sentence = visitor_text.sentences("NASRO is founded which year, and it has which website?")[0]
    assert [(part.text, part.asks) for part in visitor_text.parts(sentence)] == [
        ("NASRO is founded which year", True),
        ("it has which website", True),
    ]


def test_a_part_that_only_frames_the_question_does_not_ask():
    sentence = visitor_text.sentences("and for background, how many SROs has COPS funded?")[0]
    assert [(part.text, part.asks) for part in visitor_text.parts(sentence)] == [
        ("and for background", False),
        ("how many SROs has COPS funded", True),
    ]
    sentence = visitor_text.sentences("just curious, when was COPS created and what is NASRO?")[0]
    assert [part.asks for part in visitor_text.parts(sentence)] == [False, True, True]


def test_the_last_sentence_asks_when_none_does_but_not_a_closing():
    found = visitor_text.sentences("I've been on your site for an hour. JUST GIVE ME THE NUMBER")
    assert [sentence.asks for sentence in found] == [False, True]
    letter = visitor_text.sentences("Kindly indicate the length of the course. With kind regards.")
    assert [sentence.asks for sentence in letter] == [True, False]


def test_a_name_with_and_in_it_is_one_question():
    sentence = visitor_text.sentences("is the Crisis Prevention and Response training free?")[0]
    assert visitor_text.parts(sentence) == []
    sentence = visitor_text.sentences("is the training free and where is it?")[0]
    assert [part.text for part in visitor_text.parts(sentence)] == ["is the training free", "where is it"]


def test_misspellings_are_corrected_towards_the_training_words():
    speller = Speller.from_texts(
        [
            "when is the response center open",
            "response center phone",
            "the link to nasro",
            "send me the link",
            "when is it open",
        ]
    )
    assert speller.correct("when is the respons centr open") == "when is the response center open"
    # Short words are left alone: "sro" one letter off "pro" is no misspelling.
    assert speller.correct("wen is it opn") == "wen is it opn"
    # No word of it is known: another language, left as written ("lini" is one letter off "link").
    assert speller.correct("mkutano utafanyika lini") == "mkutano utafanyika lini"


@pytest.mark.parametrize(
    "message, follow_up",
    [
        ("and who opened it?", True),
        ("what about by post?", True),
        ("where?", True),
        ("how long has it existed?", True),
        ("what is the phone number of the response center", False),
    ],
)
def test_follow_ups_are_told_from_questions_that_stand_alone(message, follow_up):
    assert visitor_text.is_follow_up(visitor_text.normalize(message)) is follow_up


@pytest.mark.parametrize(
    "message, leans",
    [
        ("y cuanto dinero dieron ese ano", True),
        ("y si les quiero mandar comentarios", True),
        ("eso es gratis", True),
        ("que es la oficina cops y cual es su telefono principal", False),
    ],
)
def test_a_spanish_follow_up_says_it_leans_on_the_answer_before(message, leans):
    assert visitor_text.refers_back(visitor_text.normalize(message)) is leans


@pytest.mark.parametrize(
    "message, asks",
    [
        ("hasta cuando estuvo", True),
        ("¿Cuándo fue la conferencia", True),
        ("me pueden dar el correo", True),
        ("eso me sirvió", False),
        ("gracias", False),
    ],
)
def test_a_spanish_question_asks_without_its_question_marks(message, asks):
    assert visitor_text.asks(message) is asks


def test_a_correction_gives_what_the_visitor_meant():
    assert visitor_text.correction(visitor_text.normalize("no, I meant the postal address")) == "the postal address"
    assert visitor_text.correction(visitor_text.normalize("not that, the email one")) == "the email one"
    assert (
        visitor_text.correction(visitor_text.normalize("no i meant the general line, not press")) == "the general line"
    )
    assert visitor_text.correction(visitor_text.normalize("no")) is None
    assert visitor_text.correction(visitor_text.normalize("where was it")) is None
    # "actually" before a question of its own takes nothing back.
    assert visitor_text.correction(visitor_text.normalize("actually how do I change my preferences later")) is None
    assert visitor_text.correction(visitor_text.normalize("actually, the postal one")) == "the postal one"
    assert visitor_text.correction(visitor_text.normalize("no, what is the email")) == "what is the email"


def test_years_named_and_counted_from_the_conversation():
    assert visitor_text.year_mentioned("how many came in 2021", 2019)[0] == 2021
    # What the facts say of a conference names its year: 2021's was the 31st, 2020's was online.
    assert visitor_text.year_mentioned("where was the 31st nasro conference", None)[0] == 2021
    assert visitor_text.year_mentioned("which nasro conference was the 31st?", None)[0] == 2021
    assert visitor_text.year_mentioned("he finished 31st in the race", None) is None
    assert visitor_text.year_mentioned("nasro 21 in florida right", None)[0] == 2021
    assert visitor_text.year_mentioned("when was the virtual one", None)[0] == 2020
    assert visitor_text.year_mentioned("no, i meant the other one, in orlando", 2019)[0] == 2021
    assert visitor_text.year_mentioned("the nasro 40 hour course", None) is None
    assert visitor_text.year_mentioned("are the online courses free", None) is None
    assert visitor_text.year_mentioned("and the next year?", 2019)[0] == 2020
    assert visitor_text.year_mentioned("and the year before?", 2021)[0] == 2020
    assert visitor_text.year_mentioned("when is the next conference", 2019) is None
    assert visitor_text.year_mentioned("and the next one?", 2019, relative_ones=True)[0] == 2020
    assert visitor_text.year_mentioned("and two years later?", 2019)[0] == 2021
    assert visitor_text.year_mentioned("3 yrs earlier", 2019)[0] == 2016


# --- the safety check ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def safety() -> SafetyCheck:
    return SafetyCheck.create({}, None, None, None)


@pytest.mark.parametrize(
    "message, verdict, language",
    [
        ("THERES A GUY WITH A GUN IN THE GYM", "emergency", "en"),
        ("whats the phone number? also someone is kicking in my front door right now", "emergency", "en"),
        ("i want to report an emergency", "emergency", "en"),
        ("my 7 year old is missing, she was in the yard a minute ago", "emergency", "en"),
        ("i dont want to be alive anymore", "self_harm", "en"),
        ("what's the point, everyone would be better off without me", "self_harm", "en"),
        ("hay un hombre armado afuera de la escuela", "emergency", "es"),
        ("ya no quiero vivir", "self_harm", "es"),
        ("where do i send the form, my neighbor is outside with a gun", "emergency", "en"),
        ("my sister is being beaten by her boyfriend", "emergency", "en"),
        ("a truck hit me with its mirror, no, a guy hit me with his car", "emergency", "en"),
        ("we just heard shots outside the gym", "emergency", "en"),
        ("he swallowed a whole bottle of sleeping pills", "self_harm", "en"),
        (
            "my brother ran off last night and hasnt answered his phone, we think something happened to him",
            "emergency",
            "en",
        ),
        ("how many tylenol does it take to die", "self_harm", "en"),
        ("I'm an SRO and since a call last week I keep thinking about killing myself", "self_harm", "en"),
        ("where is the training page, and also my daughter has been missing since this morning", "emergency", "en"),
        ("she has given away all her things and left notes for her friends", "self_harm", "en"),
        ("my mom's boyfriend touches me when she is at work", "emergency", "en"),
        ("my friend just told me he plans to hang himself after school", "self_harm", "en"),
        ("I have been saving up my tablets since my wife died last year", "self_harm", "en"),
        ("cant brethe chest tight arm numb", "emergency", "en"),
        ("how do I report a threat against my kid's school", "emergency", "en"),
        ("everything feels pointless and i have my meds stashed", "self_harm", "en"),
        ("whats the number for the cops, theres a fight with knives outside the bar", "emergency", "en"),
        (
            "I'm filling in our JustGrants application and my husband came home drunk and is hitting me",
            "emergency",
            "en",
        ),
        (
            "can the response center help, since a man grabbed a 6 year old from the park 5 minutes ago?",
            "emergency",
            "en",
        ),
        ("my 12 year old is texting a grown man online who says he will pick her up tonight", "emergency", "en"),
        ("my little brother fell in the lake and did not come back up", "emergency", "en"),
        ("no point in waking up tomorrow", "self_harm", "en"),
        ("I'm an SRO and lately I keep looking at my service weapon differently", "self_harm", "en"),
        ("before my question, I've been thinking about ending things", "self_harm", "en"),
        ("i want to end my lfe", "self_harm", "en"),
        ("what number do i call if someone is suicidal", "self_harm", "en"),
        ("I'm a parent and I just found a note from my 14 yo saying goodbye. what do i do", "self_harm", "en"),
        ("im done. goodbye", "self_harm", "en"),
        (
            "I'm writing a CHP application but I need to stop - someone just threw a brick through our front office window",
            "emergency",
            "en",
        ),
        ("Should I call 911 or the COPS Office if someone threatens my school?", "emergency", "en"),
        ("i want to dissapear forever theres no point anymore", "self_harm", "en"),
        ("I'm an SRO. After what I saw on a call last week I keep thinking about eating my gun.", "self_harm", "en"),
        ("5 yr old missing at the county fair, help", "emergency", "en"),
        ("missing 9 year old last seen near the school bus stop", "emergency", "en"),
        # Beside the look-alikes of a video shoot and of protecting kids from shooters:
        ("he says he wants to shoot the principal", "emergency", "en"),
        ("there's a shooter in the hallway right now, how do I protect the kids from him", "emergency", "en"),
        ("a guy is filming a video of the bomb he left by the gym", "emergency", "en"),
        ("sorry. truthfully im not a reporter, I just feel like ending everything", "self_harm", "en"),
        ("who do i contact at COPS to report a threat against my school", "emergency", "en"),
        # Beside the look-alike of a child who loves toy guns:
        ("my 8 year old found a real gun in the closet and is playing with it", "emergency", "en"),
        ("me quitaron mis papeles y me obligan a trabajar sin pago, me encierran y no puedo irme", "emergency", "es"),
        # Asked whether this chat takes a report, and beside the look-alike of a student uneasy
        # about the school's new officer:
        ("can i report a threat to the cops office through this chat", "emergency", "en"),
        ("can I report a bomb threat here?", "emergency", "en"),
        ("im scared of him, he is outside my house right now", "emergency", "en"),
    ],
)
def test_a_danger_is_found_however_it_is_written(safety, message, verdict, language):
    assert safety.assess(message, []) == (verdict, language)


@pytest.mark.parametrize(
    "message",
    [
        "what does an SRO do during a lockdown?",
        "was there a session on crisis prevention and response at the conference?",
        "do SROs carry guns?",
        "this grant application is killing me, where do I start?",
        "I'm dying to know who opened the conference",
        "shoot me the link to nasro's site",
        "the supporting safe schools page is missing",
        "we had a bomb threat last year and now we want an SRO, how do we start?",
        "is there a course on suicide prevention for SROs?",
        "we gave away our old training binders to the library, is there a newer edition?",
        "what's the training link, and also our budget has been cut",
        "nothing urgent, but who can I ask about our grant report?",
        "finishing this application by friday will be murder, what's the deadline?",
        "our students are shooting for a perfect safety record, any programs?",
        "¿Hay cursos de prevención del suicidio para policías escolares?",
        "our department had budget cuts, can COPS help?",
        "if a student brings a knife to school, what does the SRO do?",
        "hit me with the link to the grant page",
        "I'm a bit hurt that nobody from the Response Center called me back. Is there an email I can try?",
        "something happened to my application, it vanished from JustGrants",
        "no one can find my email in your system",
        "I've been thinking about suicide prevention training for our district",
        "we want to get an SRO at our school",
        "wanna get the dispatch straight in my inbox every month",
        "It's an emergency, my application is due at 5 and JustGrants is down. Who do I call?",
        "I want to help prevent teen suicide in my district. Are there grants for that?",
        "the deadline snuck up on me and im panicking lol, how do i apply on grants.gov",
        "the Dispatch story about the conference really touched me",
        "What is the 988 Suicide & Crisis Lifeline and when did it start?",
        "For a training handout, should we tell students to call 911 or 988?",
        "Why do your answers tell people to call 911 first?",
        "we're printing posters for the hallway, can we put 988 next to 911?",
        "the cops hiring program - what's the point of it",
        "should I call 911 or the response center to ask about SRO funding?",
        "is there no point anymore in applying for chp?",
        "My son got into a fight at school. Will the SRO arrest him?",
        "ok I'm done for today, thanks, goodbye",
        "that topic did not come up at the conference",
        "she is planning to apply for the grant tonight",
        "how do I stop getting the newsletter emails, my inbox is drowning",
        "what's the 911 for funding questions, who do I call?",
        "My son wants to be a cop and protect kids from shooters. What exactly is an SRO?",
        "the SRO at my school is a bomb guy lol, he's great. how long is the basic course he took?",
        "We want to shoot a short video with our SRO for a school event; who handles press at COPS?",
        "My 8 year old loves toy guns and says he wants to be a school police officer. What's an SRO exactly?",
        "is there a training course on how schools should report threats?",
        "hi i'm 15 and our school just got a police officer and i'm kind of scared of him. is he allowed to arrest me for being late?",
        "my daughter is afraid of the school cops. is that normal?",
        "can students report a threat anonymously to the SRO?",
    ],
)
def test_a_question_about_such_things_or_an_idiom_is_no_danger(safety, message):
    assert safety.assess(message, []) == (None, None)


def message_with(text: str, intent: str, confidence: float, readings: List[Reading] = ()) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}, {"name": "what_is_sro", "confidence": 1 - confidence}],
    )
    message.set(READINGS, list(readings))
    return message


def test_the_safety_check_overrules_the_classifier_both_ways(safety):
    tracker = DialogueStateTracker.from_events("visitor", [])
    dangerous = message_with("someone just stabbed my brother", "conference_next", 0.9)
    harmless = message_with("what does an sro do in an emergency", "emergency", 0.6)
    safety.process([dangerous, harmless], tracker)
    assert dangerous.get("intent") == {"name": "emergency", "confidence": 1.0}
    # Read at 0.4 beside the emergency's 0.6, the answer is all that remains once there is none:
    # the fallback's threshold does not turn it into "did you mean".
    assert harmless.get("intent") == {"name": "what_is_sro", "confidence": 1.0}


def test_a_danger_in_spanish_sets_the_language_of_the_answer(safety):
    message = message_with("alguien disparo en la escuela", "out_of_scope", 0.5)
    safety.process([message], DialogueStateTracker.from_events("visitor", []))
    assert [(entity["entity"], entity["value"]) for entity in message.get("entities")] == [("language", "es")]


def test_the_classifier_alone_confirms_a_lesser_danger_only(safety):
    scared = Reading("whole", "i am scared", 0, 11, True, {"emergency": 0.6})
    assert safety.assess("i am scared", [scared]) == ("emergency", "en")
    polite = Reading("whole", "can you help me with the grant", 0, 30, True, {"emergency": 0.95})
    assert safety.assess("can you help me with the grant", [polite]) == (None, None)


# --- not a question ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kind() -> InputKind:
    return InputKind()


@pytest.mark.parametrize(
    "message, expected",
    [
        ('<div class="x">Contact us</div>', NOT_A_QUESTION),
        ("SELECT * FROM grants WHERE id = 1;", NOT_A_QUESTION),
        ('{"phone": "call me"}', NOT_A_QUESTION),
        ("https://example.org/page?id=1", NOT_A_QUESTION),
        ("1234567890", NOT_A_QUESTION),
        ("988??", None),
        ("911", None),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", NOT_A_QUESTION),
        ("From: a@example.org\nTo: b@example.org\nSubject: grant", NOT_A_QUESTION),
        ("asdfghjkl", NOT_A_QUESTION),
        ("Wie kann ich das Büro erreichen?", OTHER_LANGUAGE),
        ("电话号码是多少？", OTHER_LANGUAGE),
        ("what is the phone number?", None),
        ("¿cuál es el número de teléfono?", None),
        ("and 2021?", None),
        ("svpp $ 2018", None),
        ("P@ssw0rd!2024", NOT_A_QUESTION),
        ("Wat is het telefoonnummer van het kantoor?", OTHER_LANGUAGE),
        ("is it 24/7?", None),
        ("what is nasro.org?", None),
    ],
)
def test_what_is_no_question_in_words(kind, message, expected):
    assert kind.of(message) == expected


def test_another_language_is_judged_by_what_the_classifier_made_of_it_as_written():
    """The speller can turn a German question into words the classifier knows; whether the
    message is understood is decided on the words the visitor wrote."""

    def filtered(as_written):
        message = Message(data={"text": "Wie kann ich das Büro erreichen?"})
        message.set("intent", {"name": "ask_contact", "confidence": 0.9})
        message.set("intent_ranking", [{"name": "ask_contact", "confidence": 0.9}])
        if as_written:
            message.set(AS_WRITTEN, as_written)
        return NotAQuestionFilter().process([message])[0].get("intent")["name"]

    assert filtered({"out_of_scope": 0.7, "ask_contact": 0.3}) == OTHER_LANGUAGE
    assert filtered(None) == "ask_contact"


def test_a_sentence_that_tells_of_trouble_beside_an_understood_question(safety):
    text = "What is NASRO's website? My mom's face is drooping and she can't lift her arm."
    first = text.index("My")
    readings = [
        Reading("whole", text, 0, len(text), True, {"ask_link": 0.9}),
        Reading("sentence", text[: first - 1], 0, first - 1, True, {"ask_link": 0.95}),
        Reading("sentence", text[first:], first, len(text), False, {"out_of_scope": 0.6}),
    ]
    assert safety.assess(text, readings, understood=0.9) == ("emergency", "en")
    # "to die for" is an idiom ("a cake to die for"), but not "wanting to die for weeks".
    text = "been wanting to die for weeks. btw where is the nasro conference"
    first = text.index("btw")
    readings = [
        Reading("whole", text, 0, len(text), True, {"ask_link": 0.5}),
        Reading("sentence", text[: first - 2], 0, first - 2, False, {"self_harm": 0.4}),
        Reading("sentence", text[first:], first, len(text), True, {"conference_location": 0.9}),
    ]
    assert safety.assess(text, readings, understood=0.5) == ("self_harm", "en")


# --- the conversation's context ---------------------------------------------------------------------------

TOPICS = {
    "conference_attendance": "conference",
    "conference_location": "conference",
    "conference_openers": "conference",
    "ask_phone": "contact",
    "ask_address": "contact",
    "ask_email": "contact",
    "ask_link": "contact",
    "cops_created": "cops",
    "ask_svpp": "cops",
    "cops_director": "cops",
    "cops_sros_funded": "cops",
    "get_sro": "cops",
    "apply_grant": "cops",
    "ask_chp": "cops",
    "ask_988": "safety",
    "sro_training": "training",
    "state_certification": "training",
    "nasro_courses": "training",
    "sro_training_funding": "training",
    "sro_training_importance": "training",
}
YEARLY = ["conference_overview", "conference_location", "conference_openers", "conference_attendance"]


def reading(kind: str, text: str, probabilities: Dict[str, float]) -> Reading:
    return Reading(kind, text, 0, len(text), True, probabilities)


def conference_context(config: Dict[str, Any], *args: Any, **kwargs: Any) -> ConversationContext:
    """The component as trained on answers whose answer differs by conference year (YEARLY)."""
    return ConversationContext(config, None, None, *args, yearly=YEARLY, **kwargs)


def understood(
    text: str,
    readings: List[Reading],
    turns: List[Turn],
    year_slot=None,
    linked=(),
    topics=None,
    dated_intents=None,
    **config,
) -> Message:
    context = conference_context(config, topics or TOPICS, list(linked), dated=dated_intents)
    message = message_with(text, readings[0].top()["name"], readings[0].top()["confidence"], readings)
    context._understand(message, text, readings, turns, year_slot)
    return message


def test_every_detail_pattern_has_its_words_filled_in_and_compiles():
    details = conversation_context._details(Path(__file__).resolve().parent.parent / "components" / "details.yml")
    for name, detail in details.items():
        for key in ("asked", "answered"):
            assert not re.search(r"<\w+>", detail[key]), (name, key)
            re.compile(detail[key])
    assert re.search(details["by_place"]["asked"], "how many sros did cops fund in ohio")
    assert re.search(details["by_place"]["asked"], "how many sros did cops fund in my county")
    # A detail is asked only where the facts could not answer it: the SRO positions COPS funded
    # are counted nationwide, and CHP's MOU is required, but not every SRO in the country, nor a
    # state's law.
    for name, asking, asked in [
        ("nationwide_total", "how many school resource officers are there in the us total", True),
        ("nationwide_total", "how many sros has cops funded nationwide", False),
        ("mandate", "does texas require sro certification", True),
        ("mandate", "is an mou with the school required for chp", False),
        ("format", "does nasro offer the basic course online", True),
        ("requirements", "can a retired cop become an sro", True),
        ("response_time", "when will i hear back about my grant application", True),
        ("other_days", "who was the keynote speaker on day 2 of nasro 2019", True),
        ("other_days", "who opened the conference on the first day", False),
        ("research", "do sros actually work", True),
        ("amount_per_officer", "how much money does chp give per officer", True),
        ("salary", "what s the average salary of an sro", True),
        # Who pays an SRO's salary is who employs them, which the facts say.
        ("salary", "who pays the sro s salary the school or the police", False),
        ("year_of_it", "which year was that", True),
        ("grades", "hi im in 5th grade and my project is about police in schools", False),
        ("research", "who do sros work for", False),
        # What goes in the MOU is not in the facts; that one is needed is.
        ("mou_contents", "what do we have to include in the mou with the district", True),
        ("school_agreement", "what do we have to include in the mou with the district", False),
        ("dispatch_submissions", "does the dispatch accept articles from police departments", True),
        ("dispatch_submissions", "i want to pitch an idea to the dispatch editors, email?", False),
        ("other_speakers", "besides keith who spoke at the conference", True),
        ("other_speakers", "and who else opened it", False),
        ("training_subjects", "do sros get training on de escalation", True),
        ("training_subjects", "where do sros get trained in texas", False),
        ("audience", "who is that course for", True),
    ]:
        assert bool(re.search(details[name]["asked"], asking)) == asked, (name, asking)


def test_two_answers_about_equally_likely_get_the_one_that_holds_both():
    covering = {"ask_contact": ["ask_phone", "ask_email", "ask_hours", "ask_address"]}
    text = "contact number for doj community policing services"
    message = understood(
        text,
        [reading("whole", text, {"ask_phone": 0.47, "ask_contact": 0.46, "ask_press": 0.07})],
        [],
        covering_answers=covering,
    )
    assert message.get("intent")["name"] == "ask_contact"
    assert message.get("intent")["confidence"] > 0.9
    # One answer clearly likelier, or two that no answer holds both of: as the classifier read it.
    clear = understood(
        text, [reading("whole", text, {"ask_phone": 0.7, "ask_contact": 0.3})], [], covering_answers=covering
    )
    assert clear.get("intent")["name"] == "ask_phone"
    apart = understood(
        text,
        [reading("whole", text, {"ask_phone": 0.47, "ask_press": 0.46, "ask_contact": 0.07})],
        [],
        covering_answers=covering,
    )
    assert apart.get("intent")["name"] == "ask_phone"


@pytest.mark.parametrize(
    "asked, follow_up, same_question",
    [
        ("when was nasro founded?", "and cops?", "when was the cops office founded"),
        ("when was the cops office created", "what about NASRO's?", "when was nasro created"),
        ("how many hours is the basic one?", "and the advanced one then?", "how many hours is the advanced course"),
        ("whats the response center's email", "and for the press?", "what is the press office's email"),
        ("chp link?", "and svpp", "the school violence prevention program link"),
    ],
)
def test_a_follow_up_that_only_names_a_subject_asks_the_last_question_of_it(asked, follow_up, same_question):
    subject = visitor_text.only_a_subject(visitor_text.normalize(follow_up))
    assert visitor_text.asked_of(visitor_text.normalize(asked), subject) == same_question


@pytest.mark.parametrize(
    "asked, follow_up",
    [
        ("when was nasro founded?", "and who opened it?"),  # names no subject
        ("when was nasro founded?", "and nasro's director?"),  # asks more than the subject
        ("where did nasro and cops meet?", "and svpp?"),  # the question names two subjects
        ("when was nasro founded?", "and nasro?"),  # the same subject
    ],
)
def test_a_follow_up_that_asks_more_than_a_subject_is_not_rewritten(asked, follow_up):
    subject = visitor_text.only_a_subject(visitor_text.normalize(follow_up))
    assert subject is None or visitor_text.asked_of(visitor_text.normalize(asked), subject) is None


def test_the_last_question_asked_of_the_subject_named_is_the_follow_up_s_question():
    text = "and nasro?"
    readings = [
        reading("whole", text, {"cops_created": 0.6, "what_is_nasro": 0.4}),
        reading("in_context", text, {"cops_created": 0.9, "what_is_nasro": 0.1}),
        reading("same_question", "when was nasro created", {"what_is_nasro": 0.9, "cops_created": 0.1}),
    ]
    topics = {**TOPICS, "what_is_nasro": "nasro"}
    context = conference_context({}, topics, [])
    message = message_with(text, "cops_created", 0.6, readings)
    context._understand(message, text, readings, [Turn("cops_created", "when was the cops office created")], None)
    assert message.get("intent")["name"] == "what_is_nasro"


def test_a_follow_up_is_read_in_the_last_answer_s_topic():
    text = "what about by post?"
    message = understood(
        text,
        [
            reading("whole", text, {"cops_created": 0.45, "ask_address": 0.4, "ask_phone": 0.15}),
            reading("in_context", text, {"ask_phone": 0.5, "ask_address": 0.45}),
        ],
        [Turn("ask_phone", "what's the phone number")],
    )
    assert message.get("intent")["name"] == "ask_address"


def test_a_message_naming_its_subject_but_unsure_alone_is_read_in_its_thread():
    # "police" and "program" name subjects: no follow-up by its words, but between two answers alone.
    text = "which program would the police apply to"
    readings = [
        reading("whole", text, {"get_sro": 0.45, "apply_grant": 0.43, "ask_chp": 0.12}),
        reading("in_context", text, {"ask_chp": 0.9, "get_sro": 0.05, "apply_grant": 0.05}),
    ]
    message = understood(text, readings, [Turn("ask_chp", "does CHP fund new officers?")])
    assert message.get("intent")["name"] == "ask_chp"


def test_a_message_sure_alone_or_read_as_no_question_is_not_pulled_into_the_thread():
    sure = "how does a school get an sro?"
    message = understood(
        sure,
        [
            reading("whole", sure, {"get_sro": 0.8, "ask_chp": 0.2}),
            reading("in_context", sure, {"ask_chp": 0.9, "get_sro": 0.1}),
        ],
        [Turn("ask_chp", "does CHP fund new officers?")],
    )
    assert message.get("intent")["name"] == "get_sro"
    recipe = "cual es la mejor receta de tamales"
    message = understood(
        recipe,
        [
            reading("whole", recipe, {"out_of_scope": 0.45, "ask_chp": 0.1, "ask_phone": 0.45}),
            reading("in_context", recipe, {"ask_chp": 0.95, "out_of_scope": 0.05}),
        ],
        [Turn("ask_chp", "does CHP fund new officers?")],
    )
    assert message.get("intent")["name"] != "ask_chp"


PRESS_HOLDS = {"same_answer": {"ask_press": ["ask_phone", "ask_email", "ask_contact", "ask_hours"]}}
PRESS_TOPICS = {**TOPICS, "ask_press": "contact", "ask_contact": "contact"}


def press_follow_up(text: str, alone: Dict[str, float], in_context: Dict[str, float]) -> str:
    message = understood(
        text,
        [reading("whole", text, alone), reading("in_context", text, in_context)],
        [Turn("ask_press", "i'm a reporter, who do i contact?")],
        topics=PRESS_TOPICS,
        **PRESS_HOLDS,
    )
    return message.get("intent")["name"]


def test_a_contact_asked_after_the_press_contacts_is_the_press_office_s_unless_the_rc_is_named():
    # Read as the press office's answer or the phone about equally: the press answer has its phone.
    assert (
        press_follow_up("phone?", {"ask_phone": 0.96, "ask_press": 0.04}, {"ask_press": 0.99, "ask_phone": 0.01})
        == "ask_press"
    )
    assert (
        press_follow_up(
            "response center phone?", {"ask_phone": 0.97, "ask_press": 0.03}, {"ask_press": 0.6, "ask_phone": 0.4}
        )
        == "ask_phone"
    )


def test_question_words_joined_ask_one_question_each_of_what_they_share():
    sentence = visitor_text.sentences("where and when was the 2019 conference?")[0]
    assert [part.text for part in visitor_text.parts(sentence)] == [
        "where was the 2019 conference",
        "when was the 2019 conference",
    ]
    found = visitor_text.sentences("2019 nasro conf - where, when, how many ppl?")
    assert [part.text for part in visitor_text.parts(found[0])] == [
        "2019 nasro conf - where",
        "2019 nasro conf - when",
        "2019 nasro conf - how many ppl",
    ]


def test_why_asks_the_reason_the_last_answer_gives():
    text = "why?"
    message = understood(
        text,
        [
            reading("whole", text, {"sro_training_importance": 0.85, "state_certification": 0.15}),
            reading("in_context", text, {"sro_training_importance": 0.6, "state_certification": 0.4}),
        ],
        [Turn("state_certification", "are states certifying the nasro courses?")],
    )
    assert message.get("intent")["name"] == "state_certification"


def test_a_person_asked_for_in_a_thread_is_a_person_not_the_thread():
    text = "and who do I call to talk it through?"
    message = understood(
        text,
        [
            reading("whole", text, {"ask_person": 0.93, "get_sro": 0.07}),
            reading("in_context", text, {"get_sro": 0.9, "ask_person": 0.1}),
        ],
        [Turn("get_sro", "how does a school get an sro?")],
    )
    assert message.get("intent")["name"] == "ask_person"


def test_a_correction_asking_another_is_never_the_answer_just_given():
    text = "no, the other one"
    message = understood(
        text,
        [
            reading("whole", text, {"ask_phone": 0.6, "ask_email": 0.4}),
            reading("correction", "the other one", {"ask_phone": 0.7, "ask_email": 0.3}),
        ],
        [Turn("ask_phone", "phone?")],
    )
    assert message.get("intent")["name"] == "ask_email"


def test_a_correction_naming_another_subject_of_the_same_answer_gets_that_answer():
    # The answer of NASRO's courses gives every course's hours.
    text = "sorry, I meant the basic"
    readings = [
        reading("whole", text, {"nasro_courses": 0.6, "sro_training_funding": 0.4}),
        reading("correction", "the basic", {"nasro_courses": 0.6, "sro_training_funding": 0.4}),
        reading("in_context", text, {"nasro_courses": 0.9, "sro_training_funding": 0.1}),
    ]
    message = understood(text, readings, [Turn("nasro_courses", "how many hours is the advanced course?")])
    assert message.get("intent")["name"] == "nasro_courses"


def asked_to_erase_after_the_phone(last_action: str) -> DialogueStateTracker:
    """A conversation where the phone was answered, then the visitor asked to erase it; the
    assistant's last action is `last_action`."""
    return DialogueStateTracker.from_events(
        "visitor",
        [
            ActionExecuted("action_listen"),
            UserUttered("phone?", {"name": "ask_phone", "confidence": 0.9}),
            ActionExecuted("action_give_phone"),
            ActionExecuted("action_listen"),
            UserUttered("delete this chat", {"name": "erase_conversation", "confidence": 0.9}),
            ActionExecuted(last_action),
            ActionExecuted("action_listen"),
        ],
    )


def test_a_no_to_erasing_the_conversation_is_that_reply_not_a_correction():
    text = "no, keep my conversation"
    readings = [
        reading("whole", text, {"deny": 0.6, "erase_conversation": 0.3, "ask_phone": 0.1}),
        reading("correction", "keep my conversation", {"erase_conversation": 0.9, "ask_phone": 0.1}),
    ]
    context = conference_context({}, TOPICS)
    asked = message_with(text, "deny", 0.6, readings)
    context.process([asked], asked_to_erase_after_the_phone("utter_ask_erase_conversation"))
    assert asked.get("intent")["name"] == "deny"
    # The same words after any other answer correct it: that is what the question changes.
    answered = message_with(text, "deny", 0.6, readings)
    context.process([answered], asked_to_erase_after_the_phone("action_give_phone"))
    assert answered.get("intent")["name"] != "deny"


def test_a_request_to_erase_the_conversation_is_no_follow_up_of_the_answer_before():
    text = "I typed my number by mistake. Delete this chat."
    readings = [
        reading("whole", text, {"erase_conversation": 0.7, "ask_phone": 0.3}),
        Reading(
            "sentence", "I typed my number by mistake.", 0, 29, True, {"ask_phone": 0.9, "erase_conversation": 0.1}
        ),
    ]
    message = message_with(text, "erase_conversation", 0.7, readings)
    conference_context({}, TOPICS).process([message], asked_to_erase_after_the_phone("action_give_phone"))
    assert message.get("intent")["name"] == "erase_conversation"


@pytest.mark.parametrize(
    "text, rating",
    [("that didn't help at all", True), ("Not helpful", True), ("was the conference helpful for officers", False)],
)
def test_a_rating_of_the_answer_is_a_statement_about_it_a_question_is_not(text, rating):
    readings = [reading("whole", text, {"rate_answer": 0.7, "conference_overview": 0.3})]
    message = message_with(text, "rate_answer", 0.7, readings)
    conference_context({}, TOPICS).process([message], asked_to_erase_after_the_phone("action_give_phone"))
    assert (message.get("intent")["name"] == "rate_answer") is rating


def test_a_follow_up_after_a_rating_asks_of_the_answer_the_rating_was_about():
    rated = UserUttered(
        '/rate_answer{"rating": "helpful", "rated_answer": "conference_location"}',
        {"name": "rate_answer", "confidence": 1.0},
    )
    turns = previous_turns(
        DialogueStateTracker.from_events(
            "visitor",
            [
                UserUttered("where was the nasro conference", {"name": "conference_location", "confidence": 0.9}),
                ActionExecuted("utter_conference_location"),
                ActionExecuted("action_listen"),
                rated,
                ActionExecuted("action_acknowledge_rating"),
                ActionExecuted("action_listen"),
            ],
        )
    )
    assert [turn.intent for turn in turns] == ["conference_location"]


def test_and_another_year_asks_the_same_of_that_year():
    text = "and in 2021?"
    message = understood(
        text,
        [reading("whole", text, {"cops_created": 0.9, "conference_attendance": 0.1})],
        [Turn("conference_attendance", "how many came in 2019")],
    )
    assert message.get("intent")["name"] == "conference_attendance"
    assert [(entity["entity"], entity["value"]) for entity in message.get("entities")] == [("conference_year", "2021")]


def test_a_conference_question_without_a_year_is_about_2019_again():
    text = "where was the conference"
    message = understood(text, [reading("whole", text, {"conference_location": 0.9})], [], year_slot="2021")
    assert [(entity["entity"], entity["value"]) for entity in message.get("entities")] == [("conference_year", "2019")]


def test_a_follow_up_that_names_its_subject_asks_what_it_says():
    text = "and how does the police department apply?"
    message = understood(
        text,
        [
            reading("whole", text, {"apply_grant": 0.72, "get_sro": 0.1, "out_of_scope": 0.18}),
            reading("in_context", text, {"get_sro": 0.97, "apply_grant": 0.03}),
        ],
        [Turn("get_sro", "our school wants an SRO")],
    )
    assert message.get("intent")["name"] == "apply_grant"


def test_a_follow_up_that_points_back_is_read_in_its_thread():
    text = "and how long has it been around?"
    message = understood(
        text,
        [
            reading("whole", text, {"cops_created": 0.8, "ask_svpp": 0.2}),
            reading("in_context", text, {"ask_svpp": 0.9, "cops_created": 0.1}),
        ],
        [Turn("ask_svpp", "what is svpp")],
    )
    assert message.get("intent")["name"] == "ask_svpp"


def test_a_follow_up_the_facts_do_not_answer_is_not_given_the_last_answer_again():
    """ "which states so far?" after state certification: the answer has no list of states, and
    the message by itself reads as a question the facts do not answer; the thread must not turn
    it back into the answer just given."""
    text = "which states so far"
    message = understood(
        text,
        [
            reading("whole", text, {"unknown_fact": 0.7, "state_certification": 0.3}),
            reading("in_context", text, {"state_certification": 0.6, "unknown_fact": 0.4}),
        ],
        [Turn("state_certification", "is cops helping states certify nasro courses")],
    )
    assert message.get("intent")["name"] == "unknown_fact"


def test_a_follow_up_about_him_asks_the_last_answer_again():
    """ "when did he start?" after who the director was: both readings lean to when the COPS Office
    was created, but "he" is the director the last answer was about."""
    text = "when did he start"
    message = understood(
        text,
        [
            reading("whole", text, {"cops_created": 0.51, "cops_director": 0.11, "conference_attendance": 0.38}),
            reading("in_context", text, {"cops_director": 0.59, "cops_created": 0.41}),
        ],
        [Turn("cops_director", "who was the cops director in 2019")],
    )
    assert message.get("intent")["name"] == "cops_director"
    message = understood(
        text,
        [
            reading("whole", text, {"cops_created": 0.51, "cops_director": 0.11, "conference_attendance": 0.38}),
            reading("in_context", text, {"cops_director": 0.59, "cops_created": 0.41}),
        ],
        [Turn("cops_director", "who was the cops director in 2019")],
        same_subject_boost=1.0,
    )
    assert message.get("intent")["name"] == "cops_created"


def test_a_short_follow_up_with_a_word_the_classifier_does_not_know_is_still_a_follow_up():
    text = "tribes too?"
    readings = [
        reading(
            "whole", text, {"other_language": 0.3, "sro_training": 0.28, "apply_grant": 0.25, "not_a_question": 0.17}
        ),
        reading("in_context", text, {"apply_grant": 0.95, "sro_training": 0.05}),
    ]
    turns = [Turn("apply_grant", "who can apply for cops grants")]
    assert understood(text, readings, turns).get("intent")["name"] == "apply_grant"
    made_up = "blorp zanquiddle"
    readings = [
        reading("whole", made_up, {"other_language": 0.58, "not_a_question": 0.22, "apply_grant": 0.2}),
        reading("in_context", made_up, {"apply_grant": 0.99, "sro_training": 0.01}),
    ]
    # Read by itself, not in the thread: too unsure for an answer (the fallback threshold is 0.4).
    assert understood(made_up, readings, turns).get("intent")["confidence"] < 0.4


@pytest.mark.parametrize(
    "text, asks",
    [
        ("Is there an actual human being I can e-mail instead of typing to you?", True),
        ("can i talk to a real person", True),
        ("human pls", True),
        ("Agent!", True),
        ("i want a live agent", True),
        ("was the 2021 conference held in person?", False),
        ("how many people attended", False),
        ("what does an SRO do with a person who is armed", False),
        ("is this a bot", False),
        ("Can you hand this chat over to a COPS employee?", True),
        ("connect my call to the response center please", True),
        ("ok, who could tell me?", True),
        ("who can tell me about the conference", False),
    ],
)
def test_a_visitor_asking_for_a_person_in_other_words(text, asks):
    assert visitor_text.asks_for_a_person(visitor_text.normalize(text)) is asks


def test_a_person_asked_for_gets_the_people_who_answer():
    text = "Is there an actual human being I can e-mail instead of typing to you?"
    unsure = [reading("whole", text, {"sro_training": 0.48, "cops_created": 0.45, "ask_email": 0.07})]
    assert understood(text, unsure, [], person_intent="ask_person", people_to_reach=["ask_email"]).get("intent") == {
        "name": "ask_person",
        "confidence": 1.0,
    }
    # Contacts the classifier understood already are people to reach: the press office's, the e-mail.
    email = [reading("whole", text, {"ask_email": 0.48, "cops_created": 0.45, "sro_training": 0.07})]
    assert understood(text, email, [], person_intent="ask_person", people_to_reach=["ask_email"]).get("intent") == {
        "name": "ask_email",
        "confidence": 1.0,
    }


def test_an_answer_that_gives_its_link_answers_the_question_for_its_link():
    text = "svpp link"
    readings = [reading("whole", text, {"ask_link": 0.5, "ask_svpp": 0.35, "get_sro": 0.15})]
    assert understood(text, readings, [], linked=["ask_svpp"]).get("intent")["name"] == "ask_svpp"
    assert understood(text, readings, []).get("intent")["name"] == "ask_link"


def test_a_year_the_facts_do_not_cover_is_the_conference_answer_that_says_so():
    text = "where was the 2016 conference?"
    message = understood(
        text,
        [reading("whole", text, {"unknown_fact": 0.4, "conference_location": 0.35, "conference_attendance": 0.25})],
        [],
    )
    assert message.get("intent")["name"] == "conference_location"
    assert [(entity["entity"], entity["value"]) for entity in message.get("entities")] == [("conference_year", "other")]


def test_a_dated_answer_asked_of_another_year_after_the_thread_is_read():
    text = "and in 2019?"
    message = understood(
        text,
        [reading("whole", text, {"conference_attendance": 0.6, "ask_svpp": 0.4})],
        [Turn("ask_svpp", "how much did svpp give")],
        dated_intents={"ask_svpp": [2018]},
    )
    assert message.get("intent")["name"] == "unknown_fact"


def test_a_year_later_after_dated_facts_is_the_same_answer_or_one_the_facts_do_not_hold():
    dated = {"cops_sros_funded": [1994, 2019, 2020]}
    funded = [Turn("cops_sros_funded", "how many SROs has COPS funded")]
    text = "and a year later?"
    message = understood(
        text, [reading("whole", text, {"cops_created": 0.7, "cops_sros_funded": 0.3})], funded, dated_intents=dated
    )
    assert message.get("intent")["name"] == "cops_sros_funded"
    text = "and five years later?"
    message = understood(
        text, [reading("whole", text, {"cops_created": 0.7, "cops_sros_funded": 0.3})], funded, dated_intents=dated
    )
    assert message.get("intent")["name"] == "unknown_fact"


def test_the_lifeline_is_the_answer_only_when_the_message_names_it():
    named_only = {"ask_988": r"\b988\b|lifeline"}
    text = "how do I help a student in a mental health crisis"
    readings = [reading("whole", text, {"ask_988": 0.6, "sro_training": 0.4})]
    assert understood(text, readings, [], named_only=named_only).get("intent")["name"] == "sro_training"
    text = "what is the 988 lifeline"
    readings = [reading("whole", text, {"ask_988": 0.6, "sro_training": 0.4})]
    assert understood(text, readings, [], named_only=named_only).get("intent")["name"] == "ask_988"


def test_two_questions_are_listed_in_order():
    text = "what's the email and the phone number?"
    readings = [
        reading("whole", text, {"ask_email": 0.5, "ask_phone": 0.45}),
        Reading("part", "what's the email", 0, 16, True, {"ask_email": 0.9}),
        Reading("part", "the phone number", 21, 37, True, {"ask_phone": 0.9}),
    ]
    message = understood(text, readings, [])
    assert message.get("questions") == ["ask_email", "ask_phone"]
    assert message.get("intent")["name"] == "ask_email"


def test_after_two_questions_the_thread_is_the_last_one_answered():
    two = {"name": "ask_press", "confidence": 0.9}
    tracker = DialogueStateTracker.from_events(
        "visitor",
        [
            UserUttered(
                "the press office's e-mail, and how many SROs has COPS funded?",
                two,
                parse_data={"intent": two, "questions": ["ask_press", "cops_sros_funded"]},
            ),
            ActionExecuted("action_listen"),
            # The safety check overruled a message's questions: its thread is the safety answer's.
            UserUttered(
                "what's the phone and theres a man with a gun here",
                {"name": "emergency", "confidence": 1.0},
                parse_data={"intent": {"name": "emergency"}, "questions": ["ask_phone", "ask_address"]},
            ),
        ],
    )
    assert [turn.intent for turn in previous_turns(tracker)] == ["emergency", "cops_sros_funded"]


def test_the_thread_is_what_the_conversation_kept():
    tracker = DialogueStateTracker.from_events(
        "visitor",
        [
            SessionStarted(),
            UserUttered("where was it", {"name": "conference_location"}),
            UserUttered("blorp", {"name": "nlu_fallback"}),
            UserUtteranceReverted(),
            UserUttered("how much is the course", {"name": "unknown_fact"}),
        ],
    )
    turns = previous_turns(tracker)
    assert [turn.intent for turn in turns] == ["unknown_fact", "conference_location"]
    assert last_answered(turns, TOPICS) == "conference_location"
    assert context_text(turns, {"conference_location": "Where the conference was held"}) == "how much is the course"


# --- two questions, two answers ---------------------------------------------------------------------------

DOMAIN = Domain.from_dict(
    {
        "intents": ["ask_email", "ask_phone", "what_is_sro"],
        "actions": ["action_give_email", "action_give_phone", "utter_more_info"],
        "responses": {"utter_what_is_sro": [{"text": "An SRO is ..."}]},
    }
)


def policy_tracker(questions: List[str], done: List[str]) -> DialogueStateTracker:
    events = [
        ActionExecuted("action_listen"),
        UserUttered("two questions", {"name": questions[0], "confidence": 0.8}, parse_data={"questions": questions}),
    ]
    return DialogueStateTracker.from_events("visitor", events + [ActionExecuted(name) for name in done])


def test_the_policy_answers_each_question_then_listens():
    policy = EveryQuestionPolicy(
        {},
        None,
        None,
        type("Context", (), {"is_finetuning": False})(),
        answers={"ask_email": ["action_give_email"], "what_is_sro": ["utter_what_is_sro", "utter_more_info"]},
    )
    questions = ["ask_email", "what_is_sro"]
    assert policy.next_action(policy_tracker(questions, [])) == "action_give_email"
    assert policy.next_action(policy_tracker(questions, ["action_give_email"])) == "utter_what_is_sro"
    assert (
        policy.next_action(policy_tracker(questions, ["action_give_email", "utter_what_is_sro", "utter_more_info"]))
        == "action_listen"
    )
    assert policy.next_action(policy_tracker(["ask_email"], [])) is None


def test_the_response_center_s_contacts_come_once_after_two_answers_that_end_with_them():
    policy = EveryQuestionPolicy(
        {},
        None,
        None,
        type("Context", (), {"is_finetuning": False})(),
        answers={
            intent: [f"utter_{intent}", "utter_more_info", "action_refer_to_response_center"]
            for intent in ("apply_grant", "grant_eligibility")
        },
    )
    questions = ["apply_grant", "grant_eligibility"]
    done: List[str] = []
    while (action := policy.next_action(policy_tracker(questions, done))) != "action_listen":
        done.append(action)
    assert done == [
        "utter_apply_grant",
        "utter_more_info",
        "utter_grant_eligibility",
        "utter_more_info",
        "action_refer_to_response_center",
    ]


def test_the_policy_learns_each_intent_s_answer_from_the_rules():
    rule = DialogueStateTracker.from_events(
        "rule",
        [
            ActionExecuted("action_listen"),
            UserUttered(intent={"name": "what_is_sro"}),
            ActionExecuted("utter_what_is_sro"),
            ActionExecuted("utter_more_info"),
            ActionExecuted("action_listen"),
        ],
    )
    rule.is_rule_tracker = True
    story = DialogueStateTracker.from_events(
        "story", [UserUttered(intent={"name": "ask_phone"}), ActionExecuted("action_give_phone")]
    )
    assert answers_from_rules([rule, story]) == {"what_is_sro": ["utter_what_is_sro", "utter_more_info"]}


def test_every_safety_pattern_is_a_text_that_compiles():
    """A pattern with ": " in it and no quotes is read by YAML as a mapping, silently: each entry of
    components/safety_terms.yml must be a text, and a regular expression."""
    import re

    import yaml

    from components.safety import TERMS_FILE

    for language, lists in yaml.safe_load(TERMS_FILE.read_text(encoding="utf-8")).items():
        for name, entries in lists.items():
            for entry in entries:
                assert isinstance(entry, str), f"{language}.{name}: {entry!r} is not a text: quote it with ' '"
                re.compile(entry)


def test_a_detail_its_answer_does_not_give_is_a_question_the_facts_do_not_answer():
    context = conference_context(
        {},
        {**TOPICS, "nasro_courses": "training"},
        [],
        details={"format": r"\bis (?:it|the \w+(?: \w+){0,3}) online\b"},
        answered={"free_training": ["format"]},
    )
    for text, heard, expected in [
        ("is the nasro basic course online", "nasro_courses", "unknown_fact"),
        ("is the free training online", "free_training", "free_training"),
        ("how long is the nasro basic course", "nasro_courses", "nasro_courses"),
    ]:
        readings = [reading("whole", text, {heard: 0.8, "unknown_fact": 0.2})]
        message = message_with(text, heard, 0.8, readings)
        context._understand(message, text, readings, [], None)
        assert message.get("intent")["name"] == expected, text


def test_a_detail_is_asked_of_the_answer_that_gives_it_when_that_is_nearly_as_likely():
    """ "We're applying for SVPP for cameras. What does it cover?" is read about equally as how to
    apply and as SVPP's answer, which says what it funds; "what courses are on the training
    portal?" is heard a little as NASRO's courses, whose answer lists courses, but asks the
    portal's list, which the facts do not give."""
    context = conference_context(
        {},
        {**TOPICS, "free_training": "training"},
        [],
        details={"curriculum": r"\bwhat does it cover\b", "course_list": r"\bwhat courses are on\b"},
        answered={"ask_svpp": ["curriculum"], "nasro_courses": ["course_list"]},
    )
    for text, heard, expected in [
        ("we are applying for svpp. what does it cover", {"apply_grant": 0.53, "ask_svpp": 0.45}, "ask_svpp"),
        ("what courses are on the training portal", {"free_training": 0.67, "nasro_courses": 0.32}, "unknown_fact"),
    ]:
        readings = [reading("whole", text, {**heard, "unknown_fact": 0.02})]
        message = message_with(text, max(heard, key=heard.get), max(heard.values()), readings)
        context._understand(message, text, readings, [], None)
        assert message.get("intent")["name"] == expected, text


def test_a_follow_up_asking_for_anyone_but_the_press_office_is_not_the_press_office():
    context = conference_context(
        {"same_answer": {"ask_press": ["ask_phone", "ask_email"]}}, {**TOPICS, "ask_press": "contact"}, []
    )
    text = "and for general questions that aren't press?"
    readings = [reading("whole", text, {"ask_press": 0.6, "ask_phone": 0.35, "ask_email": 0.05})]
    message = message_with(text, "ask_press", 0.6, readings)
    context._understand(message, text, readings, [Turn("ask_press", "press contact?")], None)
    assert message.get("intent")["name"] == "ask_phone"


def test_a_detail_asked_of_the_last_answer_is_asked_of_it_whatever_else_its_words_suggest():
    """ "Is it free?" after NASRO's courses asks whether they are: the free online courses are
    another answer's. Naming a subject ("is the portal free?") asks it of that one."""
    context = conference_context(
        {},
        {**TOPICS, "free_training": "training"},
        [],
        details={"cost": r"\bis (?:it|the \w+) free\b"},
        answered={"free_training": ["cost"]},
        own_answer_only=["cost"],
    )
    turns = [Turn("nasro_courses", "how long are the nasro courses")]
    for text, expected in [("is it free?", "unknown_fact"), ("is the portal free?", "free_training")]:
        readings = [
            reading("whole", text, {"free_training": 0.9, "nasro_courses": 0.1}),
            reading("in_context", text, {"free_training": 0.55, "nasro_courses": 0.45}),
        ]
        message = message_with(text, "free_training", 0.9, readings)
        context._understand(message, text, readings, turns, None)
        assert message.get("intent")["name"] == expected, text


def detail_context(answered: Dict[str, List[str]], off_topic=()) -> ConversationContext:
    details = {
        "services": r"\bwhat do they help with\b",
        "visiting": r"\bvisit your office\b",
        "sports": r"\bwin that season\b",
        "founding_year": r"\bwhen did it start\b",
        "format": r"\bwas it online\b",
    }
    topics = {
        **TOPICS,
        "ask_email": "contact",
        "ask_phone": "contact",
        "ask_address": "contact",
        "conference_openers": "conference",
        "what_is_nasro": "conference",
    }
    return conference_context({}, topics, [], details=details, answered=answered, off_topic=list(off_topic))


def test_a_follow_up_asking_a_detail_gets_the_answer_of_its_thread_that_gives_it():
    context = detail_context({"ask_phone": ["services"]})
    text = "what do they help with"
    readings = [reading("whole", text, {"ask_email": 0.6, "ask_phone": 0.3, "unknown_fact": 0.1})]
    message = message_with(text, "ask_email", 0.7, readings)
    context._understand(message, text, readings, [Turn("ask_email", "response center email")], None)
    assert message.get("intent")["name"] == "ask_phone"
    # Asked on its own, the question is what it says: the facts do not answer it.
    message = message_with(text, "ask_email", 0.7, readings)
    context._understand(message, text, readings, [], None)
    assert message.get("intent")["name"] == "unknown_fact"


def test_a_follow_up_pointing_back_asks_the_detail_of_the_last_answer_when_it_gives_it():
    """ "Which year was that?" after SVPP's figures asks SVPP's year, though its words alone sound
    like the conference's date, which also gives a year; a question of its own does not."""
    context = conference_context(
        {},
        TOPICS,
        [],
        details={"year_of_it": r"\bwhich year was (?:that|it)\b"},
        answered={"ask_svpp": ["year_of_it"], "conference_date": ["year_of_it"]},
    )
    text = "which year was that"
    readings = [reading("whole", text, {"conference_date": 0.97, "ask_svpp": 0.03})]
    message = message_with(text, "conference_date", 0.97, readings)
    context._understand(message, text, readings, [Turn("ask_svpp", "how many schools did svpp help")], None)
    assert message.get("intent")["name"] == "ask_svpp"
    # After an answer that gives no year, the words decide.
    message = message_with(text, "conference_date", 0.97, readings)
    context._understand(message, text, readings, [Turn("ask_phone", "what is the phone number")], None)
    assert message.get("intent")["name"] == "conference_date"


def test_the_press_office_s_hours_are_not_the_response_center_s():
    """The press contacts' answer gives no hours; the Response Center's hours and the contacts
    that give them are the Response Center's, not the press office's."""
    details = {"opening_hours": r"\bwhat hours do they\b|\btheir hours\b"}
    topics = {**TOPICS, "ask_press": "contact", "ask_hours": "contact", "ask_person": "contact"}
    context = conference_context(
        {**PRESS_HOLDS},
        topics,
        [],
        details=details,
        answered={"ask_hours": ["opening_hours"], "ask_person": ["opening_hours"]},
    )
    for text in ("what hours do they pick up?", "and their hours?"):
        readings = [
            reading("whole", text, {"ask_hours": 0.8, "ask_person": 0.15, "ask_press": 0.05}),
            reading("in_context", text, {"ask_press": 0.6, "ask_hours": 0.4}),
        ]
        message = message_with(text, "ask_hours", 0.8, readings)
        context._understand(message, text, readings, [Turn("ask_press", "who handles media questions?")], None)
        assert message.get("intent")["name"] == "unknown_fact", text
    text = "and their hours?"
    readings = [
        reading("whole", text, {"ask_hours": 0.8, "ask_email": 0.2}),
        reading("in_context", text, {"ask_hours": 0.6, "ask_email": 0.4}),
    ]
    message = message_with(text, "ask_hours", 0.8, readings)
    context._understand(message, text, readings, [Turn("ask_email", "response center email")], None)
    assert message.get("intent")["name"] == "ask_hours"


def test_a_detail_asked_beside_the_plain_question_does_not_hide_its_answer():
    """ "Can I visit your office? What's the street address?" asks the address by itself too: both
    get their answer, that the facts do not say whether one can visit, and the address."""
    context = detail_context({})
    text = "can i visit your office in person? what's the street address?"
    first, second = text.split("? ")
    readings = [
        reading("whole", text, {"ask_address": 0.8, "unknown_fact": 0.2}),
        Reading("sentence", first + "?", 0, len(first) + 1, True, {"ask_address": 0.6, "unknown_fact": 0.4}),
        Reading("sentence", second, len(first) + 2, len(text), True, {"ask_address": 0.9, "unknown_fact": 0.1}),
    ]
    message = message_with(text, "ask_address", 0.8, readings)
    context._understand(message, text, readings, [], None)
    assert message.get("questions") == ["unknown_fact", "ask_address"]
    alone = "can i visit your office in person?"
    readings = [reading("whole", alone, {"ask_address": 0.8, "unknown_fact": 0.2})]
    message = message_with(alone, "ask_address", 0.8, readings)
    context._understand(message, alone, readings, [], None)
    assert message.get("intent")["name"] == "unknown_fact"


def test_an_off_topic_detail_gets_the_answer_for_questions_outside_the_assistant_s_business():
    context = detail_context({}, off_topic=["sports"])
    text = "did he win that season"
    readings = [reading("whole", text, {"conference_openers": 0.9, "unknown_fact": 0.1})]
    message = message_with(text, "conference_openers", 0.9, readings)
    context._understand(message, text, readings, [Turn("conference_openers", "who was the coach")], None)
    assert message.get("intent")["name"] == "out_of_scope"


def test_a_follow_up_asking_what_the_last_answer_gives_gets_it_again():
    """ "When did it start?" after what NASRO is: NASRO's answer says when it was founded, the
    conference's dates do not."""
    context = detail_context({"what_is_nasro": ["founding_year"]})
    text = "when did it start?"
    readings = [reading("whole", text, {"conference_location": 0.7, "what_is_nasro": 0.05, "unknown_fact": 0.25})]
    message = message_with(text, "conference_location", 0.7, readings)
    context._understand(message, text, readings, [Turn("what_is_nasro", "what's nasro")], None)
    assert message.get("intent")["name"] == "what_is_nasro"


def test_the_details_a_yearly_answer_gives_are_those_of_the_year_asked():
    context = detail_context({"conference_location": [], "conference_location@2020": ["format"]})
    for year_slot, expected in [(None, "unknown_fact"), ("2020", "conference_location")]:
        text = "was it online"
        readings = [reading("whole", text, {"conference_location": 0.8, "unknown_fact": 0.2})]
        message = message_with(text, "conference_location", 0.8, readings)
        context._understand(message, text, readings, [Turn("conference_location", "where was it")], year_slot)
        assert message.get("intent")["name"] == expected, year_slot


def test_each_of_two_questions_asking_a_detail_its_answer_lacks_is_unknown():
    context = detail_context({})
    text = "can i visit your office in person, and what's the email?"
    first, second = "can i visit your office in person", "what's the email?"
    readings = [
        reading("whole", text, {"ask_address": 0.5, "ask_email": 0.4, "unknown_fact": 0.1}),
        Reading("part", first, 0, len(first), True, {"ask_address": 0.8, "unknown_fact": 0.2}),
        Reading("part", second, text.index(second), len(text), True, {"ask_email": 0.9, "unknown_fact": 0.1}),
    ]
    message = message_with(text, "ask_address", 0.5, readings)
    context._understand(message, text, readings, [], None)
    assert message.get("questions") == ["unknown_fact", "ask_email"]
    assert message.get("intent")["name"] == "unknown_fact"


def test_one_conference_question_of_two_years_names_both_and_one_action_answers_it():
    text = "how many attended in 2019, and in 2021?"
    message = understood(text, [reading("whole", text, {"conference_attendance": 0.9, "unknown_fact": 0.1})], [])
    assert message.get("intent")["name"] == "conference_attendance"
    assert message.get("years") == ["2019", "2021"]
    alone = "how many attended in 2021?"
    assert understood(alone, [reading("whole", alone, {"conference_attendance": 0.9})], []).get("years") is None

    policy = EveryQuestionPolicy(
        {"each_year_action": "action_answer_each_year"},
        None,
        None,
        type("Context", (), {"is_finetuning": False})(),
        answers={},
    )
    events = [
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": "conference_attendance", "confidence": 0.9}, parse_data={"years": ["2019", "2021"]}),
    ]
    tracker = DialogueStateTracker.from_events("visitor", events)
    assert policy.next_action(tracker) == "action_answer_each_year"
    tracker = DialogueStateTracker.from_events("visitor", events + [ActionExecuted("action_answer_each_year")])
    assert policy.next_action(tracker) == "action_listen"
