"""Mark the question's words in a passage, escaping everything else.

A word is marked when it shares a stem with a word of the question in bokmål or English
(`angreretten` marks `angrerett`), so inflections light up too; stopwords never do.
"""

from __future__ import annotations

import functools
import re

from markupsafe import Markup, escape

from indexer.text.lexical import ANALYZER, STEMMERS, STOPWORDS, Analyzer, fold

_WORD = re.compile(r"\w+", re.UNICODE)
LANGUAGES = tuple(STEMMERS)
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
# One- and two-letter words match too much to be worth marking.
MIN_WORD_LENGTH = 3


@functools.lru_cache(maxsize=256)
def query_stems(query: str) -> frozenset[str]:
    """Stems of the question's content words in both languages (kept: a page highlights many passages)."""
    stems = set()
    for word in Analyzer.words(query):
        if len(word) >= MIN_WORD_LENGTH and word not in ALL_STOPWORDS:
            stems.update(ANALYZER.stem(word, lang) for lang in LANGUAGES)
    return frozenset(stems)


def highlight(text: str, query: str) -> Markup:
    """`text` as safe HTML with each word that shares a stem with a question word wrapped in <mark>."""
    stems = query_stems(query)
    if not stems:
        return escape(text)
    parts: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        word = fold(match.group(0))
        if len(word) < MIN_WORD_LENGTH or word in ALL_STOPWORDS:
            continue
        if not any(ANALYZER.stem(word, lang) in stems for lang in LANGUAGES):
            continue
        parts.append(str(escape(text[position:match.start()])))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))
