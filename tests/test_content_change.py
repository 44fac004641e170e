"""Adding a question touches five files (docs/content.md): its entry in content/answers.yml (English
and Spanish), its training examples and its held-out phrasings in each language. Done here on a copy
of the project, and Rasa accepts it."""

import filecmp
import shutil
from pathlib import Path

from conftest import assert_rasa_accepts
from test_training_data import dialogues, examples, too_few_examples, unanswered_intents

from content import answers as answers_file
from content import build, contact_data

ROOT = Path(__file__).resolve().parent.parent
# What Rasa and the content checks read.
PROJECT = ["config.yml", "domain", "data", "content", "tests/nlu_holdout.yml", "tests/nlu_holdout_es.yml"]

ENTRY = """
  training_portal_runner:
    topic: sro
    title:
      en: Who runs the COPS Training Portal
      es: Quién administra el COPS Training Portal
    text:
      en: The COPS Training Portal, with its free online courses, is run by VCPI.
      es: El COPS Training Portal, con sus cursos gratuitos en línea, lo administra VCPI.
    link: cops_training_portal
"""
EXAMPLES = [
    "who runs the cops training portal website",
    "who operates the training portal",
    "who is behind the cops training portal",
    "which organization runs the training portal",
    "who manages copstrainingportal",
    "training portal run by who",
    "who hosts the free online courses",
    "who is the provider of the cops training portal",
    "whos in charge of the training portal",
    "who maintains the cops training portal site",
    "what group operates the free police courses portal",
    "is the training portal run by the cops office itself",
    "who puts on the online cops courses",
    "who runs the portal with the free courses",
    "company behind the cops training portal",
]
SPANISH_EXAMPLES = [
    "quien administra el cops training portal",
    "quien maneja el portal de capacitacion",
    "que organizacion esta detras del training portal",
    "¿quién opera el portal de cursos gratuitos?",
    "quien es el responsable del cops training portal",
    "el portal de entrenamiento lo maneja quien",
    "quien hospeda los cursos en linea gratis",
    "que empresa administra el portal de capacitacion de cops",
    "quien esta a cargo del training portal",
    "quien mantiene el sitio del cops training portal",
    "que grupo opera el portal de cursos para policias",
    "el training portal lo maneja la oficina cops?",
    "quien ofrece los cursos en linea de cops",
    "quien dirige el portal con los cursos gratis",
    "la compania detras del cops training portal",
]
HELD_OUT_ES = [
    "quien opera en realidad el cops training portal",
    "que entidad maneja el portal de cursos gratis",
    "el training portal, quien lo administra",
]
HELD_OUT = [
    "who actually operates the cops training portal",
    "which outfit manages the free courses portal",
    "the training portal, who runs that",
]


def copy_of_the_project(tmp_path: Path) -> Path:
    for name in PROJECT:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.generated.yml"))
        else:
            shutil.copy(source, target)
    return tmp_path


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def changed_files(copy: Path) -> list:
    changed = []
    for name in PROJECT:
        for path in sorted([copy / name] if (copy / name).is_file() else (copy / name).rglob("*")):
            original = ROOT / path.relative_to(copy)
            if path.is_file() and not path.name.endswith(".generated.yml") and "__pycache__" not in path.parts:
                if not original.exists() or not filecmp.cmp(path, original, shallow=False):
                    changed.append(path.relative_to(copy).as_posix())
    return sorted(changed)


def test_a_new_question_takes_its_entry_its_examples_and_its_held_out_phrasings(tmp_path):
    copy = copy_of_the_project(tmp_path)
    append(copy / "content" / "answers.yml", ENTRY)
    append(
        copy / "data" / "nlu" / "sro_training.yml",
        "\n- intent: training_portal_runner\n  examples: |\n" + "".join(f"    - {text}\n" for text in EXAMPLES),
    )
    append(
        copy / "tests" / "nlu_holdout.yml",
        "\n- intent: training_portal_runner\n  examples: |\n" + "".join(f"    - {text}\n" for text in HELD_OUT),
    )
    append(
        copy / "data" / "nlu" / "es" / "sro_training.yml",
        "\n- intent: training_portal_runner\n  examples: |\n" + "".join(f"    - {text}\n" for text in SPANISH_EXAMPLES),
    )
    append(
        copy / "tests" / "nlu_holdout_es.yml",
        "\n- intent: training_portal_runner\n  examples: |\n" + "".join(f"    - {text}\n" for text in HELD_OUT_ES),
    )
    assert changed_files(copy) == [
        "content/answers.yml",
        "data/nlu/es/sro_training.yml",
        "data/nlu/sro_training.yml",
        "tests/nlu_holdout.yml",
        "tests/nlu_holdout_es.yml",
    ]

    # make train's first step: the content checked and written as the domain and rules.
    answers = answers_file.load(copy / "content" / "answers.yml")
    contact_data.load(copy / "content" / "contact_data.yml", answers=answers)
    build.write(answers, copy / "domain" / "answers.generated.yml", copy / "data" / "answers.generated.yml")

    intents = list(answers.entries)
    assert too_few_examples(intents, examples(sorted((copy / "data" / "nlu").glob("*.yml")))) == []
    assert too_few_examples(intents, examples(sorted((copy / "data" / "nlu" / "es").glob("*.yml")))) == []
    assert examples([copy / "tests" / "nlu_holdout.yml"])["training_portal_runner"]
    assert examples([copy / "tests" / "nlu_holdout_es.yml"])["training_portal_runner"]
    assert unanswered_intents(intents, dialogues(sorted((copy / "data").glob("*.yml")))) == []

    assert_rasa_accepts(copy)
    rules = (copy / "data" / "answers.generated.yml").read_text(encoding="utf-8")
    assert (
        "- intent: training_portal_runner\n  - action: utter_training_portal_runner\n  - action: utter_more_info"
        in rules
    )
