"""Seconds from an editor saving an article to a running server answering with its new text.

    python bench/publish_latency.py                 # sample KB, kb serve + kb watch, 5 saves
    python bench/publish_latency.py --kb DIR --lang en --index DIR --saves 5

Starts `kb serve` and `kb watch` on a copy of the KB, then appends a sentence with a unique word to an
article, and asks the server for that word every 50 ms until an answer contains it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import get_json, search_url, serve, start, stop  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402

POLL_SECONDS = 0.05
GIVE_UP_SECONDS = 120


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--lang", default="nb")
    parser.add_argument("--index", type=Path, default=None, help="An index of the same KB to start from.")
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kb-publish-"))
    kb = work / "kb"
    shutil.copytree(args.kb, kb)
    index_dir = work / "index"
    if args.index:
        shutil.copytree(args.index, index_dir)
    settings = Settings.from_env(kb_dir=kb, index_dir=index_dir, default_lang=args.lang)
    build_index(settings)
    server, base = serve(index_dir)
    watcher = start(["watch", "--kb", str(kb), "--index", str(index_dir)],  # the default debounce editors get
                    env={"KB_DEFAULT_LANG": args.lang})
    time.sleep(15)  # the watcher loads the model and makes its first (unchanged) build

    target = sorted(kb.rglob("*.md"))[len(list(kb.rglob("*.md"))) // 2]
    timings = []
    try:
        for _ in range(min(args.saves, 20)):
            word = "kontrollord" + uuid.uuid4().hex[:8]
            saved = time.monotonic()
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(f"\n\nNytt avsnitt med {word}.\n")
            while time.monotonic() - saved < GIVE_UP_SECONDS:
                status, payload = get_json(search_url(base, word, k=1, mode="lexical"))
                if status == 200 and payload["results"] and word in payload["results"][0]["text"]:
                    timings.append(time.monotonic() - saved)
                    break
                time.sleep(POLL_SECONDS)
            time.sleep(1)
    finally:
        stop(watcher)
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
    summary = {"kb": str(args.kb), "saves": len(timings), "seconds": [round(t, 2) for t in timings],
               "median_seconds": round(statistics.median(timings), 2) if timings else None,
               "max_seconds": round(max(timings), 2) if timings else None}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"save -> served: median {summary['median_seconds']} s, max {summary['max_seconds']} s "
              f"over {len(timings)} saves ({', '.join(map(str, summary['seconds']))})")
    return 0 if len(timings) == min(args.saves, 20) else 1


if __name__ == "__main__":
    sys.exit(main())
