"""The intent classifier: logistic regression over TF-IDF-weighted words, word pairs and letter
n-grams of the normalised text (components/text.py).

It reads a message in several ways at once, so the components after it can choose: the whole
message, each of its sentences when there are several (a long message with the question last),
each part of a sentence that joins two questions ("the email and the phone number?"), what
follows a correction ("no, I meant ..."), the message after the last answer's title, and the
visitor's last question asked of the subject a follow-up names alone ("and nasro?"). The
whole message's reading is the message's intent; the other readings are kept on the message for
components/conversation_context.py and components/safety.py, and never stored.

It does its own featurisation, unlike Rasa's classifiers, because a part of a message has to be
featurised on its own, and Rasa's featurisers only featurise whole messages.
"""

import json
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import skops.io as sio
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from components import text as visitor_text
from components.spelling import Speller
from components.understanding import AS_WRITTEN, READINGS, Reading, context_text, load_topics, previous_turns

MODEL_FILE = "intent_classifier.skops"
TITLES_FILE = "titles.json"
WORDS_FILE = "words.json"
RANKING_LENGTH = 10
# skops loads only the types it knows to be safe; these are the ones this pipeline holds besides.
EXPECTED_EXTRA_TYPES = {"scipy.sparse._csr.csr_matrix", "numpy.float32", "numpy.float64", "builtins.getattr"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Inverse regularisation strength (bench/NOTES.md).
            "C": 100.0,
            "word_ngrams": [1, 2],
            "char_ngrams": [1, 4],
            # A word pair or letter n-gram seen in one example only is noise, and half of them:
            # dropping them halves training time (bench/NOTES.md).
            "min_df": 2,
            "random_state": 42,
            # The titles of the answers (the "did you mean" buttons'), read at training time.
            "answers_file": "content/answers.yml",
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Optional[Pipeline] = None,
        titles: Optional[Dict[str, str]] = None,
        word_counts: Optional[Dict[str, int]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.pipeline = pipeline
        self.titles: Dict[str, str] = titles or {}
        # Misspellings are corrected towards the training data's words.
        self.speller = Speller(word_counts or {})
        self.intents: List[str] = []
        if pipeline is not None:
            self._prepare()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentClassifier":
        return cls(config, model_storage, resource)

    def _new_pipeline(self) -> Pipeline:
        # Sublinear term frequencies: a word repeated in one message does not outweigh the others.
        features = FeatureUnion(
            [
                (
                    "words",
                    TfidfVectorizer(
                        analyzer="word",
                        ngram_range=tuple(self.config["word_ngrams"]),
                        token_pattern=r"(?u)\b\w+\b",
                        sublinear_tf=True,
                        min_df=self.config["min_df"],
                        dtype=np.float32,
                    ),
                ),
                # Letter n-grams within words make typos ("numbr", "adress") look like the real word.
                (
                    "letters",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(self.config["char_ngrams"]),
                        sublinear_tf=True,
                        min_df=self.config["min_df"],
                        dtype=np.float32,
                    ),
                ),
            ]
        )
        # One-vs-rest with liblinear: a tenth of the multinomial fit's training time here, as
        # accurate on the held-out and blind sets (bench/NOTES.md).
        classifier = LogisticRegression(
            C=self.config["C"], solver="liblinear", class_weight="balanced", random_state=self.config["random_state"]
        )
        return Pipeline([("features", features), ("classifier", classifier)])

    def train(self, training_data: TrainingData) -> Resource:
        examples = [example for example in training_data.intent_examples if example.get(TEXT)]
        texts = [visitor_text.classifier_form(example.get(TEXT)) for example in examples]
        labels = [example.get(INTENT) for example in examples]
        self.pipeline = self._new_pipeline()
        self.pipeline.fit(texts, labels)
        self.speller = Speller.from_texts(texts)
        for _, vectorizer in self.pipeline.named_steps["features"].transformer_list:
            # The n-grams min_df dropped, kept only for introspection: most of the file's size.
            vectorizer.stop_words_ = None
        self._prepare()
        self.titles = {intent: topic.title for intent, topic in load_topics(self.config["answers_file"]).items()}
        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.pipeline, directory / MODEL_FILE)
            (directory / TITLES_FILE).write_text(json.dumps(self.titles), encoding="utf-8")
            (directory / WORDS_FILE).write_text(json.dumps(self.speller.counts), encoding="utf-8")
        return self._resource

    def _prepare(self) -> None:
        classifier = self.pipeline.named_steps["classifier"]
        # scikit-learn scores X @ coef_.T; for a sparse X a column-major coef_ saves SciPy a copy
        # of the transposed matrix on every message (bench/NOTES.md). Single precision, like the
        # features: half the model's size, the same predictions.
        classifier.coef_ = np.asfortranarray(classifier.coef_, dtype=np.float32)
        classifier.intercept_ = classifier.intercept_.astype(np.float32)
        self.intents = list(classifier.classes_)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentClassifier":
        # A model whose classifier cannot be read fails to load: an untrained classifier would send
        # every question to the fallback without a word in the logs.
        with model_storage.read_from(resource) as directory:
            path = directory / MODEL_FILE
            untrusted = sio.get_untrusted_types(file=path)
            unexpected = set(untrusted) - EXPECTED_EXTRA_TYPES
            if unexpected:
                raise ValueError(f"{path} holds types this classifier never writes: {sorted(unexpected)}")
            pipeline = sio.load(path, trusted=untrusted)
            titles = json.loads((directory / TITLES_FILE).read_text(encoding="utf-8"))
            word_counts = json.loads((directory / WORDS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, pipeline, titles, word_counts)

    def process(self, messages: List[Message], tracker: DialogueStateTracker) -> List[Message]:
        turns = previous_turns(tracker)
        leaning_on = context_text(turns, self.titles)
        for message in messages:
            text = message.get(TEXT) or ""
            readings, as_written = self.readings(text, leaning_on, [turn.text for turn in turns])
            whole = readings[0]
            message.set(INTENT, whole.top(), add_to_output=True)
            message.set(INTENT_RANKING_KEY, whole.ranked()[:RANKING_LENGTH], add_to_output=True)
            message.set(READINGS, readings)
            message.set(AS_WRITTEN, as_written)
        return messages

    def readings(
        self, text: str, leaning_on: Optional[str] = None, asked_before: Sequence[str] = ()
    ) -> Tuple[List[Reading], Dict[str, float]]:
        """The whole message first, then the other ways of reading it (module docstring); and what
        the classifier makes of the whole message as written. `asked_before`: the visitor's
        earlier messages, latest first."""
        candidates = [Reading("whole", visitor_text.without_courtesies(text), 0, len(text), True, {})]
        found = visitor_text.sentences(text)
        if len(found) > 1:
            for before, sentence in zip([None] + found[:-1], found):
                if before is not None and visitor_text.asks_what_that_is(visitor_text.normalize(sentence.text)):
                    # "The police chief mentioned an MOU - what's that about?" asks about the MOU.
                    candidates.append(
                        Reading(
                            "sentence", f"{before.text} {sentence.text}", before.start, sentence.end, sentence.asks, {}
                        )
                    )
                else:
                    candidates.append(
                        Reading("sentence", sentence.text, sentence.start, sentence.end, sentence.asks, {})
                    )
        for sentence in found:
            candidates += [Reading("part", p.text, p.start, p.end, p.asks, {}) for p in visitor_text.parts(sentence)]
        normalized = visitor_text.normalize(text)
        corrected = visitor_text.correction(normalized)
        if corrected:
            candidates.append(Reading("correction", corrected, 0, len(text), True, {}))
        if leaning_on:
            candidates.append(Reading("in_context", f"{leaning_on} {corrected or normalized}", 0, len(text), True, {}))
        subject = visitor_text.only_a_subject(normalized) if asked_before else None
        if subject is not None:
            # The last question that was more than a name: "when was nasro founded?", "and
            # cops?", "and svpp?" asks the first of both.
            earlier = (visitor_text.normalize(question) for question in asked_before)
            question = next((question for question in earlier if visitor_text.only_a_subject(question) is None), None)
            swapped = visitor_text.asked_of(question, subject) if question else None
            if swapped:
                candidates.append(Reading("same_question", swapped, 0, len(text), True, {}))
        # One call for every reading: the pipeline's overhead is paid once.
        as_written = visitor_text.classifier_form(text)
        normalized_texts = [self.speller.correct(visitor_text.classifier_form(reading.text)) for reading in candidates]
        respelled = normalized_texts[0] != as_written
        predicted = self.pipeline.predict_proba(normalized_texts + ([as_written] if respelled else []))
        for reading, probabilities in zip(candidates, predicted):
            reading.probabilities = dict(zip(self.intents, probabilities.tolist()))
        as_written_probabilities = (
            dict(zip(self.intents, predicted[-1].tolist())) if respelled else candidates[0].probabilities
        )
        return candidates, as_written_probabilities
