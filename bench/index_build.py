"""Time a full index build of a KB folder, then a rebuild with nothing changed.

    python bench/index_build.py kb
    python bench/index_build.py ../shared/data/kb-en/ms-officedocs-support --lang en
    python bench/index_build.py ../shared/data/kb-en/ms-officedocs-support --lang en --every 8   # an eighth

Builds into a fresh temporary index directory (or --index DIR) with the product's own `build_index`,
and prints articles, passages, seconds and passages embedded per second, beside the bare encoder in the same
run (the model alone, no parsing, chunking or writing): timed on a sample of the built passages and of the
reply sentences, it gives the seconds the model alone needs for everything the build embedded, and the build's
share of the bare encoder is those seconds over the build's. `--every N` builds a copy holding every N-th
article (in path order) and every file that is not an article, for a quicker run on a large KB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.config import Settings  # noqa: E402
from indexer.embedding import embedder_for  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402


def bare_encoder_rates(settings: Settings, embedder, sample: int) -> tuple[float, float]:
    """Passages and reply sentences per second of `embed_documents` alone, each on an even sample of those
    the build stored."""
    from indexer.kb.chunking import passage_embed_text
    from indexer.store import IndexRoot

    version = IndexRoot(settings.index_dir).open_current()
    rows = version.all_passages()
    passages = [passage_embed_text(json.loads(row["heading_path"]), row["text"]) for row in rows]
    stored = version.passage_sentences([row["id"] for row in rows])
    sentences = [text for row in rows for text, _, _ in stored.get(row["id"], [])]
    rates = []
    for texts in (passages, sentences):
        texts = texts[::max(1, len(texts) // sample)][:sample]
        began = time.perf_counter()
        embedder.embed_documents(texts)
        rates.append(len(texts) / (time.perf_counter() - began) if texts else float("inf"))
    return rates[0], rates[1]


def every_nth(kb_dir: Path, step: int) -> Path:
    """A temporary copy of `kb_dir` with every `step`-th Markdown article and all its other files."""
    import shutil

    target = Path(tempfile.mkdtemp(prefix="kb-bench-kb-")) / kb_dir.name
    articles = sorted(path for path in kb_dir.rglob("*.md") if not path.name.startswith(("_", "README")))
    keep = set(articles[step - 1::step])
    for path in sorted(kb_dir.rglob("*")):
        if path.is_file() and (path in keep or path.suffix != ".md" or path.name.startswith(("_", "README"))):
            destination = target / path.relative_to(kb_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kb", type=Path)
    parser.add_argument("--lang", default="nb", help="The KB's default language.")
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sample", type=int, default=256, help="Passages the bare encoder is timed on.")
    parser.add_argument("--every", type=int, default=1, help="Build every N-th article only.")
    args = parser.parse_args()
    if args.every > 1:
        args.kb = every_nth(args.kb, args.every)

    index_dir = args.index or Path(tempfile.mkdtemp(prefix="kb-bench-")) / "index"
    settings = Settings.from_env(kb_dir=args.kb, index_dir=index_dir, default_lang=args.lang)
    began = time.perf_counter()
    embedder = embedder_for(settings)  # the backend `kb index` uses (KB_BACKEND, ONNX for the bundled model)
    embedder.model  # noqa: B018 - model load is timed on its own
    load_seconds = time.perf_counter() - began

    began = time.perf_counter()
    full = build_index(settings, embedder=embedder, progress=not args.json)
    full_seconds = time.perf_counter() - began
    began = time.perf_counter()
    again = build_index(settings, embedder=embedder)
    again_seconds = time.perf_counter() - began
    passage_rate, sentence_rate = bare_encoder_rates(settings, embedder, args.sample)
    bare_seconds = full.embedded_passages / passage_rate + full.embedded_sentences / sentence_rate

    summary = {
        "kb": str(args.kb), "articles": full.articles, "passages": full.passages, "skipped": len(full.problems),
        "model_load_seconds": round(load_seconds, 2), "full_build_seconds": round(full_seconds, 1),
        "embedded_sentences": full.embedded_sentences,
        "passages_per_second": round(full.embedded_passages / full_seconds, 1),
        "bare_encoder_passages_per_second": round(passage_rate, 1),
        "bare_encoder_sentences_per_second": round(sentence_rate, 1),
        "bare_encoder_seconds": round(bare_seconds, 1),
        "share_of_bare_encoder": round(bare_seconds / full_seconds, 3),
        "unchanged_rebuild_seconds": round(again_seconds, 2), "unchanged_rebuild_embedded": again.embedded_passages,
        "index_dir": str(index_dir),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{args.kb}: {full.articles:,} articles, {full.passages:,} passages, {len(full.problems)} skipped")
        print(f"  model load {load_seconds:.1f} s; full build {full_seconds:.1f} s "
              f"({summary['passages_per_second']} passages/s); unchanged rebuild {again_seconds:.2f} s "
              f"({again.embedded_passages} embedded)")
        print(f"  {full.embedded_sentences:,} reply sentences embedded beside the passages")
        print(f"  bare encoder on {args.sample} of the same passages and sentences: {passage_rate:.1f} passages/s, "
              f"{sentence_rate:.1f} sentences/s, {bare_seconds:.1f} s for all; the build reached "
              f"{summary['share_of_bare_encoder']:.0%} of it")
        print(f"  index: {index_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
