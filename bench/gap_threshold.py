"""Where the search's confidence tells a question the KB answers from one it does not (a content gap).

    python bench/gap_threshold.py            # indexes kb/ into a temporary folder first
    python bench/gap_threshold.py --index .kb-index

Runs the golden questions (every one answered by the sample KB) and tests/gap_questions.yaml (none
answered) through the product's own search, prints both coverage signals of each side by language,
and per language the signal and threshold with the best balanced accuracy: what `kb report` uses
(indexer/reports.py, GAP_RULES) to call a search unanswered.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from indexer.builder import build_index  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.evaluation import load_questions  # noqa: E402
from indexer.reports import GAP_RULES, SIGNALS, is_gap  # noqa: E402
from indexer.search import Searcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--index", type=Path, default=None)
    args = parser.parse_args()
    index_dir = args.index
    if index_dir is None:
        index_dir = Path(tempfile.mkdtemp(prefix="kb-gaps-")) / "index"
        build_index(Settings.from_env(kb_dir=args.kb, index_dir=index_dir))
    searcher = Searcher(Settings.from_env(index_dir=index_dir))
    answered = [(q.question, q.lang) for q in load_questions(ROOT / "tests" / "golden_questions.yaml")]
    gaps = [(item["question"], item["lang"]) for item in
            yaml.safe_load((ROOT / "tests" / "gap_questions.yaml").read_text(encoding="utf-8"))]

    def signals(questions):
        # Grouped by the language the file gives; judged, as `kb report` does, by the detected one.
        found = []
        for question, lang in questions:
            response = searcher.search(question, k=3)
            found.append((lang, dict(response.signals, lang=response.lang)))
        return found

    sides = {"answered": signals(answered), "gap": signals(gaps)}
    for lang in ("nb", "en"):
        print(f"{lang}:")
        best = None
        for signal in SIGNALS:
            asked = {name: [found for value_lang, found in rows if value_lang == lang] for name, rows in sides.items()}
            values = {name: [found[signal] for found in rows if found[signal] is not None]
                      for name, rows in asked.items()}
            if any(len(values[name]) < len(asked[name]) for name in asked):
                print(f"  {signal:<8} known for only {len(values['answered'])}/{len(asked['answered'])} answered "
                      f"and {len(values['gap'])}/{len(asked['gap'])} gap questions (the model did not run)")
                continue
            for name, scores in values.items():
                print(f"  {signal:<8} {name:<9} n={len(scores):<3} min {min(scores):.2f}  "
                      f"median {statistics.median(scores):.2f}  max {max(scores):.2f}")
            for step in range(5, 96):
                threshold = step / 100
                found = sum(value < threshold for value in values["gap"]) / len(values["gap"])
                kept = sum(value >= threshold for value in values["answered"]) / len(values["answered"])
                if best is None or (found + kept) / 2 > best[0]:
                    best = ((found + kept) / 2, signal, threshold, found, 1 - kept)
        accuracy, signal, threshold, found, wrong = best
        print(f"  best: {signal} < {threshold:.2f}, balanced accuracy {accuracy:.3f} ({found:.0%} of gaps found, "
              f"{wrong:.0%} of answered questions called gaps)")
        rows = {name: [found for value_lang, found in rows if value_lang == lang]
                for name, rows in sides.items()}
        found = sum(map(is_gap, rows["gap"])) / len(rows["gap"])
        wrong = sum(map(is_gap, rows["answered"])) / len(rows["answered"])
        print(f"  configured ({' < '.join(map(str, GAP_RULES[lang]))}): balanced accuracy "
              f"{(found + 1 - wrong) / 2:.3f} ({found:.0%} of gaps found, "
              f"{wrong:.0%} of answered questions called gaps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
