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
          unit: str = "texts", costs: Sequence[float] | None = None) -> Iterator[Item]:
    """Yield `items` while showing progress on standard error; `weights` counts the units each item holds (texts:
    an index build embeds passages and the reply sentences cut from them in one run). `costs`, the work each
    item is (its characters, say), set the share done and the time left where items differ: batches sorted
    by length grow dearer to the end, and a time left from the units done so far would promise too little."""
    weights = list(weights) if weights is not None else [1] * len(items)
    costs = list(costs) if costs is not None else [float(weight) for weight in weights]
    if sys.stderr.isatty():
        from tqdm import tqdm

        total = sum(weights)
        with tqdm(total=sum(costs), desc=label, file=sys.stderr,
                  bar_format="{l_bar}{bar}| [{elapsed}<{remaining}{postfix}]") as bar:
            done = 0
            for item, weight, cost in zip(items, weights, costs, strict=True):
                yield item
                done += weight
                bar.set_postfix_str(f"{done:,}/{total:,} {unit}", refresh=False)
                bar.update(cost)
        return
    yield from _logged(items, weights, costs, label, unit)


def _logged(items: Iterable[Item], weights: list[int], costs: list[float], label: str, unit: str
            ) -> Iterator[Item]:
    started = time.monotonic()
    total, total_cost = sum(weights), sum(costs)
    done, spent, next_mark = 0, 0.0, LOG_STEP_PERCENT
    for item, weight, cost in zip(items, weights, costs, strict=True):
        yield item
        done += weight
        spent += cost
        percent = 100 * spent / total_cost if total_cost else 100
        if percent >= next_mark or done == total:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            left = elapsed * (total_cost - spent) / spent if spent > 0 else 0.0
            print(f"{label}: {done:,}/{total:,} {unit} ({percent:.0f}% of the work), {rate:.1f} {unit}/s, "
                  f"{left:.0f} s left", file=sys.stderr, flush=True)
            while next_mark <= percent:
                next_mark += LOG_STEP_PERCENT
