"""How often an extract holds the answer, over a grid of the extract tuning (suggest.ExtractTuning).

    python bench/tune_extracts.py                 # indexes kb/ into a temporary folder first
    python bench/tune_extracts.py --index .kb-index

Each case is a question an agent types, the sample KB article that answers it, and a few words the
answer must say. The search runs once per case with replies on; for each setting in the grid the
suggester picks the sentences again from the same results, and a case counts when its article is the
first result and the phone extract (the bare sentences) holds the answer words. Printed per setting:
the share of cases answered and the mean number of sentences (shorter is better for reading aloud).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _index import given_or_built  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.replies.suggest import EXTRACT, ReplySuggester  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402

# (question, article id, words the answer must hold), written from the sample KB's articles.
CASES = [
    ("oppvaskmaskinen viser feilkode E24", "produkter/km-700-feilkoder", ["E24"]),
    ("robotstøvsugeren lader ikke", "produkter/rs-300-robotstovsuger", ["lade"]),
    ("how do I pair the BT-20 headphones with my phone", "produkter/bt-20-headphones-pairing", ["pairing mode"]),
    ("hvilke betalingsmåter kan kunden bruke", "betaling/betalingsmater", ["Vipps"]),
    ("hvor lenge gjelder et gavekort", "betaling/gavekort", ["3 år"]),
    ("how long is the password reset link valid", "konto/reset-password", ["60 minutes"]),
    ("hvor mange måneder kan jeg dele opp betalingen", "betaling/delbetaling", ["36"]),
    ("når får jeg pengene tilbake etter retur", "retur/refusjon", ["3–5 virkedager"]),
    ("hva koster frakt", "levering/leveringstider-og-frakt", ["79 kr"]),
    ("can I still cancel my order after it is picked", "ordre/cancel-order", ["Plukkes"]),
    ("how long does delivery take to North Norway", "levering/delivery-and-tracking", ["2–5 business days"]),
    ("kan jeg trekke ut strømmen under oppgradering av huben", "produkter/hub-1-smarthjem-oppgradering",
     ["strømmen"]),
    ("the account is locked after failed logins, how long", "konto/reset-password", ["30 minutes"]),
    ("kan gavekort brukes sammen med delbetaling", "betaling/gavekort", ["delbetaling"]),
]
GRID = {
    "keyword_weight": [0.0, 0.25, 0.5, 1.0],
    "sentences_compared": [2, 4, 8],
    "keep_ratio": [0.7, 0.8, 0.9],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--index", type=Path, default=None, help="Use this index instead of building one.")
    args = parser.parse_args()

    settings = Settings.from_env(index_dir=given_or_built(args.index, args.kb, "kb-extracts-"))
    searcher = Searcher(settings)
    found = []
    for question, article_id, words in CASES:
        response = searcher.search(question, k=3, replies=("phone",), extract_results=0)
        found.append((response, article_id, words))
    print(f"{len(CASES)} cases; first result right for "
          f"{sum(r.results[0]['article_id'] == a for r, a, _ in found if r.results)}")
    rows = []
    for values in itertools.product(*GRID.values()):
        tuning = dataclasses.replace(EXTRACT, **dict(zip(GRID, values, strict=True)))
        suggester = ReplySuggester(tuning)
        answered, lengths = 0, []
        for response, article_id, words in found:
            if not response.results or response.results[0]["article_id"] != article_id:
                continue
            result = dict(response.results[0])
            suggester.attach(response.searched, [result], response.lang, response.keyword_weights or {},
                             ("phone",), lambda response=response: searcher.query_vector(response.query), 1)
            extract = next((reply["text"] for reply in result["replies"] if reply["kind"] == "extract"), "")
            answered += all(word.lower() in extract.lower() for word in words)
            lengths.append(extract.count("\n") + 1 if extract else 0)
        rows.append((dict(zip(GRID, values, strict=True)), answered / len(CASES), statistics.mean(lengths)))
    current = {name: getattr(EXTRACT, name) for name in GRID}
    for setting, share, length in sorted(rows, key=lambda row: (-row[1], row[2])):
        marker = "  <- current" if setting == current else ""
        print(f"  {setting}  answered {share:.2f}  sentences {length:.2f}{marker}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
