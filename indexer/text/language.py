"""Guess whether a short question is bokmål or English, cheaply and without a model."""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS as STOPWORDS_EN
from bm25s.stopwords import STOPWORDS_NORWEGIAN

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Frequent words that belong to one language only; the shared ones ("i", "a", "for") would only blur the vote.
_NB_ONLY = frozenset(STOPWORDS_NORWEGIAN) - frozenset(STOPWORDS_EN) | {
    "kunden", "kunde", "ikke", "hva", "hvor", "hvordan", "når", "kan", "vil", "har", "skal", "må", "får",
    "fikk", "varen", "pakken", "bestilling", "ordre", "betale", "faktura", "penger", "dager", "etter",
}
_EN_ONLY = frozenset(STOPWORDS_EN) - frozenset(STOPWORDS_NORWEGIAN) | {
    "customer", "wants", "order", "refund", "how", "what", "when", "where", "does", "can't", "doesn't",
    "parcel", "invoice", "payment", "days", "after",
}


# An article's language is told from its first words; a few hundred decide as well as the whole text.
ARTICLE_SAMPLE_WORDS = 400
# The winning language needs this many of its own words, and this many times the other's, to decide.
ARTICLE_MIN_WORDS = 5
ARTICLE_MIN_RATIO = 2.0
# In a short question each æ, ø or å counts as two bokmål words: no English word has them.
SPECIAL_LETTER_WEIGHT = 2


def detect_text_language(text: str) -> str | None:
    """`nb` or `en` for an article's text when its words decide clearly, else None (code, tables, a few
    product names), so the KB's default applies only then."""
    words = [word.lower() for word in _WORD.findall(text)[:ARTICLE_SAMPLE_WORDS]]
    nb = sum(word in _NB_ONLY for word in words) + sum(ch in "æøå" for ch in "".join(words))
    en = sum(word in _EN_ONLY for word in words)
    if max(nb, en) < ARTICLE_MIN_WORDS:
        return None
    if nb >= ARTICLE_MIN_RATIO * en:
        return "nb"
    if en >= ARTICLE_MIN_RATIO * nb:
        return "en"
    return None


def detect_language(text: str) -> str | None:
    """`nb`, `en`, or None when the words give no signal (a product code, an error number)."""
    words = [word.lower() for word in _WORD.findall(text)]
    if not words:
        return None
    nb = sum(word in _NB_ONLY for word in words) + SPECIAL_LETTER_WEIGHT * sum(ch in "æøå" for ch in "".join(words))
    en = sum(word in _EN_ONLY for word in words)
    if nb == en:
        return None
    return "nb" if nb > en else "en"
