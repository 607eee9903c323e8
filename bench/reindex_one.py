"""Time `kb index` after one article changed, process start included, as an editor's publish costs.

    python bench/reindex_one.py --kb ../shared/data/kb-en/ms-officedocs-support --lang en

Copies the KB into bench/results/ once (the shared data is never written), builds a full index there if
none exists yet, then repeatedly edits one article and runs `kb index` as a new process, checking that
exactly one article was re-embedded. Prints the wall time of each run and their median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import KB  # noqa: E402


def kb_index(kb: Path, index: Path, lang: str, backend: str) -> tuple[float, dict]:
    """Run `kb index --json` in a fresh process; wall seconds and its report."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", KB_DEFAULT_LANG=lang, KB_BACKEND=backend)
    began = time.perf_counter()
    done = subprocess.run(
        [str(KB), "index", "--kb", str(kb), "--index", str(index), "--json"],
        capture_output=True, text=True, env=env, check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"kb index failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--lang", default="nb")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnx"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None, help="Work folder (default bench/results/reindex-<kb>).")
    args = parser.parse_args()

    work = args.work or ROOT / "bench" / "results" / f"reindex-{args.kb.resolve().name}"
    kb, index = work / "kb", work / "index"
    if not kb.exists():
        shutil.copytree(args.kb, kb)
    if not (index / "CURRENT").exists():
        seconds, report = kb_index(kb, index, args.lang, args.backend)
        print(f"full build: {seconds:.1f} s, {report['articles']:,} articles, {report['passages']:,} passages")
    kb_index(kb, index, args.lang, args.backend)  # settle any edit left by an interrupted run

    article = sorted(kb.rglob("*.md"))[len(list(kb.rglob("*.md"))) // 2]
    original = article.read_text(encoding="utf-8")
    times = []
    try:
        for run in range(1, args.runs + 1):
            article.write_text(original + f"\n\nEdited for reindex run {run} at {time.time():.0f}.\n", encoding="utf-8")
            seconds, report = kb_index(kb, index, args.lang, args.backend)
            reembedded = report["added"] + report["changed"]
            print(f"run {run}: {seconds:.2f} s wall, {report['changed']} changed, {reembedded} re-embedded, "
                  f"{report['embedded_passages']} passages embedded")
            if reembedded != 1:
                raise SystemExit(f"expected exactly one article re-embedded, got {reembedded}")
            times.append(seconds)
    finally:
        article.write_text(original, encoding="utf-8")
    print(f"one article changed ({article.relative_to(kb)}), backend {args.backend}: "
          f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s "
          f"over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
