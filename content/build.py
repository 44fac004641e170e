"""Writes the content as Rasa reads it: the questions of answers.yml as intents and answers in the
domain and a rule for each (the answer, the page that tells more, then what the entry's `then:`
names); and the lookup table of the resource_topic entity, from the phrases of its synonyms in
data/nlu/ (each topic one that a link of contact_data.yml answers).

    python -m content.build        (make train runs it)

The files it writes are build output, never edited and never committed: answers.yml is the one
place of an answer (docs/content.md says why it is not a retrieval intent).
"""

import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

from content import answers as answers_file
from content import contact_data
from content.answers import DEFAULT_YEAR, YEAR_SLOT, Answer, Answers
from content.languages import DEFAULT_LANGUAGE, LANGUAGE_SLOT

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_OUT = ROOT / "domain" / "answers.generated.yml"
RULES_OUT = ROOT / "data" / "answers.generated.yml"
LOOKUP_OUT = ROOT / "data" / "nlu" / "resource_topic.generated.yml"
NLU_DIR = ROOT / "data" / "nlu"
ENTITY = "resource_topic"
HEADER = "# Written by `python -m content.build` (make train) from {source}.\n# Do not edit: change {source} instead.\n"
SPANISH = "es"


def _variant(text: str, **slots: Any) -> Dict[str, Any]:
    return {
        "condition": [{"type": "slot", "name": name, "value": value} for name, value in slots.items()],
        "text": text,
    }


def responses(answers: Answers) -> Dict[str, List[Dict[str, Any]]]:
    """utter_<key> for every answer the domain gives itself (not through an action), in each
    language (the slot `language`: unset or "en" is English).

    Rasa picks at random among the variations whose conditions all hold, so no two may hold at
    once: a yearly answer's variations name both the language and the year, English ones once for
    an unset language and once for "en"; the one with no condition, the English 2019 answer, is
    what Rasa gives when none holds."""
    found: Dict[str, List[Dict[str, Any]]] = {}
    for entry in answers.entries.values():
        if entry.action is not None:
            continue
        spanish = answers.text(entry.key, SPANISH)
        variants = [{"text": answers.text(entry.key)}]
        if not entry.years:
            variants.append(_variant(spanish, **{LANGUAGE_SLOT: SPANISH}))
            found[entry.response] = variants
            continue
        for year in (None, DEFAULT_YEAR):
            variants.append(_variant(spanish, **{LANGUAGE_SLOT: SPANISH, YEAR_SLOT: year}))
        for year in (*entry.years, answers_file.ANOTHER_YEAR):
            for language in (None, DEFAULT_LANGUAGE, SPANISH):
                text = answers.text_for_year(entry.key, year, language or DEFAULT_LANGUAGE)
                variants.append(_variant(text, **{LANGUAGE_SLOT: language, YEAR_SLOT: year}))
        found[entry.response] = variants
    return found


def steps(entry: Answer) -> List[str]:
    """The actions that answer the entry's question, in order."""
    shares_page = entry.action is None and entry.link is not None
    return [entry.response] + ([answers_file.PAGE_RESPONSE] if shares_page else []) + list(entry.then)


def rules(answers: Answers) -> List[Dict[str, Any]]:
    return [
        {
            "rule": f"Answer {entry.key}",
            "steps": [{"intent": entry.key}] + [{"action": action} for action in steps(entry)],
        }
        for entry in answers.entries.values()
    ]


class TopicsError(ValueError):
    """The phrases of the resource topics and the links' topics do not match."""


def topic_phrases(nlu_dir: Path = NLU_DIR) -> Dict[str, List[str]]:
    """topic -> the phrases naming it: the synonyms of data/nlu/ (the generated file aside)."""
    found: Dict[str, List[str]] = {}
    for path in sorted(nlu_dir.rglob("*.yml")):
        if path.name.endswith(".generated.yml"):
            continue
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "synonym" in block:
                phrases = [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip()]
                found.setdefault(block["synonym"], []).extend(phrases)
    return found


def lookup(phrases: Dict[str, List[str]], link_topics: List[str]) -> List[str]:
    """The lookup table: every phrase, the longest first, so that "cops training portal" is found
    whole (training) and not as "cops" (the COPS Office)."""
    unnamed = [topic for topic in link_topics if topic not in phrases]
    if unnamed:
        raise TopicsError(
            f"data/nlu/: no `- synonym: {unnamed[0]}` names the phrases of the topic "
            f"{unnamed[0]!r}, which a link of content/contact_data.yml answers"
        )
    unknown = [topic for topic in phrases if topic not in link_topics]
    if unknown:
        raise TopicsError(
            f"data/nlu/: `- synonym: {unknown[0]}` is no topic a link answers: add it to a link's "
            f"`topics:` in content/contact_data.yml, or fix its name"
        )
    every = list(dict.fromkeys(phrase for topic in link_topics for phrase in phrases[topic]))
    return sorted(every, key=len, reverse=True)


class _Dumper(yaml.SafeDumper):
    """Writes a text of several lines (the lookup table's examples) as a block, as Rasa's files do."""


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def _dump(path: Path, source: str, data: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    dumped = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text(HEADER.format(source=source) + dumped, encoding="utf-8")


def write(answers: Answers, domain_out: Path = DOMAIN_OUT, rules_out: Path = RULES_OUT) -> None:
    _dump(
        domain_out,
        "content/answers.yml",
        {"version": "3.1", "intents": list(answers.entries), "responses": responses(answers)},
    )
    _dump(rules_out, "content/answers.yml", {"version": "3.1", "rules": rules(answers)})


def write_lookup(phrases: List[str], path: Path = LOOKUP_OUT) -> None:
    examples = "".join(f"- {phrase}\n" for phrase in phrases)
    _dump(
        path,
        "the `- synonym:` blocks of data/nlu/",
        {"version": "3.1", "nlu": [{"lookup": ENTITY, "examples": examples}]},
    )


def main() -> int:
    try:
        # The contact data checks every answer's link as it loads.
        answers = answers_file.load()
        contacts = contact_data.load(answers=answers)
        phrases = lookup(topic_phrases(), contacts.topics())
    except (answers_file.AnswersError, contact_data.ContactDataError) as error:
        print(f"content/{error}", file=sys.stderr)
        return 1
    except TopicsError as error:
        print(error, file=sys.stderr)
        return 1
    write(answers)
    write_lookup(phrases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
