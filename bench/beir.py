"""Retrieval quality on a BEIR-layout data set, through the product's own indexing and search code.

    python bench/beir.py ../shared/data/beir/scifact --split test --json
    python bench/beir.py ../shared/data/norquad-retrieval --split test

Each corpus document becomes a Markdown article in a work folder (kept between runs, so a second run
re-embeds nothing), `kb index` code builds the index, and every query runs through `Searcher` in dense,
lexical and hybrid mode. Prints nDCG@10, Recall@10 and Recall@100 per mode, with index and query times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import percentile  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402
from indexer.retrieval.evaluation import ndcg_at, recall_at  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402
from indexer.text.language import detect_language  # noqa: E402

MODES = ("dense", "lexical", "hybrid")
DEPTH = 100


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    qrels: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            parts = line.strip().split("\t")
            if len(parts) == 3:
                qrels.setdefault(parts[0], {})[parts[1]] = float(parts[2])
    return qrels


def article_id(doc_id: str) -> str:
    return "doc-" + re.sub(r"[^\w.-]", "_", doc_id)


def write_kb(corpus: list[dict], kb_dir: Path, lang: str) -> None:
    """One Markdown article per document; unchanged files are left alone so their vectors are reused."""
    kb_dir.mkdir(parents=True, exist_ok=True)
    for doc in corpus:
        title = (doc.get("title") or "").strip()
        front = {"id": article_id(doc["_id"]), "lang": lang, "title": title or doc["_id"]}
        body = "\n\n".join(part.strip() for part in doc.get("text", "").split("\n") if part.strip())
        text = "---\n" + "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in front.items()) + "---\n"
        text += body + "\n"
        path = kb_dir / f"{article_id(doc['_id'])}.md"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--lang", default=None, help="Language of the documents (default: guessed from the name).")
    parser.add_argument("--work", type=Path, default=None, help="Work folder (default: bench/results/<name>).")
    parser.add_argument("--model", default=None)
    parser.add_argument("--weights", default=None, help="Fusion weights override, e.g. nb=0.2:1,en=1:1")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    dataset = args.dataset.resolve()
    name = dataset.name
    lang = args.lang or ("nb" if "norquad" in name or "-no" in name else "en")
    work = args.work or Path(__file__).resolve().parent / "results" / name
    corpus = read_jsonl(dataset / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in read_jsonl(dataset / "queries.jsonl")}
    qrels = read_qrels(dataset / "qrels" / f"{args.split}.tsv")
    qrels = {
        qid: {article_id(doc): gain for doc, gain in docs.items()} for qid, docs in qrels.items() if qid in queries
    }

    write_kb(corpus, work / "kb", lang)
    settings = Settings.from_env(kb_dir=work / "kb", index_dir=work / "index", model=args.model,
                                 default_lang=lang, fusion_weights=args.weights)
    started = time.perf_counter()
    build = build_index(settings, progress=not args.json)
    index_seconds = time.perf_counter() - started

    searcher = Searcher(settings)
    searcher.max_results = DEPTH
    searcher.warm_up()
    detected = [detect_language(text) for text in (queries[qid] for qid in qrels)]
    results = {}
    for mode in args.modes.split(","):
        ndcg, recall10, recall100, times = [], [], [], []
        for qid, gains in qrels.items():
            began = time.perf_counter()
            response = searcher.search(queries[qid], k=DEPTH, mode=mode)
            times.append((time.perf_counter() - began) * 1000)
            ranked = [result["article_id"] for result in response.results]
            ndcg.append(ndcg_at(ranked, gains, 10))
            recall10.append(recall_at(ranked, gains, 10))
            recall100.append(recall_at(ranked, gains, 100))
        results[mode] = {
            "ndcg@10": round(statistics.fmean(ndcg), 4),
            "recall@10": round(statistics.fmean(recall10), 4),
            "recall@100": round(statistics.fmean(recall100), 4),
            "query_ms_p50": round(statistics.median(times), 2),
            "query_ms_p95": round(percentile(times, 0.95), 2),
        }
    summary = {
        "dataset": name, "split": args.split, "documents": len(corpus), "queries": len(qrels),
        "passages": build.passages, "model": settings.model, "fusion_weights": args.weights,
        "query_languages": {str(k): detected.count(k) for k in set(detected)},
        "index_seconds": round(index_seconds, 1), "embedded_passages": build.embedded_passages,
        "results": results,
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(f"{name} ({args.split}): {len(corpus):,} documents, {build.passages:,} passages, {len(qrels)} queries;"
              f" indexed in {index_seconds:.1f} s ({build.embedded_passages:,} passages embedded)")
        print(f"{'mode':<8} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'p50 ms':>7} {'p95 ms':>7}")
        for mode, row in results.items():
            print(f"{mode:<8} {row['ndcg@10']:>8.4f} {row['recall@10']:>7.4f} {row['recall@100']:>7.4f}"
                  f" {row['query_ms_p50']:>7.2f} {row['query_ms_p95']:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
