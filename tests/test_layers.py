"""The layers: content/ is shared and imports neither server's code; the Rasa server's code
(channels/, components/) never imports the action server's (actions/), so its image needs none."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_packages(folder: str) -> dict:
    """file -> the top-level packages its imports name."""
    found = {}
    for path in sorted((ROOT / folder).glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[path.relative_to(ROOT).as_posix()] = names
    return found


def test_the_rasa_server_s_code_never_imports_the_action_server_s():
    for folder in ("channels", "components"):
        offenders = [file for file, names in imported_packages(folder).items() if "actions" in names]
        assert offenders == [], f"{offenders} import actions/: take what they need from content/"


def test_the_content_imports_neither_server_s_code():
    offenders = [
        file
        for file, names in imported_packages("content").items()
        if names & {"actions", "channels", "components", "ops", "rasa", "rasa_sdk"}
    ]
    assert offenders == []


def test_the_rasa_image_takes_the_content_and_not_the_actions():
    dockerfile = (ROOT / "deploy" / "rasa.Dockerfile").read_text(encoding="utf-8")
    copied = [line for line in dockerfile.splitlines() if line.startswith("COPY")]
    assert "COPY --chown=1001 content/ /app/content/" in copied
    assert [line for line in copied if "actions/" in line] == []
