"""Progress on long work as a log reads it: a line every few percent of the work, with the time left."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from indexer import progress

LINE = re.compile(r"(\w+): (\d+)/(\d+) (\w+) \((\d+)% of the work\), ([\d.]+) \w+/s, (\d+) s left")


def run(monkeypatch, items, seconds, **kwargs) -> None:
    """`track` over `items`, each taking its `seconds` on a clock the test moves."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    steps = progress.track(items, **kwargs)
    for item, spent in zip(items, seconds, strict=True):
        assert next(steps) == item
        now[0] += spent
    assert next(steps, None) is None


def test_a_log_gets_a_line_every_few_percent_with_the_time_left_by_the_work(capsys, monkeypatch):
    """Ten batches of ten texts, each dearer than the one before (as batches sorted by length are) and taking
    as long as it costs: the share done and the time left follow the work, not the texts done so far."""
    costs = [float(step) for step in range(1, 11)]
    run(monkeypatch, list(range(10)), costs, label="Embedding", weights=[10] * 10, costs=costs)
    lines = capsys.readouterr().err.splitlines()
    found = [LINE.fullmatch(line) for line in lines]
    assert all(found), lines
    # 1 of 55 seconds' work is under 5 %, so the first line comes after the second batch: 3 s spent, 52 s
    # left (the 20 texts done in 3 s would have said 12 s).
    assert [int(match[2]) for match in found] == list(range(20, 101, 10))
    assert [int(match[5]) for match in found] == [5, 11, 18, 27, 38, 51, 65, 82, 100]
    assert [match[6] for match in found] == ["6.7", "5.0", "4.0", "3.3", "2.9", "2.5", "2.2", "2.0", "1.8"]
    assert [int(match[7]) for match in found] == [52, 49, 45, 40, 34, 27, 19, 10, 0]


def test_without_costs_every_item_counts_as_its_units(capsys, monkeypatch):
    run(monkeypatch, list(range(20)), [1.0] * 20, label="Reading", unit="articles")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 20
    assert lines[9] == "Reading: 10/20 articles (50% of the work), 1.0 articles/s, 10 s left"


def test_a_terminal_gets_a_bar_with_the_texts_done(tmp_path):
    """In a terminal (a pseudo-terminal here, 100 columns), the same work is one bar, redrawn in place."""
    script = tmp_path / "bar.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(progress.__file__).resolve().parents[1])!r})\n"
        "from indexer.progress import track\n"
        "assert sys.stderr.isatty()\n"
        "for _ in track(list(range(5)), 'Embedding', [10] * 5, costs=[1, 2, 3, 4, 5]):\n"
        "    pass\n", encoding="utf-8")
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    subprocess.run(["stty", "cols", "100", "rows", "20"], stdin=follower, check=True)
    done = subprocess.run([sys.executable, str(script)], stdin=follower, stdout=follower, stderr=follower,
                          timeout=60)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0, shown
    last = shown.decode().replace("\r\n", "\r").split("\r")
    final = [line for line in last if "100%" in line]
    assert final and "Embedding: 100%" in final[-1] and "50/50 texts" in final[-1]
    assert "\n" not in shown.decode().strip("\r\n")
