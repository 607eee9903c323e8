"""Public replies on social media, by the KB's own guideline (intern/sosiale-medier.md).

Everything written in a public comment can be read by anyone, so a public reply is short, never carries
personal data (no names, order or service numbers, even when the customer posted them) and moves the case
to a private message. An editor may write a social variant of a reply (`### Sosiale medier`); without one
the public reply is derived from the answer by these rules.
"""

from __future__ import annotations

import functools
import re

from ..text.privacy import mask

# Placeholders that stand for personal data; a public reply never fills or keeps them.
PERSONAL_PLACEHOLDERS = frozenset({
    "kundenavn", "customer_name", "ordrenummer", "order_number", "servicenummer", "service_number",
    "beløp", "amount", "dato", "date", "adresse", "address", "telefon", "phone", "e_post", "email",
})
# A public comment people read at a glance: about two short sentences of answer.
MAX_PUBLIC_ANSWER_CHARS = 220
MAX_PUBLIC_SENTENCES_PER_ANSWER = 1

GREETING = {"nb": "Hei!", "en": "Hi!"}
TO_PRIVATE = {
    "nb": "Send oss gjerne en privat melding med ordrenummeret ditt, så ser vi på saken.",
    "en": "Please send us a private message with your order number, and we will look into it.",
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PLACEHOLDER = re.compile(r"\{([a-zæøå][a-zæøå0-9_]{0,39})\}")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def public_sentences(answer: str, limit: int = MAX_PUBLIC_SENTENCES_PER_ANSWER) -> list[str]:
    """The first sentences of an answer that may be said in public: none with personal data or a personal
    placeholder, none addressed to one customer's order."""
    kept: list[str] = []
    for line in answer.split("\n"):
        line = _LIST_MARKER.sub("", line).strip()
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip()
            if not sentence or not _is_public(sentence):
                continue
            kept.append(sentence if sentence[-1] in ".!?" else sentence + ".")
            if len(kept) == limit:
                return kept
    return kept


def public_reply(answers: list[str], lang: str) -> str:
    """One public reply for answers (bare, without greeting or closing): a greeting, the first public
    sentence of each answer while the reply stays short, and the move to a private message."""
    lang = lang if lang in GREETING else "en"
    said: list[str] = []
    length = 0
    for answer in answers:
        for sentence in public_sentences(answer):
            if length + len(sentence) > MAX_PUBLIC_ANSWER_CHARS or sentence in said:
                continue
            said.append(sentence)
            length += len(sentence)
    return " ".join([GREETING[lang], *said, TO_PRIVATE[lang]])


# Sentences of the KB's own answers, asked about again for every search that shows them: masking one costs
# tens of microseconds (see privacy.mask), a search with social replies asks about dozens.
PUBLIC_CACHE_SENTENCES = 8192


@functools.lru_cache(maxsize=PUBLIC_CACHE_SENTENCES)
def _is_public(sentence: str) -> bool:
    """No personal placeholder and nothing that masking would hide (numbers, addresses, phones)."""
    if any(name in PERSONAL_PLACEHOLDERS for name in _PLACEHOLDER.findall(sentence)):
        return False
    return mask(sentence) == sentence
