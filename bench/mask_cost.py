"""What masking personal data costs per line of real text: `mask` as shipped against every mask tried in order.

    python bench/mask_cost.py --kb ../shared/data/kb-en/ms-officedocs-support [--lines 30000]

Every non-empty line of the KB's Markdown files (front matter included, as editors write it), up to
`--lines`, is masked three times each way, alternating; printed: µs per line for each (the median of the
three passes), how many lines either way changes, and whether both give the same text for every line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.text.privacy import MASKS, mask  # noqa: E402


def every_mask(text: str) -> str:
    """All the masks applied in order, none skipped."""
    for pattern, tag in MASKS:
        text = pattern.sub(tag, text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=Path(__file__).resolve().parent.parent / "kb")
    parser.add_argument("--lines", type=int, default=30_000)
    args = parser.parse_args()
    lines = [line for path in sorted(args.kb.rglob("*.md"))
             for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    lines = lines[: args.lines]
    passes: dict[str, list[float]] = {"shipped": [], "every mask": []}
    for _ in range(3):
        for name, function in (("shipped", mask), ("every mask", every_mask)):
            begun = time.perf_counter()
            for line in lines:
                function(line)
            passes[name].append((time.perf_counter() - begun) / len(lines) * 1e6)
    shipped = [mask(line) for line in lines]
    reference = [every_mask(line) for line in lines]
    print(f"{len(lines):,} lines of {args.kb}: shipped {statistics.median(passes['shipped']):.1f} µs a line, "
          f"every mask {statistics.median(passes['every mask']):.1f} µs; "
          f"{sum(a != b for a, b in zip(lines, shipped, strict=True)):,} lines masked; "
          f"same text for every line: {'yes' if shipped == reference else 'NO'}")


if __name__ == "__main__":
    main()
