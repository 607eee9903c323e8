"""Reply suggestions for search results: the editors' templates first, else sentences lifted from the passage.

An extract is one to three sentences from the result's passages: the few that hold most of the question's
keywords are compared with the question by meaning, through the vectors the index stored for them (see
sentences), and the closest by meaning plus keywords are kept in the article's order, wrapped in a greeting
and a closing in the article's language and the channel's style. Nothing is written that the article does
not say; every reply names its source.
Internal articles never get replies: agents see them, customers must not.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
MAX_EXTRACT_CHARS = 500


@dataclass(frozen=True)
class ExtractTuning:
    """How an extract's sentences are ranked and how many join the best one."""

    # Further sentences must score this share of the best one to join it. e5's cosines lie close together
    # (0.85-0.90 for a result's sentences). bench/tune_extracts.py (14 questions over the sample KB, the
    # answer's words in the extract): 0.9 answers 0.57 of them, 0.7 and 0.8 answer 0.64, 0.8 with the
    # fewest sentences (1.57 on average against 1.86); at 0.85 the BT-20 pairing extract of
    # tests/test_suggest.py lost its answer sentence ("pairing mode", 1.03 against a best of 1.22).
    keep_ratio: float = 0.8
    # Weight of the question's keyword share beside cosine similarity when ranking sentences.
    # bench/tune_extracts.py: 0.5 answers 0.64 with 1.57 sentences; 0.0 and 0.25 answer 0.64 with 1.93
    # and 1.86; 1.0 answers 0.57.
    keyword_weight: float = 0.5
    # Sentences per result compared with the question by meaning, the most keyword-rich first.
    # bench/tune_extracts.py: 2 answers 0.50, 4 and 8 answer 0.64 (with keyword weight 0.0, 8 falls to 0.57).
    sentences_compared: int = 4


EXTRACT = ExtractTuning()

# Greeting and closing per language and channel; {text} is the extract. Phone replies are talking points.
WRAPPERS = {
    ("nb", "chat"): "Hei! {text}\n\nEr det noe mer jeg kan hjelpe deg med?",
    ("nb", "email"): "Hei {kundenavn},\n\n{text}\n\nTa gjerne kontakt om du har flere spørsmål.\n\n"
                     "Med vennlig hilsen\n{agentnavn}",
    ("en", "chat"): "Hi! {text}\n\nIs there anything else I can help you with?",
    ("en", "email"): "Hi {customer_name},\n\n{text}\n\nDo get in touch if you have any further questions.\n\n"
                     "Kind regards\n{agent_name}",
}

class ReplySuggester:
    """Builds the `replies` of search results from the version's templates and stored sentences."""

    def __init__(self, tuning: ExtractTuning = EXTRACT):
        self.tuning = tuning

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
            question_vector = np.asarray(query_vector()[0], dtype=np.float32)
            candidates = [_candidates(version, result) for result in extract_for]
            stored = version.passage_sentences([passage["passage_id"] for passages in candidates
                                                for passage in passages])
            for result, passages in zip(extract_for, candidates, strict=True):
                shortlist = self._shortlist(result, passages, stored, query_terms)
                chosen, source = self._choose(shortlist, question_vector)
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

    def _shortlist(self, result: dict, passages: list[dict], stored: dict, query_terms: dict[str, float]
                   ) -> list[_Sentence]:
        """The sentences of a result's passages compared by meaning: most of the question's keywords first.

        Rare words weigh more, as in BM25; only the best few are compared, so a long article's stray
        sentence that is merely close in meaning does not crowd out one that names what was asked.
        """
        total = sum(query_terms.values())
        sentences = []
        for passage in passages:
            for text, vector, terms in stored.get(passage["passage_id"], []):
                share = 0.0
                if total > 0:
                    held = set(terms) if terms is not None else set(ANALYZER.terms(text, result["lang"]))
                    share = sum(query_terms.get(term, 0.0) for term in held) / total
                sentences.append(_Sentence(text, passage, len(sentences), share, vector))
        sentences.sort(key=lambda sentence: (-sentence.keywords, sentence.position))
        return sentences[:self.tuning.sentences_compared]

    def _choose(self, shortlist: list[_Sentence], query_vector: np.ndarray) -> tuple[list[_Sentence], dict | None]:
        """The one to three sentences closest to the question by meaning and keywords, in the article's order,
        and the passage of the closest one (the reply's source)."""
        if not shortlist:
            return [], None
        vectors = np.stack([sentence.vector for sentence in shortlist]).astype(np.float32)
        keywords = np.array([sentence.keywords for sentence in shortlist], dtype=np.float32)
        scores = vectors @ query_vector + self.tuning.keyword_weight * keywords
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        chosen = [int(order[0])]
        length = len(shortlist[chosen[0]].text)
        for index in order[1:]:
            if len(chosen) == MAX_EXTRACT_SENTENCES or scores[index] < self.tuning.keep_ratio * best:
                break
            if length + len(shortlist[index].text) > MAX_EXTRACT_CHARS:
                continue
            chosen.append(int(index))
            length += len(shortlist[index].text)
        return sorted((shortlist[index] for index in chosen), key=lambda sentence: sentence.position), \
            shortlist[chosen[0]].passage


@dataclass(frozen=True)
class _Sentence:
    text: str
    passage: dict
    position: int
    keywords: float
    vector: np.ndarray


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
        return None if row is None else _derived_public_reply(row["text"], lang)
    row = _template_for(by_key, lang, channel)
    return None if row is None else row["text"]


# Templates whose public reply is kept once derived: one per article and language with a chat template.
DERIVED_PUBLIC_REPLIES = 4096


@functools.lru_cache(maxsize=DERIVED_PUBLIC_REPLIES)
def _derived_public_reply(chat_text: str, lang: str) -> str:
    """A chat template's public reply, the same for every search that shows its article: derived once."""
    return public_reply([body_of(chat_text)], lang)


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
