"""Keyword search (BM25) over the same passages as the vectors, with analysis per language.

bm25s holds the index: sparse matrices saved as .npy and JSON (no pickle), fast enough to score every
passage per query. Analysis is ours: lower case, accents folded except æ, ø and å (distinct letters in
bokmål), codes such as `E-101` or `AU55-Q4` indexed both in parts and joined, stopwords dropped, and a
Snowball stemmer per language. Title, headings and tags count more by repetition (the field weights).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_NORWEGIAN

from .termcounts import TermCounts, bm25_matrix

STEMMERS = {"nb": "norwegian", "en": "english"}
# Snowball's Norwegian stemmer strips one suffix layer, so "firmaet" -> "firma" but "firma" -> "firm";
# a second pass makes the inflections meet. Measured on norquad-retrieval: see the README.
STEM_TWICE = {"nb"}
STOPWORDS = {"nb": frozenset(STOPWORDS_NORWEGIAN), "en": frozenset(STOPWORDS_EN_PLUS)}
# How many times each field's words count: titles and tags name the topic, headings the sub-topic.
FIELD_WEIGHTS = {"title": 2, "headings": 1, "tags": 2, "text": 1}


@dataclass(frozen=True)
class KeywordTuning:
    """The keyword side's constants, each set by the bench its comment names (see README, "Search quality")."""

    # Anserini's BM25 defaults. On norquad-retrieval (bench/beir.py) they gave 0.930 nDCG@10 keyword-only,
    # against 0.925-0.927 for k1/b = 1.2/0.75, 1.5/0.75 and 1.2/0.9.
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    # How much the other language's analysis of a question counts (see search._weighted_terms): 0.0 / 0.3 /
    # 0.6 gave SciFact 0.694 / 0.695 / 0.696 and norquad 0.933 / 0.933 / 0.932 (bench/tune_lexical.py).
    secondary_language_weight: float = 0.3
    # Keyword scores of passages in the other language are multiplied by this (see search._language_prior):
    # 0.5 / 0.7 / 1.0 cost nothing on any set, and 0.7 puts the article in the question's language first
    # when both languages answer (bench/tune_lexical.py).
    other_language_factor: float = 0.7
    # How much the KB's synonyms of the question's words count: 1.0 dropped English Recall@1 on the golden
    # questions from 0.79 to 0.71, 0.25 dropped cross-language Recall@3 from 0.50 to 0.38 (bench/tune_lexical.py).
    synonym_weight: float = 0.5


KEYWORDS = KeywordTuning()

_TOKEN = re.compile(r"\w+(?:[-/.]\w+)*", re.UNICODE)
_SEPARATORS = re.compile(r"[-/._]")
_HAS_DIGIT = re.compile(r"\d")
STEM_CACHE_SIZE = 500_000


def _fold_char(char: str) -> str:
    """One lower-case character without its accents; æ, ø and å are letters of their own and stay."""
    if char in "æøå":
        return char
    kept = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


# Folding through a translation table runs at C speed; it covers the Latin letters with accents.
_FOLD_TABLE = {code: _fold_char(chr(code)) for code in range(0xC0, 0x250) if _fold_char(chr(code)) != chr(code)}


def fold(text: str) -> str:
    """Lower case with accents removed (é→e, ü→u) but æ, ø and å kept."""
    return text.lower().translate(_FOLD_TABLE)


class Analyzer:
    """Text to index terms for one language, or for several (a question whose language is unsure)."""

    def __init__(self):
        self.stemmers = {lang: Stemmer.Stemmer(name) for lang, name in STEMMERS.items()}
        # Words repeat endlessly across passages; stemming each distinct word once makes indexing fast.
        self._cache: dict[str, dict[str, str]] = {}

    def terms(self, text: str, lang: str, stopwords: frozenset[str] | None = None) -> list[str]:
        """Index terms of `text` analysed as `lang` (unknown languages get no stemming)."""
        stopwords = STOPWORDS.get(lang, frozenset()) if stopwords is None else stopwords
        return [self.stem(word, lang) for word in self.words(text) if word not in stopwords]

    def stem(self, word: str, lang: str) -> str:
        """The stem of one folded word; codes and numbers stay as they are."""
        cache = self._cache.setdefault(lang, {})
        stemmed = cache.get(word)
        if stemmed is None:
            stemmed = self._stem(word, lang)
            if len(cache) < STEM_CACHE_SIZE:
                cache[word] = stemmed
        return stemmed

    def _stem(self, word: str, lang: str) -> str:
        stemmer = self.stemmers.get(lang)
        if stemmer is None or _HAS_DIGIT.search(word):
            return word
        stemmed = stemmer.stemWord(word)
        return stemmer.stemWord(stemmed) if lang in STEM_TWICE else stemmed

    def query_terms(self, text: str, langs: Iterable[str], stopword_langs: Iterable[str] | None = None) -> list[str]:
        """Distinct terms of a question analysed in each of `langs`, in order of first appearance.

        Stopwords of every language in `stopword_langs` (default: `langs`) are dropped: a word that is a
        stopword in any language the question may be in is noise in all of them.
        """
        langs = list(langs)
        stopword_langs = langs if stopword_langs is None else list(stopword_langs)
        stopwords = frozenset().union(*(STOPWORDS.get(lang, frozenset()) for lang in stopword_langs))
        seen: dict[str, None] = {}
        for lang in langs:
            for term in self.terms(text, lang, stopwords):
                seen.setdefault(term, None)
        return list(seen)

    @staticmethod
    def words(text: str) -> list[str]:
        """Folded words; a code like `E-101` gives `e`, `101` and `e101`."""
        words = []
        for match in _TOKEN.finditer(fold(text)):
            token = match.group(0)
            if token.isalnum():
                words.append(token)
                continue
            parts = [part for part in _SEPARATORS.split(token) if part]
            words.extend(parts)
            if len(parts) > 1:
                words.append("".join(parts))
        return words


# One analyzer for the whole process, so its stem cache serves indexing, search, synonyms and highlighting.
ANALYZER = Analyzer()


def passage_terms(analyzer: Analyzer, lang: str, title: str, headings: list[str], tags: list[str], text: str):
    """A passage's terms with the field weights applied."""
    terms: list[str] = []
    for field, value in (("title", title), ("headings", " ".join(headings)), ("tags", " ".join(tags)),
                         ("text", text)):
        terms.extend(analyzer.terms(value, lang) * FIELD_WEIGHTS[field])
    return terms


class LexicalIndex:
    """BM25 over passages, passage i of the index being passage id i of the metadata store.

    The term counts it was scored from are kept with it, so the next version is derived from them (see
    termcounts) instead of counting every passage again.
    """

    def __init__(self, model: bm25s.BM25, size: int, counts: TermCounts | None = None):
        self.model = model
        self.size = size
        self.vocabulary = model.vocab_dict
        self.counts = counts

    @classmethod
    def build(cls, documents: list[list[str]]) -> LexicalIndex:
        """Index one list of terms per passage."""
        return cls.from_counts(TermCounts.from_documents(documents))

    @classmethod
    def from_counts(cls, counts: TermCounts) -> LexicalIndex:
        """Score counted passages: the same matrix and vocabulary bm25s's own `index` would give."""
        model = bm25s.BM25(k1=KEYWORDS.bm25_k1, b=KEYWORDS.bm25_b)
        model.scores = bm25_matrix(counts, KEYWORDS.bm25_k1, KEYWORDS.bm25_b)
        vocabulary = {term: number for number, term in enumerate(counts.vocabulary)}
        vocabulary.setdefault("", len(vocabulary))  # bm25s adds the empty token to every vocabulary it builds
        model.vocab_dict = vocabulary
        model.unique_token_ids_set = set(vocabulary.values())
        model.nonoccurrence_array = None
        return cls(model, counts.rows, counts)

    def save(self, directory: Path) -> None:
        """Write the index as .npy arrays and JSON, with the term counts it was scored from."""
        self.model.save(str(directory), allow_pickle=False, show_progress=False)
        (Path(directory) / "size.txt").write_text(str(self.size), encoding="utf-8")
        if self.counts is not None:
            self.counts.save(Path(directory))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by `save` (the term counts are read when a build asks for them), its score
        arrays memory-mapped read-only so the workers of a server share them."""
        model = bm25s.BM25.load(str(directory), mmap=True, allow_pickle=False)
        # Plain arrays over the same mapping: slicing a np.memmap goes through Python (4.7 µs a term's postings
        # against 0.9 µs), and a search slices dozens.
        model.scores = {name: np.asarray(value) if isinstance(value, np.memmap) else value
                        for name, value in model.scores.items()}
        size = int((Path(directory) / "size.txt").read_text(encoding="utf-8"))
        return cls(model, size)

    @staticmethod
    def load_counts(directory: Path) -> TermCounts | None:
        """The term counts saved with an index, or None for one saved before they were kept."""
        return TermCounts.load(Path(directory))

    def share(self, term: str) -> float:
        """The share of passages that hold a term (0 for one no passage holds)."""
        index = self.vocabulary.get(term)
        if index is None or not self.size:
            return 0.0
        indptr = self.model.scores["indptr"]
        return int(indptr[index + 1] - indptr[index]) / self.size

    def idf_of_share(self, share: float) -> float:
        """The idf of a term held by `share` of the passages (see idf)."""
        frequency = share * self.size
        return math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def coverage(self, weights: dict[str, float], total: float, ids: np.ndarray | None = None) -> np.ndarray:
        """Per passage, the share of a question's keyword weight `total` that its terms hold, at most 1:
        `weights` maps the question's terms, and the synonyms and other-language forms that stand in for
        them, to what each is worth. A question term no passage holds still counts in `total`. Given `ids`,
        only those passages', in their order."""
        indptr, indices = self.model.scores["indptr"], self.model.scores["indices"]
        if ids is not None:
            # A term's passages are stored in ascending order (termcounts.bm25_matrix), so each of the few
            # candidates is looked up by bisection instead of marking every passage that holds the term.
            ids = np.asarray(ids, dtype=np.int64)
            held = np.zeros(len(ids), dtype=np.float32)
            if total <= 0 or not len(ids):
                return held
            for term, weight in weights.items():
                index = self.vocabulary.get(term)
                if index is not None:
                    postings = indices[indptr[index]: indptr[index + 1]]
                    at = np.minimum(np.searchsorted(postings, ids), max(len(postings) - 1, 0))
                    if len(postings):
                        held += weight * (postings[at] == ids)
            return np.minimum(held / total, 1.0)
        held = np.zeros(self.size, dtype=np.float32)
        if total <= 0:
            return held
        for term, weight in weights.items():
            index = self.vocabulary.get(term)
            if index is not None:
                held[indices[indptr[index]: indptr[index + 1]]] += weight
        return np.minimum(held / total, 1.0)

    def idf(self, term: str) -> float:
        """How rare a term is across passages, as BM25 weighs it; a term no passage holds is rarest of all."""
        index = self.vocabulary.get(term)
        frequency = 0
        if index is not None:
            indptr = self.model.scores["indptr"]
            frequency = int(indptr[index + 1] - indptr[index])
        return math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def search(
        self,
        weighted_terms: list[tuple[list[str], float]],
        count: int,
        allowed: np.ndarray | None = None,
        prior: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """(passage id, score) pairs with a positive score, best first; `allowed` masks passages out.

        Each (terms, weight) pair is scored with BM25 and the scores are added with their weights; `prior`
        multiplies each passage's score (the preference for the question's own language).
        """
        scores = np.zeros(self.size, dtype=np.float32)
        for terms, weight in weighted_terms:
            known = [term for term in terms if term in self.vocabulary]
            if known and weight > 0:
                scores += weight * np.asarray(self.model.get_scores(known), dtype=np.float32)[: self.size]
        # Only the passages holding a question term go on: a few thousand of a million, where every pass over
        # the whole array costs about a millisecond.
        hit = np.flatnonzero(scores > 0)
        found = scores[hit]
        if allowed is not None:
            found, hit = found[allowed[hit]], hit[allowed[hit]]
        values = found
        if prior is not None:
            values = values * prior[hit]
            hit, values = hit[values > 0], values[values > 0]
        count = min(count, len(hit))
        if count <= 0:
            return []
        # Best first; equal scores in passage order, also where they straddle the last place taken (a KB with
        # copies of one text), so the same question always ranks the same way.
        top = np.arange(len(values))
        if count < len(values):
            top = np.flatnonzero(values >= np.partition(values, len(values) - count)[len(values) - count])
        top = top[np.lexsort((hit[top], -values[top]))][:count]
        return [(int(hit[i]), float(values[i])) for i in top]
