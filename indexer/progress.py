"""Progress on long work: a bar in a terminal, and in a log a line every few percent with rate and time left.

A bar's carriage returns fill a log file with hundreds of updates; a line per step of `LOG_STEP_PERCENT`
reads well in both `journalctl` and CI output.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

Item = TypeVar("Item")

# A log line at every this many percent of the work.
LOG_STEP_PERCENT = 5


def track(items: Sequence[Item], label: str, weights: Sequence[int] | None = None,
          unit: str = "texts") -> Iterator[Item]:
    """Yield `items` while showing progress on standard error; `weights` counts the units each item holds (texts:
    an index build embeds passages and the reply sentences cut from them in one run)."""
    weights = list(weights) if weights is not None else [1] * len(items)
    total = sum(weights)
    if sys.stderr.isatty():
        from tqdm import tqdm

        with tqdm(total=total, desc=label, unit=f" {unit}", file=sys.stderr) as bar:
            for item, weight in zip(items, weights, strict=True):
                yield item
                bar.update(weight)
        return
    yield from _logged(items, weights, total, label, unit)


def _logged(items: Iterable[Item], weights: list[int], total: int, label: str, unit: str) -> Iterator[Item]:
    started = time.monotonic()
    done, next_mark = 0, LOG_STEP_PERCENT
    for item, weight in zip(items, weights, strict=True):
        yield item
        done += weight
        percent = 100 * done / total if total else 100
        if percent >= next_mark or done == total:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            left = (total - done) / rate if rate > 0 else 0.0
            print(f"{label}: {done:,}/{total:,} {unit} ({percent:.0f}%), {rate:.1f}/s, {left:.0f} s left",
                  file=sys.stderr, flush=True)
            while next_mark <= percent:
                next_mark += LOG_STEP_PERCENT
