"""Small statistics the benchmark scripts share."""

from __future__ import annotations

import os
from pathlib import Path


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes, as `uptime` prints it: every figure is printed
    with it, since five engineers share two cores."""
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def process_cpu_ms(pid: int) -> float:
    """CPU time a process and its children have run so far, in milliseconds, from the scheduler's own
    nanosecond counts (every thread of every process): unlike wall time, it does not grow with the load."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except FileNotFoundError:
            continue  # a thread or process that ended while it was read
    return total / 1e6


def process_memory(pid: int) -> dict:
    """PSS (shared pages counted once per process sharing them), its file-backed and anonymous parts and RSS
    of one process, in MB, from /proc/<pid>/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            fields[name] = int(rest.split()[0]) / 1024
    return {"pid": pid, "pss_mb": round(fields.get("Pss", 0), 1), "rss_mb": round(fields.get("Rss", 0), 1),
            "pss_file_mb": round(fields.get("Pss_File", 0), 1), "pss_anon_mb": round(fields.get("Pss_Anon", 0), 1)}


def worker_memory(master: int) -> list[dict]:
    """process_memory of each gunicorn worker of the master `master`."""
    return [process_memory(int(pid)) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
