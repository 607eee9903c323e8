"""Reply suggestions for search results: the editors' templates first, else sentences lifted from the passage.

An extract is one to three sentences from the result's passages: the few that hold most of the question's
keywords are compared with the question in the embedding model's space, and the closest (by meaning plus
keywords, since the bundled model reads bokmål poorly) are kept in the article's order, wrapped in a
greeting and a closing in the article's language and the channel's style. Nothing is written that the
article does not say; every reply names its source.
Internal articles never get replies: agents see them, customers must not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..cache import LRUCache
from ..errors import IncompleteReply, NotFound, QueryError, ReplyRefused
from ..store import IndexVersion
from ..text.lexical import ANALYZER
from ..vocabulary import CHANNELS, LANGUAGES
from .frame import body_of
from .social import public_reply
from .templates import ANY_CHANNEL, declared_for, fill, placeholder_fields, validate_values

# Results (best first) that get extracts; templates are cheap and offered for every result.
EXTRACT_RESULTS = 3
MAX_EXTRACT_SENTENCES = 3
# Further sentences must score this share of the best one to join it. e5's cosines lie close together
# (0.85-0.90 for a result's sentences): at 0.85 the BT-20 pairing extract lost its answer sentence ("pairing
# mode", 1.03 against a best of 1.22); 0.8 keeps it and the other extract cases of tests/test_suggest.py.
EXTRACT_KEEP_RATIO = 0.8
MAX_EXTRACT_CHARS = 500
MIN_SENTENCE_WORDS = 4
# "Savnet pakke: Logistikk": fewer words than this after a colon make a label and a name, a list entry.
LABEL_MAX_WORDS = 3
# Weight of the question's keyword share beside cosine similarity when ranking sentences.
KEYWORD_WEIGHT = 0.5
# Sentences per result compared with the question by meaning (each costs an embedding when not cached).
SENTENCES_COMPARED = 4
# Sentence vectors kept in memory (about 1.5 kB each), keyed by text so they outlive index swaps.
SENTENCE_CACHE = 20_000

# Greeting and closing per language and channel; {text} is the extract. Phone replies are talking points.
WRAPPERS = {
    ("nb", "chat"): "Hei! {text}\n\nEr det noe mer jeg kan hjelpe deg med?",
    ("nb", "email"): "Hei {kundenavn},\n\n{text}\n\nTa gjerne kontakt om du har flere spørsmål.\n\n"
                     "Med vennlig hilsen\n{agentnavn}",
    ("en", "chat"): "Hi! {text}\n\nIs there anything else I can help you with?",
    ("en", "email"): "Hi {customer_name},\n\n{text}\n\nDo get in touch if you have any further questions.\n\n"
                     "Kind regards\n{agent_name}",
}

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


class ReplySuggester:
    """Builds the `replies` of search results; shares the searcher's model and one sentence cache."""

    def __init__(self, embedder):
        self.embedder = embedder
        self._cache = LRUCache(SENTENCE_CACHE)

    def attach(
        self,
        version: IndexVersion,
        results: list[dict],
        query_lang: str | None,
        query_terms: dict[str, float],
        channels: tuple[str, ...],
        query_vector: Callable[[], np.ndarray],
        extract_results: int | None = None,
    ) -> None:
        """Give every result a `replies` list, in `channels`, the question's language first.

        `query_terms` are the question's keywords with their weights (idf); `query_vector` gives the
        question's vector, called only when some result needs an extract. Extracts are made for the first
        `extract_results` results (EXTRACT_RESULTS by default); templates for every result.
        """
        extract_results = EXTRACT_RESULTS if extract_results is None else extract_results
        extract_for = []
        for rank, result in enumerate(results):
            result["replies"] = []
            if result["metadata"]["audience"] == "internal":
                continue
            templates = version.replies(result["article_id"])
            if templates:
                result["replies"] = self._templates(version, result, templates, channels, query_lang)
            elif rank < extract_results:
                extract_for.append(result)
        if extract_for:
            declared = declared_for(version.placeholders, {})
            question_vector = query_vector()[0]
            shortlists = [_shortlist(version, result, query_terms) for result in extract_for]
            vectors = self._vectors([sentence.text for shortlist in shortlists for sentence in shortlist])
            for result, shortlist in zip(extract_for, shortlists, strict=True):
                chosen, source = _choose(shortlist, vectors, question_vector)
                if chosen:
                    result["replies"] = [_extract_reply(result, chosen, source, channel, declared)
                                         for channel in channels]

    def _templates(self, version, result, rows, channels, query_lang) -> list[dict]:
        declared = declared_for(version.placeholders, version.article_metadata(result["article_id"]))
        by_key = {(row["lang"], row["channel"]): row for row in rows}
        # The question's language first, then the article's own.
        langs = sorted({row["lang"] for row in rows}, key=lambda lang: (lang != query_lang, lang != result["lang"]))
        replies = []
        for lang in langs:
            for channel in channels:
                text = template_text(by_key, lang, channel)
                if text is not None:
                    replies.append({
                        "kind": "template", "channel": channel, "lang": lang, "text": text,
                        "placeholders": placeholder_fields(text, declared), "source": _source(result),
                    })
        return replies

    def _vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Each sentence's vector: from the cache, else all missing ones embedded in one batch."""
        found = {text: self._cache.get(text) for text in dict.fromkeys(texts)}
        missing = [text for text, vector in found.items() if vector is None]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_documents(missing), strict=True):
                found[text] = vector
                self._cache.put(text, vector)
        return found


@dataclass(frozen=True)
class _Sentence:
    text: str
    passage: dict
    position: int
    keywords: float


def _shortlist(version: IndexVersion, result: dict, query_terms: dict[str, float]) -> list[_Sentence]:
    """The sentences of a result's passages worth embedding: most of the question's keywords first.

    Embedding costs a few milliseconds per sentence, so only the best few by keywords (rare words weigh
    more, as in BM25) are compared with the question by meaning.
    """
    total = sum(query_terms.values())
    sentences = []
    for passage in _candidates(version, result):
        for text in split_sentences(passage["text"]):
            share = 0.0
            if total > 0:
                share = sum(query_terms.get(term, 0.0) for term in set(ANALYZER.terms(text, result["lang"]))) / total
            sentences.append(_Sentence(text, passage, len(sentences), share))
    sentences.sort(key=lambda sentence: (-sentence.keywords, sentence.position))
    return sentences[:SENTENCES_COMPARED]


def _choose(
    shortlist: list[_Sentence], vectors: dict[str, np.ndarray], query_vector: np.ndarray
) -> tuple[list[_Sentence], dict | None]:
    """The one to three sentences closest to the question by meaning and keywords, in the article's order,
    and the passage of the closest one (the reply's source)."""
    if not shortlist:
        return [], None
    scores = np.array([float(vectors[s.text] @ query_vector) + KEYWORD_WEIGHT * s.keywords for s in shortlist])
    order = np.argsort(-scores, kind="stable")
    best = float(scores[order[0]])
    chosen = [int(order[0])]
    length = len(shortlist[chosen[0]].text)
    for index in order[1:]:
        if len(chosen) == MAX_EXTRACT_SENTENCES or scores[index] < EXTRACT_KEEP_RATIO * best:
            break
        if length + len(shortlist[index].text) > MAX_EXTRACT_CHARS:
            continue
        chosen.append(int(index))
        length += len(shortlist[index].text)
    return sorted((shortlist[index] for index in chosen), key=lambda sentence: sentence.position), \
        shortlist[chosen[0]].passage


def render_reply(version: IndexVersion, article_id: str, channel: str, lang: str | None, values) -> dict:
    """One article's template for a channel, filled with the agent's values; refused for internal articles.

    Raises NotFound for an unknown article or one without a template for the channel, ReplyRefused for an
    internal article, and IncompleteReply naming every placeholder left without value or fallback.
    """
    if channel not in CHANNELS:
        raise QueryError(f"channel must be one of {', '.join(CHANNELS)}")
    if lang is not None and not isinstance(lang, str):
        raise QueryError("lang must be text")
    lang = lang or None
    values = validate_values(values)
    article = version.known_article(article_id)
    if article["audience"] == "internal":
        raise ReplyRefused(f"article {article_id!r} is internal; nothing from it may be sent to a customer")
    by_key = {(row["lang"], row["channel"]): row for row in version.replies(article_id)}
    langs = [lang] if lang else sorted({key[0] for key in by_key}, key=lambda found: found != article["lang"])
    found = next(((found, text) for found in langs
                  if (text := template_text(by_key, found, channel)) is not None), None)
    if found is None:
        raise NotFound(f"article {article_id!r} has no reply template for {channel}"
                       + (f" in {lang}" if lang else ""))
    filled = fill(found[1], values, declared_for(version.placeholders, json.loads(article["metadata"])))
    if not filled.complete:
        raise IncompleteReply(filled.missing)
    return {"article_id": article_id, "channel": channel, "lang": found[0], "text": filled.text,
            "source": {"article_id": article_id, "title": article["title"]}}


def _template_for(by_key: dict, lang: str, channel: str):
    """The template for a channel in a language: its own variant, else the one written for every channel."""
    return by_key.get((lang, channel)) or by_key.get((lang, ANY_CHANNEL))


def template_text(by_key: dict, lang: str, channel: str) -> str | None:
    """A template's text for a channel in a language, or None. Social media without a variant of its own gets
    the public reply derived from the chat answer (see social), never the chat text with its personal data."""
    if channel == "social" and (lang, "social") not in by_key:
        row = _template_for(by_key, lang, "chat")
        return None if row is None else public_reply([body_of(row["text"])], lang)
    row = _template_for(by_key, lang, channel)
    return None if row is None else row["text"]


def _candidates(version: IndexVersion, result: dict) -> list[dict]:
    """The passages an extract may come from: the result's best, those behind it, and the article's first,
    where editors put the short answer."""
    shown = {result["passage_id"], *(more["passage_id"] for more in result.get("more", []))}
    first = version.first_passage(result["article_id"])
    lead = []
    if first is not None and first["id"] not in shown:
        lead = [{**result, "passage_id": first["id"], "anchor": first["anchor"], "text": first["text"], "section": ""}]
    return [result, *result.get("more", []), *lead]


def _extract_reply(result: dict, chosen: list[_Sentence], source: dict, channel: str, declared: dict) -> dict:
    lang = result["lang"] if result["lang"] in LANGUAGES else "en"
    texts = [sentence.text for sentence in chosen]
    if channel == "phone":
        text = "\n".join(f"- {sentence}" for sentence in texts)
    elif channel == "social":
        text = public_reply([" ".join(texts)], lang)
    else:
        text = WRAPPERS[(lang, channel)].replace("{text}", " ".join(texts))
    return {"kind": "extract", "channel": channel, "lang": lang, "text": text,
            "placeholders": placeholder_fields(text, declared), "source": _source(source)}


def _source(passage: dict) -> dict:
    return {"article_id": passage["article_id"], "title": passage["title"], "anchor": passage["anchor"],
            "section": passage["section"]}
