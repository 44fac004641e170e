"""Fails when the held-out macro intent F1 in Rasa's report is below the minimum.

Usage: check_f1.py results/holdout/intent_report.json --min 0.90 [--label Spanish]
Lists the weakest intents, so the failure says where to add training examples.
"""

import argparse
import json
import sys
from pathlib import Path

SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", type=Path)
    parser.add_argument("--min", type=float, required=True, dest="minimum")
    parser.add_argument("--label", default="", help="which held-out set, in the printed line")
    args = parser.parse_args()

    report = json.loads(args.report.read_text(encoding="utf-8"))
    macro_f1 = report["macro avg"]["f1-score"]
    per_intent = {name: row["f1-score"] for name, row in report.items() if name not in SUMMARY_ROWS}
    weakest = sorted(per_intent.items(), key=lambda item: item[1])[:5]
    print(
        f"{args.label + ' ' if args.label else ''}held-out macro intent F1: {macro_f1:.3f} (minimum {args.minimum:.2f}), "
        f"accuracy {report['accuracy']:.3f}, {len(per_intent)} intents"
    )
    print("weakest: " + ", ".join(f"{name} {f1:.2f}" for name, f1 in weakest))
    if macro_f1 < args.minimum:
        print(f"FAIL: macro F1 {macro_f1:.3f} is below {args.minimum:.2f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
