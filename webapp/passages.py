"""A passage's text as blocks for its card: paragraphs, and tables where the passage was cut from one.

The indexer keeps a table's rows as lines with ` | ` between the cells (the header row first), so that
search reads every cell. On a card those rows are shown as the table they came from.
"""

from __future__ import annotations

CELL_SEPARATOR = " | "


def passage_blocks(text: str) -> list[dict]:
    """`{"text": ...}` paragraphs and `{"rows": [[cell, ...], ...]}` tables, in the passage's order."""
    blocks: list[dict] = []
    for line in text.split("\n"):
        if CELL_SEPARATOR in line:
            cells = [cell.strip() for cell in line.split(CELL_SEPARATOR)]
            if blocks and "rows" in blocks[-1]:
                blocks[-1]["rows"].append(cells)
            else:
                blocks.append({"rows": [cells]})
        elif line.strip():
            if blocks and "text" in blocks[-1]:
                blocks[-1]["text"] += "\n" + line
            else:
                blocks.append({"text": line})
    for block in blocks:
        if "rows" in block:
            width = max(len(row) for row in block["rows"])
            block["rows"] = [row + [""] * (width - len(row)) for row in block["rows"]]
    return blocks
