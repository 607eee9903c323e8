"""Raw HTML inside Markdown that must not reach passages or replies: scripts, styles and unclosed blocks."""

from __future__ import annotations

import re

# A script or style element with its content (to the end of the text when it is never closed).
SCRIPT = re.compile(r"<(script|style|template|noscript)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"</?[A-Za-z][^>]*>")
_FENCED = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)
# Block-level elements that, opened at the start of a line and never closed, make Python-Markdown treat
# everything after them as raw HTML: the rest of the article would be neither shown as Markdown nor searched.
BLOCK_TAGS = ("div", "table", "details", "section", "aside", "figure", "form", "dl", "ul", "ol", "pre",
              "blockquote", "article", "header", "footer", "nav", "fieldset")
_BLOCK = re.compile(r"<(/?)(" + "|".join(BLOCK_TAGS) + r")\b[^>]*?(/?)>", re.IGNORECASE)


def _outside_fences(text: str, change) -> str:
    """`change` applied to every part of `text` that is not a fenced code block."""
    parts, position = [], 0
    for match in _FENCED.finditer(text):
        parts.append(change(text[position:match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(change(text[position:]))
    return "".join(parts)


def drop_scripts(markdown_text: str) -> str:
    """The text without script and style elements and their content, except inside fenced code, where
    they are an example to read; the sanitizer drops them from the HTML, and their text is no answer."""
    return _outside_fences(markdown_text, lambda part: SCRIPT.sub("", part))


def plain(text: str) -> str:
    """Text without any HTML: scripts and styles with their content, other tags without."""
    return TAG.sub("", SCRIPT.sub("", text))


def unclosed_block(markdown_text: str) -> tuple[str, int] | None:
    """The first block-level tag opened at the start of a line and never closed, with its 1-based line."""
    masked = _FENCED.sub(lambda match: "\n" * match.group(0).count("\n"), markdown_text)
    open_tags: dict[str, list[int]] = {}
    for match in _BLOCK.finditer(masked):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if self_closing:
            continue
        if closing:
            if open_tags.get(name):
                open_tags[name].pop()
            continue
        line_start = masked.rfind("\n", 0, match.start()) + 1
        at_line_start = not masked[line_start:match.start()].strip()
        open_tags.setdefault(name, []).append(match.start() if at_line_start else -1)
    starts = sorted(start for stack in open_tags.values() for start in stack if start >= 0)
    if not starts:
        return None
    start = starts[0]
    name = _BLOCK.match(masked, start).group(2).lower()
    return name, masked[:start].count("\n") + 1


def unclosed_block_warning(markdown_text: str, first_line: int = 1) -> tuple[int, str] | None:
    """The line and the editor's message for a block-level tag never closed, or None."""
    found = unclosed_block(markdown_text)
    if found is None:
        return None
    tag, line = found
    return (first_line + line - 1,
            f"<{tag}> is never closed, so everything after it is raw HTML: not shown as Markdown and not searched")
