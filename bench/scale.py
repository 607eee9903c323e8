"""Large indexes: 20k, 100k and 1M passages built from a real index, searched through `kb serve` as shipped.

    python bench/scale.py --source SOURCE_INDEX --out DIR
    python bench/scale.py --source SOURCE_INDEX --out DIR --sizes 20000,100000

No text is embedded for the large sizes: the source version's articles, passages, reply sentences and
vectors are copied over and over (copy c of an article gets the id `<id>~c`, the path `c/<path>` and its
title with ` (c)`), each copy's passage vectors moved by Gaussian noise and renormalised (`--noise` per
dimension; 0.02 puts a copy at a cosine of about 1/√(1 + 384·0.02²) = 0.93 from its original), and the
result is written as a real index version through the store's own writer, which chooses exact or IVF
vectors and measures nprobe on 300 source article titles embedded as questions.

Per size it prints: the build time (the writer from its first article to the commit, and the vector
index's part), the vector index's kind and parameters and its recall@10 against exact on the titles and
on the bench's questions, the vector search alone in-process (the shipped index against exact FAISS on
the same vectors, one thread, and with a filter leaving 1,000 to 100,000 passages drawn at random), then
`/api/search` over HTTP to `kb serve` (2 workers, replies on, k=10, each question asked once): p50/p95,
each worker's memory (PSS and its shared part, from /proc/<pid>/smaps_rollup) and the time from starting
`kb serve` until it answers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from _server import get_json, search_url, serve, stop  # noqa: E402
from _stats import load_average, percentile, worker_memory  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.embedding import embedder_for  # noqa: E402
from indexer.store import IndexRoot, IndexVersion  # noqa: E402
from indexer.store.schema import REUSABLE_FORMATS  # noqa: E402
from indexer.store.vectors import exact_top, recall_at  # noqa: E402
from indexer.text.lexical import ANALYZER, LexicalIndex  # noqa: E402

SIZES = (20_000, 100_000, 1_000_000)
QUESTION_FILES = ("agent_questions.yaml", "agent_questions_dev.yaml")
# Passages a filter leaves, drawn at random, for the filtered vector searches.
FILTERED = (1_000, 5_000, 20_000, 100_000)


def questions(count: int) -> list[str]:
    """`count` distinct agent questions: the written ones, then what an agent has typed of each halfway."""
    written = [item["question"] for name in QUESTION_FILES
               for item in yaml.safe_load((ROOT / "bench" / name).read_text(encoding="utf-8"))]
    halves = [" ".join(q.split()[: max(2, len(q.split()) // 2)]) for q in written]
    return list(dict.fromkeys(written + halves))[:count]


class Source:
    """What the source version holds, read once: articles with their passages, replies, sentences, vectors."""

    def __init__(self, index_dir: Path):
        root = IndexRoot(index_dir)
        self.version = IndexVersion(root.version_dir(root.live_version()), formats=REUSABLE_FORMATS)
        self.vectors = self.version.vectors()
        replies: dict[str, list[dict]] = {}
        for row in self.version.all_replies():
            replies.setdefault(row["article_id"], []).append(dict(row))
        self.articles = []
        for row in self.version.articles():
            passages = self.version.article_passages(row["id"])
            ids = [p["id"] for p in passages]
            found = self.version.passage_sentences(ids) if self.version.has_sentences else {}
            sentences = [(p["ordinal"], position, text, vector, terms) for p in passages
                         for position, (text, vector, terms) in enumerate(found.get(p["id"], []))]
            # Terms split once: every copy's passages share the lists, so a million passages fit in memory.
            stored = [dict(p, terms=p["terms"].split()) for p in passages]
            self.articles.append((dict(row), stored, replies.get(row["id"], []), sentences))
        self.passages = sum(len(passages) for _, passages, _, _ in self.articles)

    def titles(self) -> list[str]:
        return sorted({row["title"] for row, _, _, _ in self.articles})


def write_copy(source: Source, size: int, target: Path, noise: float, title_vectors: np.ndarray) -> dict:
    """An index of about `size` passages in `target` (whole articles, copies of the source's), written and
    switched in through the store; what the build took and how the vectors were indexed."""
    rng = np.random.default_rng(size)
    root = IndexRoot(target)
    started = time.perf_counter()
    writer = root.start_version()
    terms: list[list[str]] = []
    written = copy = 0
    while written < size:
        for row, passages, replies, sentences in source.articles:
            if written >= size:
                break
            ids = np.asarray([p["id"] for p in passages], dtype=np.int64)
            vectors = source.vectors[ids] if len(ids) else np.zeros((0, source.vectors.shape[1]), np.float32)
            new_row = dict(row)
            if copy:
                new_row.update(id=f"{row['id']}~{copy}", path=f"{copy}/{row['path']}", title=f"{row['title']} ({copy})")
                vectors = vectors + rng.normal(0.0, noise, vectors.shape).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            stored = [{"heading_path_json": p["heading_path"], "anchor": p["anchor"], "text": p["text"],
                       "token_count": p["token_count"], "terms": p["terms"]} for p in passages]
            writer.add_article(new_row, stored, vectors, replies)
            if sentences:
                writer.add_sentences(new_row["id"], [(o, pos, text) for o, pos, text, _, _ in sentences],
                                     np.stack([vector for _, _, _, vector, _ in sentences]).astype(np.float32),
                                     [terms or ANALYZER.terms(text, row["lang"]) for _, _, text, _, terms in sentences])
            terms.extend(p["terms"] for p in stored)
            written += len(passages)
        copy += 1
    manifest = dict(source.version.manifest)
    manifest.update(counts={"articles": len(source.articles) * copy, "skipped": 0},
                    bench={"source": source.version.name, "copies": copy, "noise": noise})
    manifest.pop("vectors", None)
    writer.commit(manifest, source.vectors.shape[1], LexicalIndex.build(terms), source.version.synonyms.as_list(),
                  source.version.placeholders, None, {}, None, title_vectors)
    root.switch_to(writer.name)
    info = dict(writer.vector_info)
    info["vector_seconds"] = info.pop("build_seconds", None)
    return {"passages": written, "build_seconds": time.perf_counter() - started, **info}


def vector_timings(index_dir: Path, query_vectors: np.ndarray) -> dict:
    """The shipped vector index against exact FAISS on the same vectors: ms per question (one thread) and the
    shipped index's recall@10 against exact on these questions."""
    faiss.omp_set_num_threads(1)
    version = IndexRoot(index_dir).open_current()
    vectors = version.vectors()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    shipped, exact, found = [], [], []
    for vector in query_vectors:
        begun = time.perf_counter()
        hits = version.search(vector, 10)
        shipped.append((time.perf_counter() - begun) * 1000)
        begun = time.perf_counter()
        flat.search(vector.reshape(1, -1), 10)
        exact.append((time.perf_counter() - begun) * 1000)
        found.append([i for i, _ in hits] + [-1] * (10 - len(hits)))
    recall = recall_at(np.asarray(found), exact_top(vectors, query_vectors))
    del flat
    filtered = {}
    rng = np.random.default_rng(4)
    for allowed_count in FILTERED:
        if allowed_count >= len(vectors):
            continue
        mask = np.zeros(len(vectors), dtype=bool)
        mask[rng.choice(len(vectors), allowed_count, replace=False)] = True
        ids = np.flatnonzero(mask)
        times, hits = [], []
        for vector in query_vectors[:50]:
            begun = time.perf_counter()
            found_here = version.search(vector, 10, mask)
            times.append((time.perf_counter() - begun) * 1000)
            hits.append([i for i, _ in found_here] + [-1] * (10 - len(found_here)))
        truth = ids[exact_top(vectors[ids], query_vectors[:50])]
        filtered[allowed_count] = {"p50_ms": round(statistics.median(times), 2),
                                   "recall": round(recall_at(np.asarray(hits), truth), 4)}
    del vectors
    return {"vector_p50_ms": statistics.median(shipped), "vector_p95_ms": percentile(shipped, 0.95),
            "exact_p50_ms": statistics.median(exact), "exact_p95_ms": percentile(exact, 0.95),
            "recall_questions": round(recall, 4), "filtered": filtered}


def through_http(index_dir: Path, asked: list[str], workers: int, onnx_dir: Path) -> dict:
    """`kb serve` as shipped: time until it answers, /api/search latencies (replies on), worker memory. The model
    is converted already (in `onnx_dir`), as on a server that has run before."""
    begun = time.perf_counter()
    process, base = serve(index_dir, workers=workers, env={"KB_FEEDBACK": "0", "KB_ONNX_DIR": str(onnx_dir)})
    started = time.perf_counter() - begun
    try:
        latencies, errors = [], 0
        for question in asked:
            t = time.perf_counter()
            status, body = get_json(search_url(base, question, k=10), timeout=120)
            latencies.append((time.perf_counter() - t) * 1000)
            errors += status != 200 or not body.get("ok")
        memory = worker_memory(process.pid)
    finally:
        stop(process)
    return {"start_seconds": round(started, 2), "http_p50_ms": statistics.median(latencies),
            "http_p95_ms": percentile(latencies, 0.95), "errors": errors, "workers": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="A built index to copy passages and vectors from.")
    parser.add_argument("--out", type=Path, required=True, help="Where the copies are written (one folder a size).")
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--noise", type=float, default=0.02, help="Gaussian noise per dimension on copied vectors.")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="Measure an index this bench built before again.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    source = Source(args.source)
    print(f"source {source.version.name}: {len(source.articles):,} articles, {source.passages:,} passages, "
          f"sentences {'stored' if source.version.has_sentences else 'not stored (format 3)'}", flush=True)
    # The model converted once, outside the source index (which the bench only reads) and the timed servers.
    settings = Settings.from_env(index_dir=args.out, onnx_cache=args.out / "onnx")
    embedder = embedder_for(settings)
    titles = source.titles()
    picked = [titles[i] for i in np.random.default_rng(3).choice(len(titles), min(300, len(titles)), replace=False)]
    title_vectors = np.asarray(embedder.embed_queries(picked), dtype=np.float32)
    asked = questions(args.questions)
    query_vectors = np.asarray(embedder.embed_queries(asked), dtype=np.float32)
    rows = []
    for size in sizes:
        target = args.out / f"n{size}"
        print(f"\n== {size:,} passages ({load_average()})", flush=True)
        if target.exists() and not args.reuse:
            raise SystemExit(f"{target} exists; remove it, choose another --out or measure it again with --reuse")
        if target.exists():
            built = dict(IndexRoot(target).open_current().manifest["vectors"])
            built.update(vector_seconds=built.pop("build_seconds", None), build_seconds=float("nan"), passages=size)
        else:
            built = write_copy(source, size, target, args.noise, title_vectors)
        took = "earlier" if math.isnan(built["build_seconds"]) else f"in {built['build_seconds']:.1f} s"
        print(f"built {built['passages']:,} passages {took}: {built['kind']}"
              + (f", {built['nlist']:,} lists, nprobe {built['nprobe']}, recall@10 {built['recall_at_10']:.3f} on "
                 f"{built['recall_questions']} titles, IVF trained and filled in {built['vector_seconds']:.1f} s"
                 if built["kind"] == "ivf" else ""), flush=True)
        timed = vector_timings(target, query_vectors)
        print(f"vector search in-process: shipped p50 {timed['vector_p50_ms']:.2f} / p95 "
              f"{timed['vector_p95_ms']:.2f} ms,"
              f" exact p50 {timed['exact_p50_ms']:.2f} / p95 {timed['exact_p95_ms']:.2f} ms; recall@10 on "
              f"{len(asked)} questions {timed['recall_questions']:.3f} ({load_average()})", flush=True)
        print("filtered vector search in-process (passages allowed: p50, recall@10 against exact over them): "
              + ", ".join(f"{count:,}: {row['p50_ms']:.2f} ms, {row['recall']:.3f}"
                          for count, row in timed["filtered"].items()), flush=True)
        served = through_http(target, asked, args.workers, settings.onnx_dir)
        print(f"kb serve: answering after {served['start_seconds']:.1f} s; /api/search (replies on, k=10, "
              f"{len(asked)} distinct questions) p50 {served['http_p50_ms']:.1f} ms, "
              f"p95 {served['http_p95_ms']:.1f} ms,"
              f" {served['errors']} errors ({load_average()})", flush=True)
        for worker in served["workers"]:
            print(f"  worker {worker['pid']}: PSS {worker['pss_mb']:.0f} MB (file-backed {worker['pss_file_mb']:.0f},"
                  f" anonymous {worker['pss_anon_mb']:.0f}), RSS {worker['rss_mb']:.0f} MB", flush=True)
        rows.append({"size": size, **built, **timed, **served, "load": load_average()})
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
