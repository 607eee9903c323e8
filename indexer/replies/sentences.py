"""The sentences of a passage that an extract may say to a customer, cut once when the article is indexed.

The builder stores them with their vectors in the version (see store.schema), so a search that suggests
replies only compares stored vectors with the question's: no sentence is embedded while an agent waits.
"""

from __future__ import annotations

import re

# Raised whenever the rules below change which sentences a passage yields: every article is cut again.
SENTENCE_RULES = 1
MIN_SENTENCE_WORDS = 4
# "Savnet pakke: Logistikk": fewer words than this after a colon make a label and a name, a list entry.
LABEL_MAX_WORDS = 3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"«(]?[A-ZÆØÅ0-9])")
# Pointers to other articles ("Se også ...", "See ...") say nothing to a customer on their own.
_REFERENCE = re.compile(r"^(se|se også|les mer|see|see also|read more)\b", re.IGNORECASE)
# Articles speak to agents: instructions to the agent and remarks about the article are not for customers.
_FOR_AGENTS = re.compile(
    r"^(spør|be kunden|sjekk|kontroller|eskaler|registrer|noter|opprett|si til kunden|forklar kunden|"
    r"ask|check|escalate|register|note|create|tell the customer|explain to the customer)\b"
    r"|\b(eskalerer|eskaleres|escalate[sd]?|denne artikkelen|this article|her ser du)\b",
    re.IGNORECASE,
)
_LIST_MARKER = re.compile(r"^(?:[-*+]|\d+[.)])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage worth saying to a customer.

    Left out: table rows, lead-ins ending in a colon, pointers to other articles, fragments, and
    sentences addressed to the agent (instructions, escalation, remarks about the article itself).
    """
    sentences = []
    for line in text.split("\n"):
        line = _LIST_MARKER.sub("", line.strip())
        if not line or " | " in line:
            continue
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip()
            if len(sentence.split()) < MIN_SENTENCE_WORDS or sentence.endswith(":") or _REFERENCE.match(sentence):
                continue
            if _FOR_AGENTS.search(sentence):
                continue
            if ":" in sentence and len(sentence.rsplit(":", 1)[1].split()) < LABEL_MAX_WORDS:
                continue
            sentences.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return sentences


def extract_sentences(audience: str, has_templates: bool, passage_texts: list[str]) -> list[tuple[int, int, str]]:
    """(passage ordinal, position, sentence) for every sentence of an article an extract may use.

    None for internal articles (nothing of theirs reaches a customer) or articles with the editors' own
    templates (which are offered instead of extracts).
    """
    if audience == "internal" or has_templates:
        return []
    return [(ordinal, position, sentence)
            for ordinal, text in enumerate(passage_texts)
            for position, sentence in enumerate(split_sentences(text))]
