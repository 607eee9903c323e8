"""Where the search's confidence tells a question the KB answers from one it does not (a content gap).

    python bench/gap_threshold.py            # indexes kb/ into a temporary folder first
    python bench/gap_threshold.py --index .kb-index

Runs the golden questions (every one answered by the sample KB) and tests/gap_questions.yaml (none
answered) through the product's own search, prints both coverage signals of each side by language,
and per language the rule with the best balanced accuracy among those that call at most 10% of answered
questions gaps: one signal under a threshold, or both under theirs. That is what `kb report` uses
(indexer/reports/editors.py, GAP_RULES, per model) to call a search unanswered.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from _index import given_or_built  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.reports.editors import SIGNALS, GapRule, gap_rules, is_gap  # noqa: E402
from indexer.retrieval.evaluation import load_questions  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402

# The share of answered questions a rule may call gaps: a report full of false gaps is not read.
MAX_WRONG = 0.10
MEANING_STEPS = [step / 1000 for step in range(0, 951, 5)]
KEYWORD_STEPS = [step / 100 for step in range(5, 96, 5)]
AGREEMENT_STEPS = [step / 100 for step in range(50, 100, 1)]


def candidate_rules():
    """Every one-signal and two-signal rule on the grids."""
    yield from (GapRule(meaning=value) for value in MEANING_STEPS)
    yield from (GapRule(keywords=value) for value in KEYWORD_STEPS)
    yield from (GapRule(meaning=m, keywords=k) for m in MEANING_STEPS for k in KEYWORD_STEPS)
    yield from (GapRule(agreement=a) for a in AGREEMENT_STEPS)
    yield from (GapRule(meaning=m, agreement=a) for m in MEANING_STEPS for a in AGREEMENT_STEPS)


def judge(rows: dict, rules: dict) -> tuple[float, float]:
    """Share of gap questions found and of answered questions wrongly called gaps."""
    found = sum(is_gap(row, rules) for row in rows["gap"]) / len(rows["gap"])
    wrong = sum(is_gap(row, rules) for row in rows["answered"]) / len(rows["answered"])
    return found, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--index", type=Path, default=None)
    args = parser.parse_args()
    index_dir = given_or_built(args.index, args.kb, "kb-gaps-")
    settings = Settings.from_env(index_dir=index_dir)
    searcher = Searcher(settings)
    rules = gap_rules(settings.model)
    answered = [(q.question, q.lang) for q in load_questions(ROOT / "tests" / "golden_questions.yaml")]
    gaps = [(item["question"], item["lang"]) for item in
            yaml.safe_load((ROOT / "tests" / "gap_questions.yaml").read_text(encoding="utf-8"))]
    held_out = [(item["question"], item["lang"]) for item in
                yaml.safe_load((ROOT / "tests" / "gap_questions_heldout.yaml").read_text(encoding="utf-8"))]

    def signals(questions):
        # Grouped by the language the file gives; judged, as `kb report` does, by the detected one.
        found = []
        for question, lang in questions:
            response = searcher.search(question, k=3)
            found.append((lang, dict(response.signals, lang=response.lang)))
        return found

    sides = {"answered": signals(answered), "gap": signals(gaps)}
    held = signals(held_out)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; model {settings.model}")
    for lang in ("nb", "en"):
        print(f"{lang}:")
        rows = {name: [found for value_lang, found in rows if value_lang == lang] for name, rows in sides.items()}
        for signal in SIGNALS:
            for name, found in rows.items():
                scores = [row[signal] for row in found if row[signal] is not None]
                if scores:
                    print(f"  {signal:<8} {name:<9} n={len(scores):<3} min {min(scores):.3f}  "
                          f"median {statistics.median(scores):.3f}  max {max(scores):.3f}")
        best = None
        for rule in candidate_rules():
            found, wrong = judge(rows, {lang: rule})
            if wrong <= MAX_WRONG and (best is None or found - wrong > best[1] - best[2]):
                best = (rule, found, wrong)
        if best:
            rule, found, wrong = best
            print(f"  best with at most {MAX_WRONG:.0%} wrongly flagged: {rule}: {found:.0%} of gaps found, "
                  f"{wrong:.0%} of answered questions called gaps")
        found, wrong = judge(rows, rules)
        print(f"  configured ({rules.get(lang)}): {found:.0%} of gaps found, {wrong:.0%} of answered questions "
              f"called gaps")
        unseen = [found for value_lang, found in held if value_lang == lang]
        caught = sum(is_gap(row, rules) for row in unseen)
        print(f"  configured, on the {len(unseen)} held-out gap questions (tests/gap_questions_heldout.yaml): "
              f"{caught} found ({caught / len(unseen):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
