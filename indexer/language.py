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


def detect_language(text: str) -> str | None:
    """`nb`, `en`, or None when the words give no signal (a product code, an error number)."""
    words = [word.lower() for word in _WORD.findall(text)]
    if not words:
        return None
    nb = sum(word in _NB_ONLY for word in words) + 2 * sum(ch in "æøå" for ch in "".join(words))
    en = sum(word in _EN_ONLY for word in words)
    if nb == en:
        return None
    return "nb" if nb > en else "en"
