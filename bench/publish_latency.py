"""Seconds from an editor saving an article to a running server answering with its new text, quiet and under load.

    python bench/publish_latency.py                 # sample KB, kb serve + kb watch, 5 saves quiet, 5 with 8 clients
    python bench/publish_latency.py --kb ../shared/data/kb-en/ms-officedocs-support --index DIR   # DIR: its index

Copies the KB (and the index given with --index) into a temporary folder, starts `kb serve` (2 workers, as
shipped) and `kb watch` there, then appends a sentence with a unique word to one article and asks the server
for that word every 50 ms until an answer contains it. The saves run first with no other traffic, then while
`--clients` threads each search their own questions (the KB's article titles and headings, each asked once)
without pause. Prints the median save-to-served time of each, the seconds `kb watch` spent inside the
build itself as its summary line reports them, and the seconds from that line to the server answering with
the new text. The index given must have been built with the same --lang, or the first build is a full one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import KB, get_json, search_url, serve, stop  # noqa: E402
from _stats import load_average, percentile  # noqa: E402

POLL_SECONDS = 0.05
GIVE_UP_SECONDS = 120
# Seconds between saves, so each build and swap is measured on its own.
SETTLE_SECONDS = 2.0
_BUILD_LINE = re.compile(r"in ([\d.]+) s; ")


class Watcher:
    """`kb watch` as a process, its summary lines read as they come to learn how long each build took."""

    def __init__(self, kb: Path, index: Path, lang: str, log: Path):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "KB_DEFAULT_LANG": lang}
        self.log = log
        with open(log, "w", encoding="utf-8") as errors:
            self.process = subprocess.Popen([str(KB), "watch", "--kb", str(kb), "--index", str(index)],
                                            stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
        self.builds: list[float] = []
        self.finished: list[float] = []  # when each summary line arrived (time.monotonic)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            match = _BUILD_LINE.search(line)
            if match:
                self.finished.append(time.monotonic())
                self.builds.append(float(match.group(1)))

    def wait_for_builds(self, count: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while len(self.builds) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("kb watch did not finish its build; its first lines:\n" + self.head())
            time.sleep(0.1)

    def head(self, lines: int = 5) -> str:
        """The start of kb watch's standard error, where a full rebuild says why (another --lang, say)."""
        text = self.log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
        return "\n".join(text.splitlines()[:lines])


class Clients:
    """`count` threads, each searching its own share of `questions` back to back until stopped."""

    def __init__(self, base: str, questions: list[str], count: int):
        self.latencies: list[float] = []
        self.failures = 0
        self.failed: list[str] = []  # status and error of each failed search, to say what went wrong
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(base, questions[i::count]), daemon=True)
                         for i in range(count)]

    def _run(self, base: str, questions: list[str]) -> None:
        for question in questions:
            if self._stop.is_set():
                return
            began = time.monotonic()
            try:
                status, answer = get_json(search_url(base, question, k=5))
            except OSError as exc:
                status, answer = 0, {"error": str(exc)}
            if status == 200:
                self.latencies.append(time.monotonic() - began)
            else:
                self.failures += 1
                self.failed.append(f"{status} {str(answer.get('error', ''))[:160]}")

    def __enter__(self) -> Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def save_and_wait(target: Path, base: str) -> tuple[float, float]:
    """Append a paragraph with a word never seen before; when it was saved and seconds until the server's answer
    holds it."""
    word = "kontrollord" + uuid.uuid4().hex[:8]
    saved = time.monotonic()
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"\n\nNew paragraph with {word}.\n")
    while time.monotonic() - saved < GIVE_UP_SECONDS:
        status, payload = get_json(search_url(base, word, k=1, mode="lexical"))
        if status == 200 and payload["results"] and word in payload["results"][0]["text"]:
            return saved, time.monotonic() - saved
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{word} was not served within {GIVE_UP_SECONDS} s")


def run_saves(target: Path, base: str, watcher: Watcher, saves: int) -> tuple[list[float], ...]:
    """Per save: seconds to served, the build seconds kb watch reported, and the seconds from its summary line
    to the server answering with the new text (the swap in each worker, and the poll)."""
    served, builds, after_build = [], [], []
    for _ in range(saves):
        before = len(watcher.builds)
        saved, seconds = save_and_wait(target, base)
        served.append(seconds)
        watcher.wait_for_builds(before + 1)
        builds.append(watcher.builds[-1])
        after_build.append(round(saved + seconds - watcher.finished[-1], 2))
        time.sleep(SETTLE_SECONDS)
    return served, builds, after_build


def questions_of(kb: Path) -> list[str]:
    """Every article's title and section headings, each once, as distinct questions for the clients."""
    found: dict[str, None] = {}
    for path in sorted(kb.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"^(?:title:|#{1,3}) *['\"]?(.+?)['\"]?\s*$", text, re.MULTILINE):
            if len(match.group(1).split()) >= 2:
                found.setdefault(match.group(1), None)
    return list(found)


def _warnings(log: Path, most: int = 20) -> list[str]:
    """The first lines of kb serve's standard error that report a problem (its access log is elsewhere)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    problems = [line for line in lines if any(word in line for word in ("WARNING", "ERROR", "Error", "Traceback"))]
    return [line[:300] for line in problems[:most]]


def figures(served: list[float], builds: list[float], after_build: list[float]) -> dict:
    return {"seconds": [round(t, 2) for t in served], "median_seconds": round(statistics.median(served), 2),
            "max_seconds": round(max(served), 2), "build_seconds": builds,
            "median_build_seconds": round(statistics.median(builds), 2), "after_build_seconds": after_build,
            "median_after_build_seconds": round(statistics.median(after_build), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb")
    parser.add_argument("--lang", default="nb", help="KB_DEFAULT_LANG the index was built with.")
    parser.add_argument("--index", type=Path, default=None, help="An index of the same KB to start from (copied).")
    parser.add_argument("--saves", type=int, default=5, help="Saves measured quiet, and again under load.")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kb-publish-"))
    kb = work / "kb"
    shutil.copytree(args.kb, kb)
    index_dir = work / "index"
    if args.index:
        shutil.copytree(args.index, index_dir, ignore=shutil.ignore_patterns("build.lock"))
    articles = sorted(kb.rglob("*.md"))
    target = articles[len(articles) // 2]
    questions = questions_of(kb)
    watcher = server = None
    try:
        watcher = Watcher(kb, index_dir, args.lang, work / "watch.log")
        watcher.wait_for_builds(1)  # the model loaded and the first build (nothing or everything changed) done
        server, base = serve(index_dir, env={"KB_DEFAULT_LANG": args.lang}, log=work / "serve.log")
        load_before = load_average()
        quiet = run_saves(target, base, watcher, args.saves)
        with Clients(base, questions, args.clients) as clients:
            time.sleep(SETTLE_SECONDS)
            loaded = run_saves(target, base, watcher, args.saves)
        load_after = load_average()
    finally:
        for process in (watcher and watcher.process, server):
            if process is not None:
                stop(process)
        server_errors = _warnings(work / "serve.log")
        shutil.rmtree(work, ignore_errors=True)
    summary = {"kb": str(args.kb), "article": str(target.relative_to(kb)), "quiet": figures(*quiet),
               "loaded": {**figures(*loaded), "clients": args.clients, "searches": len(clients.latencies),
                          "failed": clients.failures, "failures": sorted(set(clients.failed)),
                          "questions": len(questions),
                          "search_p50_ms": round(1000 * percentile(clients.latencies, 0.5), 1),
                          "search_p95_ms": round(1000 * percentile(clients.latencies, 0.95), 1)},
               "load": [load_before, load_after], "server_warnings": server_errors}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for name, result in (("quiet", summary["quiet"]), (f"{args.clients} clients", summary["loaded"])):
            print(f"{name}: save -> served median {result['median_seconds']} s, max {result['max_seconds']} s over "
                  f"{len(result['seconds'])} saves ({', '.join(map(str, result['seconds']))}); inside the build "
                  f"median {result['median_build_seconds']} s, from its end to served median "
                  f"{result['median_after_build_seconds']} s")
        loaded = summary["loaded"]
        print(f"load: {loaded['searches']:,} searches of {len(questions):,} distinct questions by {args.clients} "
              f"clients, {loaded['failed']} failed, "
              f"p50 {loaded['search_p50_ms']} ms, p95 {loaded['search_p95_ms']} ms; {load_before} -> {load_after}")
        for failure in loaded["failures"]:
            print(f"  failed: {failure}")
        for line in server_errors:
            print(f"  kb serve: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
