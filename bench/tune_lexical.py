"""Sweep the keyword side's language and synonym weights over every labelled set we have, in one run.

    python bench/tune_lexical.py

Needs the indexes that `bench/beir.py` leaves in bench/results/ for scifact and norquad-retrieval, and
builds the sample KB's. Prints lexical-only nDCG@10 on both benchmarks and Recall@1/@3 on the sample
KB's golden and cross-language questions for each combination, so the constants in indexer/retrieval/search.py
rest on measurements.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from beir import article_id, read_jsonl, read_qrels  # noqa: E402

import indexer.retrieval.search as search_module  # noqa: E402
import indexer.text.lexical as lexical_module  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402
from indexer.retrieval.evaluation import load_questions, ndcg_at, report, run  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402

SHARED = ROOT.parent.parent / "shared" / "data"
# Fields of lexical.KeywordTuning and the values tried for each.
GRID = {
    "secondary_language_weight": (0.0, 0.3, 0.6),
    "other_language_factor": (0.5, 0.7, 1.0),
    "synonym_weight": (0.25, 0.5, 1.0),
}


def beir_ndcg(searcher: Searcher, dataset: Path) -> float:
    queries = {q["_id"]: q["text"] for q in read_jsonl(dataset / "queries.jsonl")}
    qrels = read_qrels(dataset / "qrels" / "test.tsv")
    scores = []
    for qid, docs in qrels.items():
        if qid not in queries:
            continue
        gains = {article_id(doc): gain for doc, gain in docs.items()}
        ranked = [r["article_id"] for r in searcher.search(queries[qid], k=10, mode="lexical").results]
        scores.append(ndcg_at(ranked, gains))
    return sum(scores) / len(scores)


def main() -> int:
    sample = Settings(kb_dir=ROOT.parent / "kb", index_dir=Path(tempfile.mkdtemp()) / "index")
    build_index(sample)
    searchers = {"sample": Searcher(sample)}
    for name, dataset in (("scifact", SHARED / "beir" / "scifact"), ("norquad", SHARED / "norquad-retrieval")):
        work = ROOT / "results" / dataset.name
        if (work / "index").exists():
            # Rebuilding reuses every vector and re-analyses the keywords with the current code.
            settings = Settings(kb_dir=work / "kb", index_dir=work / "index",
                                default_lang="nb" if name == "norquad" else "en")
            build_index(settings)
            searchers[name] = Searcher(settings)
    golden = load_questions(ROOT.parent / "tests" / "golden_questions.yaml")
    cross = load_questions(ROOT.parent / "tests" / "golden_cross_language.yaml")

    names = list(GRID)
    header = " ".join(f"{n.split('_')[0][:9]:>9}" for n in names)
    print(f"{header}  scifact  norquad  gold-nb R1/R3  gold-en R1/R3  cross R3")
    for values in itertools.product(*GRID.values()):
        # The searcher reads the tuning from its module at query time.
        search_module.KEYWORDS = dataclasses.replace(lexical_module.KEYWORDS, **dict(zip(names, values, strict=True)))
        row = " ".join(f"{v:>9}" for v in values)
        scifact = beir_ndcg(searchers["scifact"], SHARED / "beir" / "scifact") if "scifact" in searchers else 0
        norquad = beir_ndcg(searchers["norquad"], SHARED / "norquad-retrieval") if "norquad" in searchers else 0
        gold = report(run(searchers["sample"], golden, mode="lexical"))["by_language"]
        crossed = report(run(searchers["sample"], cross, mode="lexical"))["overall"]
        print(f"{row}  {scifact:7.4f}  {norquad:7.4f}  {gold['nb']['recall@1']:.2f}/{gold['nb']['recall@3']:.2f}"
              f"      {gold['en']['recall@1']:.2f}/{gold['en']['recall@3']:.2f}      {crossed['recall@3']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
