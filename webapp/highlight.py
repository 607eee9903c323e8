"""Mark the question's words in a passage, escaping everything else."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_WORD = re.compile(r"\w+", re.UNICODE)
# Shorter words match too much ("i", "på", "to"): highlighting them is noise, not help.
MIN_WORD_LENGTH = 3
MAX_WORDS = 40


def query_terms(query: str) -> list[str]:
    """Distinct words of the question worth marking, longest first so longer matches win."""
    words = {word.lower() for word in _WORD.findall(query) if len(word) >= MIN_WORD_LENGTH}
    return sorted(words, key=len, reverse=True)[:MAX_WORDS]


def highlight(text: str, query: str) -> Markup:
    """`text` as safe HTML with each word that starts with a question word wrapped in <mark>."""
    terms = query_terms(query)
    if not terms:
        return escape(text)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(term) for term in terms) + r")\w*", re.IGNORECASE)
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(str(escape(text[position:match.start()])))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))
