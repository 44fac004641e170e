import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The action server runs from the project root and imports the `actions` package from there.
sys.path.insert(0, str(ROOT))
