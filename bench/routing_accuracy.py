"""Routing accuracy on the golden routing questions: the share routed to the department that should take over.

    python bench/routing_accuracy.py            # indexes kb/ into a temporary folder first
    python bench/routing_accuracy.py --index .kb-index --json

Each question of tests/golden_routing.yaml is searched once (as /api/search does) and the route of its first
result is compared with the expected department; an urgent question also needs that department first in
`urgent`. Printed overall, per language and for the urgent questions, with every miss.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _index import given_or_built  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402
from indexer.routing.golden import load_routing_questions, routing_accuracy  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--index", type=Path, default=None, help="Use this index instead of building one.")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "golden_routing.yaml")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    index_dir = given_or_built(args.index, args.kb, "kb-routing-")
    searcher = Searcher(Settings.from_env(index_dir=index_dir))
    report = routing_accuracy(searcher, load_routing_questions(args.questions))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"Routing accuracy on {report['questions']} questions ({args.questions.name}, model "
          f"{searcher.settings.model}): {report['accuracy']:.1%}")
    for lang, share in report["by_language"].items():
        print(f"  {lang}: {share:.1%}")
    print(f"  urgent questions: {report['urgent']:.1%}")
    for row in report["rows"]:
        if not row["right"]:
            print(f"  miss: {row['question']!r} expected {row['expected']}, got {row['got']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
