"""Answer a question with ranked passages from the live index, grouped so one article does not fill the list."""

from __future__ import annotations

import json
import logging
import threading
import time
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from ..cache import LRUCache
from ..config import DEFAULT_RESULTS, MAX_QUERY_CHARS, MAX_RESULTS, Settings
from ..embedding import Embedder, embedder_for
from ..errors import KBError, QueryError
from ..replies.suggest import ReplySuggester
from ..store import IndexRoot, IndexVersion
from ..text.language import detect_language
from ..text.lexical import ANALYZER, KEYWORDS
from ..text.privacy import mask_filters
from ..vocabulary import AUDIENCES, CHANNELS, LANGUAGES, MODES
from .centring import CentredVectors, centring_for
from .fusion import FusionWeights, dense_needed, fuse, parse_weights, weights_for

logger = logging.getLogger(__name__)

FILTERS = ("lang", "category", "product", "audience")
MAX_FILTER_CHARS = 100

# How often a running searcher looks for a newly published index version (one small file read).
RELOAD_SECONDS = 0.25
# Candidates fetched per requested article: enough that grouping still fills the list.
CANDIDATES_PER_RESULT = 10
MIN_CANDIDATES = 50
# Question vectors kept in memory (about 1.5 kB each).
QUERY_VECTOR_CACHE = 2048
# Further passages shown behind an article's best one.
MORE_PER_ARTICLE = 2


@dataclass
class Candidates:
    """What each side of the search found for one question, with how the question was read."""

    filters: dict
    lang: str | None
    weights: FusionWeights
    keyword_weights: dict = field(default_factory=dict)
    dense: list[tuple[int, float]] = field(default_factory=list)
    lexical: list[tuple[int, float]] = field(default_factory=list)
    # Per keyword hit, the share of the question's keyword weight it holds (see fusion.fuse).
    coverage: dict[int, float] = field(default_factory=dict)
    # The model's ranking of the passages in other languages by language-centred cosine (see centring).
    across: list[tuple[int, float]] = field(default_factory=list)
    # Those passages' ranks among all the candidates of either side by centred cosine (see fusion.fuse).
    across_ranks: dict[int, int] = field(default_factory=dict)
    query_vector: np.ndarray | None = None


@dataclass
class SearchResponse:
    """The ranked results for one question, and which index version answered it."""

    query: str
    results: list[dict]
    version: str
    lang: str | None = None
    filters: dict | None = None
    # How well the KB covers the question: "keywords", the share of its keyword weight found in one of the
    # best passages, "meaning", the closest passage's cosine when the model ran, and "agreement", the fused
    # score of the best hybrid result (1 when both sides rank it first). Low values mark gaps.
    signals: dict | None = None
    # Urgent escalation criteria the question itself meets (threats, media, ...), to show before the results.
    urgent: list[dict] | None = None
    # What reply extracts are chosen by, kept so that one can be made later for a result that needs it
    # (see Searcher.add_extract): the index version searched, the question's keyword weights and its vector.
    searched: IndexVersion | None = field(default=None, repr=False, compare=False)
    keyword_weights: dict | None = field(default=None, repr=False, compare=False)
    query_vector: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        """The JSON shape shared by `kb search --json` and `/api/search`, which put it in their envelope."""
        return {
            "query": self.query, "lang": self.lang, "filters": self.filters or {},
            "index_version": self.version, "signals": self.signals or {}, "urgent": self.urgent or [],
            "results": self.results,
        }

    def log_entry(self, mode: str) -> dict:
        """What the query log records of this search (the store masks the text): filters whose values are
        not the index's own facets are masked here, since a client may type anything into them."""
        known = self.searched.facets() if self.searched is not None else {}
        return {"query": self.query, "lang": self.lang, "mode": mode,
                "filters": mask_filters(self.filters or {}, known), "index_version": self.version,
                "results": self.results, "signals": self.signals or {}}


def visible_text(text: str) -> str:
    """`text` without control and format characters (NUL, zero-width spaces, byte-order marks), which carry
    no meaning for search and would only be logged; tabs and line breaks become spaces."""
    if text.isprintable():
        return text  # none of them: the common case, without a look at every character
    return "".join(" " if char in "\t\n\r" else char for char in text
                   if char in "\t\n\r" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co"))


def validate_query(query: str | None, k: int | None, max_results: int = MAX_RESULTS) -> tuple[str, int]:
    """Trimmed question and result count, or QueryError saying what is wrong."""
    text = visible_text(query or "").strip()
    if not text:
        raise QueryError("the question is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the question is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    k = 5 if k is None else k
    if not 1 <= k <= max_results:
        raise QueryError(f"k must be between 1 and {max_results}")
    return text, k


def validate_filters(filters: dict | None, languages: list[str] = ()) -> dict:
    """Known filters with short string values, or QueryError naming the offending one; `lang` must be a
    language the question can be analysed in or one the index holds."""
    cleaned = {}
    for name, value in (filters or {}).items():
        if value is None or value == "":
            continue
        if name not in FILTERS:
            raise QueryError(f"unknown filter {name!r}; use {', '.join(FILTERS)}")
        if not isinstance(value, str) or len(value) > MAX_FILTER_CHARS:
            raise QueryError(f"filter {name} must be text of at most {MAX_FILTER_CHARS} characters")
        cleaned[name] = value.strip()
    if "audience" in cleaned and cleaned["audience"] not in AUDIENCES:
        raise QueryError(f"audience must be one of {', '.join(AUDIENCES)}")
    known = sorted(set(LANGUAGES) | set(languages))
    if "lang" in cleaned and cleaned["lang"] not in known:
        raise QueryError(f"lang must be one of {', '.join(known)}, not {cleaned['lang'][:20]!r}")
    return cleaned


class Searcher:
    """Holds the live index version and the model; safe to share between threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.root = IndexRoot(settings.index_dir)
        self.embedder = embedder or embedder_for(settings)
        self.analyzer = ANALYZER
        self.weight_overrides = parse_weights(settings.fusion_weights) if settings.fusion_weights else None
        self.max_results = MAX_RESULTS
        self.suggester = ReplySuggester()
        self._query_vectors = LRUCache(QUERY_VECTOR_CACHE)
        self.centred = centring_for(settings.model)
        # The centred copy of each open version's vectors (see centring), made before the version goes live.
        self._centred_vectors: dict[str, CentredVectors] = {}
        self._version: IndexVersion | None = None
        self._lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._next_check = 0.0
        self.reload_seconds = RELOAD_SECONDS
        # The published version this searcher would not switch to, and why (shown by /api/health).
        self.refused: dict | None = None

    @property
    def version(self) -> IndexVersion:
        """The live index version, opened on first use and swapped for a newer one once it is published.

        At most every `reload_seconds` the CURRENT pointer is read; a new version is loaded completely
        and checked before it replaces the old one, by one thread while the others keep answering from
        the old version. A search takes this once, so no response mixes two versions.
        """
        version = self._version
        now = time.monotonic()
        if version is not None and now < self._next_check:
            return version
        if version is None:
            with self._lock:
                if self._version is None:
                    self._version = self._open(self.root.live_version())
                    self._next_check = time.monotonic() + self.reload_seconds
            return self._version
        if self._swap_lock.acquire(blocking=False):
            try:
                self._next_check = now + self.reload_seconds
                published = self.root.current_version()
                if published and published != version.name and published != (self.refused or {}).get("version"):
                    self._version = self._open(published)
                    self.refused = None
            except KBError as exc:
                # Tried once per published version: a damaged one is not read again every quarter second.
                self.refused = {"version": published, "error": str(exc)}
                logger.warning("keeping index version %s: %s", version.name, exc)
            finally:
                self._swap_lock.release()
        return self._version

    def _open(self, name: str) -> IndexVersion:
        """A version loaded completely (keyword index, language priors, passage articles) and checked, before
        anyone uses it."""
        version = IndexVersion(self.root.version_dir(name))
        version.hold()
        version.check_model(self.settings.model, self.embedder.dimension, getattr(self.embedder, "source_sha256", None))
        version.verify()  # loads the keyword index too, not in the first request after the swap
        for lang in LANGUAGES:
            version.language_prior(lang, KEYWORDS.other_language_factor)
        version.article_table()
        live = self._version.name if self._version is not None else None
        kept = {name: vectors for name, vectors in self._centred_vectors.items() if name == live}
        self._centred_vectors = {**kept, version.name: self._centre(version)}
        return version

    def _centre(self, version: IndexVersion) -> CentredVectors | None:
        """The version's vectors centred per language, for a model that needs it and a KB of two languages."""
        if not self.centred:
            return None
        langs = version.passage_languages()
        return CentredVectors(version.vectors(), langs) if len(set(langs)) > 1 else None

    def across_languages(self, version: IndexVersion, vector: np.ndarray, query_lang: str | None, count: int,
                         allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The passages in other languages than the question's that are closest to it by language-centred
        cosine (see centring): what the keyword side cannot see, ranked as if language did not matter."""
        if version.name not in self._centred_vectors:
            self._centred_vectors[version.name] = self._centre(version)
        centred = self._centred_vectors[version.name]
        if centred is None or query_lang not in LANGUAGES:
            return []
        # Only the other languages' blocks are read: every passage there is one the keywords cannot see.
        others = [lang for lang in centred.languages if lang != query_lang]
        return centred.search(vector, query_lang, count, allowed, others)

    def across_ranks(self, version: IndexVersion, found: Candidates, query_lang: str | None) -> dict[int, int]:
        """Where each passage of `found.across` stands by centred cosine among every candidate either side
        found, so one in the other language ranks first only if it is closer than the question's own
        language's best."""
        centred = self._centred_vectors.get(version.name)
        if centred is None or not found.across:
            return {}
        pool = [passage_id for passage_id, _ in (*found.dense, *found.lexical)]
        return centred.ranks_among(found.query_vector, query_lang, [passage_id for passage_id, _ in found.across], pool)

    def query_vector(self, text: str) -> np.ndarray:
        """The question's vector, from a small cache: agents ask the same questions, and the page asks again
        for the same words when a filter or the channel changes."""
        vector = self._query_vectors.get(text)
        if vector is None:
            vector = self.embedder.embed_query(text)
            self._query_vectors.put(text, vector)
        return vector

    def query_vectors(self, texts: list[str], langs: list[str | None]) -> list[np.ndarray | None]:
        """The vectors of several questions asked together (the needs of one message), the uncached ones
        embedded in one call; None for a question in a language where the dense side has no vote, since
        its search runs the model only when the keywords find too little."""
        voting = [index for index, lang in enumerate(langs)
                  if weights_for(self.settings.model, lang, self.weight_overrides).dense > 0]
        texts = [visible_text(text).strip() for text in texts]  # as `search` reads them
        vectors: list[np.ndarray | None] = [None] * len(texts)
        missing = []
        for index in voting:
            vectors[index] = self._query_vectors.get(texts[index])
            if vectors[index] is None:
                missing.append(index)
        if missing:
            embedded = self.embedder.embed_queries([texts[index] for index in missing])
            for index, vector in zip(missing, embedded, strict=True):
                vectors[index] = vector.reshape(1, -1)
                self._query_vectors.put(texts[index], vectors[index])
        return vectors

    def add_extract(self, response: SearchResponse, result: dict, channels: tuple[str, ...]) -> None:
        """Give one result of `response` the extract its search left out (see `extract_results`)."""
        self.suggester.attach(response.searched, [result], response.lang, response.keyword_weights or {},
                              _channels(channels), self._vector_of(response.query, response.query_vector))

    def _vector_of(self, text: str, known: np.ndarray | None):
        """The question's vector on demand: the one the search already has, else embedded when first asked."""
        return lambda: known if known is not None else self.query_vector(text)

    def warm_up(self) -> None:
        """Load the index and the model now, so the first agent does not wait for them."""
        self.search("warm up", k=1)

    def search(
        self, query: str, k: int = DEFAULT_RESULTS, mode: str = "hybrid", filters: dict | None = None,
        replies: tuple[str, ...] = (), route: bool = True, analyse_as: str | None = None,
        query_vector: np.ndarray | None = None, extract_results: int | None = None,
    ) -> SearchResponse:
        """The `k` best articles for `query`, each as its best passage with up to two more behind it.

        `mode` picks dense, lexical or both fused. `filters` narrows to a language, category, product or
        audience; the language filter also decides how the question is analysed, else it is detected.
        `replies` names the channels to suggest customer replies for (see suggest); none by default.
        `route` adds each result's escalation route (see routing), urgent criteria of the question first.
        `analyse_as` is the question's language when the caller has told it already (a need of a pasted
        message, told from its own words or the message's): the question is then not analysed again; the
        language filter still comes first.
        `query_vector` is the question's vector when the caller has embedded it already (see query_vectors).
        `extract_results` is how many of the best results get extracts (the suggester's default when None);
        `add_extract` makes one later for a result that turns out to need it.
        """
        text, k = validate_query(query, k, self.max_results)
        version = self.version
        found = self.candidates(version, text, max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT), mode, filters,
                                analyse_as, query_vector)
        filters, query_lang, query_vector = found.filters, found.lang, found.query_vector
        dense_hits, lexical_hits, keyword_weights = found.dense, found.lexical, found.keyword_weights
        if mode == "dense":
            hits = dense_hits
        elif mode == "lexical":
            hits = lexical_hits
        else:
            hits = fuse(dense_hits, lexical_hits, found.weights, found.across, coverage=found.coverage,
                        across_ranks=found.across_ranks)
        # A passage the model found only among the other language's (see across_languages) shows that
        # ranking's centred cosine as its dense score.
        side_scores = {"dense": {**dict(found.across), **dict(dense_hits)}, "lexical": dict(lexical_hits)}
        results = _group(version, hits, k, side_scores)
        signals = {
            "keywords": _keyword_coverage(version, keyword_weights, results),
            "meaning": round(float(dense_hits[0][1]), 4) if dense_hits else None,
            "agreement": results[0]["score"] if mode == "hybrid" and results else None,
        }
        urgent = None
        if route:
            routing = version.router.analyse(text)
            urgent = version.router.urgent(routing, query_lang)
            for result in results:
                result["route"] = version.router.route(routing, result["metadata"], query_lang)
        if replies:
            self.suggester.attach(version, results, query_lang, keyword_weights, _channels(replies),
                                  self._vector_of(text, query_vector), extract_results)
        return SearchResponse(query=text, results=results, version=version.name, lang=query_lang, filters=filters,
                              signals=signals, urgent=urgent, searched=version, keyword_weights=keyword_weights,
                              query_vector=query_vector)

    def candidates(self, version: IndexVersion, text: str, wanted: int, mode: str = "hybrid",
                   filters: dict | None = None, analyse_as: str | None = None,
                   query_vector: np.ndarray | None = None) -> Candidates:
        """Up to `wanted` passages from each side `mode` asks for, before fusion and grouping."""
        if mode not in MODES:
            raise QueryError(f"mode must be one of {', '.join(MODES)}")
        filters = validate_filters(filters, version.facets()["lang"])
        allowed = version.allowed(filters)
        query_lang = filters.get("lang") or analyse_as or detect_language(text)
        weights = weights_for(self.settings.model, query_lang, self.weight_overrides)
        found = Candidates(filters=filters, lang=query_lang, weights=weights, query_vector=query_vector)
        # The question's own keywords, analysed once: they search, measure coverage and pick reply sentences.
        primary = self.analyzer.query_terms(text, _langs(query_lang))
        found.keyword_weights = {term: version.lexical.idf(term) for term in primary}
        if mode in ("hybrid", "lexical"):
            terms = self._weighted_terms(text, query_lang, primary, version.synonyms.expand(text))
            found.lexical = version.lexical.search(terms, wanted, allowed, self._language_prior(version, query_lang))
            if mode == "hybrid" and found.lexical:
                found.coverage = self._coverage(version, found, terms)
        if mode == "dense" or (mode == "hybrid" and dense_needed(weights, len(found.lexical), wanted)):
            if found.query_vector is None:
                found.query_vector = self.query_vector(text)
            found.dense = version.search(found.query_vector, wanted, allowed)
            if mode == "hybrid" and weights.dense > 0 and weights.lexical > 0:
                found.across = self.across_languages(version, found.query_vector, query_lang, wanted, allowed)
                found.across_ranks = self.across_ranks(version, found, query_lang)
        return found

    @staticmethod
    def _coverage(version: IndexVersion, found: Candidates, terms: list[tuple[list[str], float]]) -> dict[int, float]:
        """Per keyword hit, the share of the question's keyword weight it holds (see fusion.fuse): its own
        terms count their idf, a synonym or other-language form its idf times the weight it searched with."""
        worth = {term: weight * version.lexical.idf(term) for related, weight in terms[1:] for term in related}
        ids = np.array([passage_id for passage_id, _ in found.lexical], dtype=np.int64)
        held = version.lexical.coverage({**worth, **found.keyword_weights}, sum(found.keyword_weights.values()), ids)
        return {int(passage_id): float(share) for passage_id, share in zip(ids, held, strict=True)}

    @staticmethod
    def _language_prior(version: IndexVersion, query_lang: str | None) -> np.ndarray | None:
        """Keyword scores of articles in another language than the question's, damped.

        An agent answers in the customer's language: when the KB has the answer in both, the article in
        the question's language should come first, even if synonyms or shared words match the other one.
        """
        if query_lang not in LANGUAGES:
            return None
        return version.language_prior(query_lang, KEYWORDS.other_language_factor)

    def _weighted_terms(
        self, text: str, query_lang: str | None, primary: list[str], synonyms: list[str]
    ) -> list[tuple[list[str], float]]:
        """Keyword terms with their weights: the question as typed counts most.

        Agents mix languages ("reported to Forbrukerrådet"): a Norwegian name in an English question only
        matches the Norwegian articles' stems, so the other language's analysis votes too, more quietly.
        Synonyms from the KB vote at half weight, so they widen the search without outvoting the question.
        """
        langs = _langs(query_lang)
        weighted = [(primary, 1.0)]
        others = [lang for lang in LANGUAGES if lang not in langs]
        if others:
            secondary = self.analyzer.query_terms(text, others, LANGUAGES)
            weighted.append(([term for term in secondary if term not in primary], KEYWORDS.secondary_language_weight))
        if synonyms:
            added = self.analyzer.query_terms(" ".join(synonyms), LANGUAGES)
            weighted.append(([term for term in added if term not in primary], KEYWORDS.synonym_weight))
        return weighted


def _langs(query_lang: str | None) -> list[str]:
    """The languages a question is analysed in: its own, or both when it cannot be told."""
    return [query_lang] if query_lang in LANGUAGES else list(LANGUAGES)


# Results whose passages count for the keyword coverage of a question.
COVERAGE_RESULTS = 3


def _keyword_coverage(version: IndexVersion, weights: dict[str, float], results: list[dict]) -> float | None:
    """How much of the question the best passages cover: the share of its keyword weight (rarer words weigh
    more, a word the KB never uses weighs most) found in one of the top passages. None without keywords."""
    total = sum(weights.values())
    if total <= 0:
        return None
    ids = [result["passage_id"] for result in results[:COVERAGE_RESULTS]]
    if not ids:
        return 0.0
    best = 0.0
    for terms in version.passage_terms(ids):
        held = set(terms)
        best = max(best, sum(weight for term, weight in weights.items() if term in held))
    return round(best / total, 4)


def _channels(channels) -> tuple[str, ...]:
    unknown = [channel for channel in channels if channel not in CHANNELS]
    if unknown:
        raise QueryError(f"channel must be one of {', '.join(CHANNELS)}, not {unknown[0]!r}")
    return tuple(dict.fromkeys(channels))


def _group(version: IndexVersion, hits: list[tuple[int, float]], k: int, side_scores: dict) -> list[dict]:
    """The first `k` articles in `hits` order, each with its best passage and up to two more."""
    # Grouping needs only each candidate's article; the full rows are read for the passages shown.
    articles = version.passage_articles([passage_id for passage_id, _ in hits])
    grouped: dict[str, list[tuple[float, int]]] = {}
    for passage_id, score in hits:
        article_id = articles.get(passage_id)
        if article_id is None:
            continue
        group = grouped.setdefault(article_id, [])
        if len(group) <= MORE_PER_ARTICLE:
            group.append((score, passage_id))
    shown = list(grouped.values())[:k]
    rows = version.passages([passage_id for group in shown for _, passage_id in group])
    results = []
    for rank, ids in enumerate(shown, start=1):
        group = [(score, rows[passage_id]) for score, passage_id in ids]
        best_score, best = group[0]
        result = {"rank": rank, **_passage_fields(best, best_score), "metadata": _metadata(best)}
        result["scores"] = {side: _rounded(scores.get(best["id"])) for side, scores in side_scores.items()}
        result["more"] = [_passage_fields(row, score) for score, row in group[1:]]
        results.append(result)
    return results


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _passage_fields(row, score: float) -> dict:
    heading_path = json.loads(row["heading_path"])
    return {
        "passage_id": int(row["id"]),
        "score": round(float(score), 4),
        "article_id": row["article_id"],
        "title": row["title"],
        "section": " > ".join(heading_path[1:]) if len(heading_path) > 1 else "",
        "heading_path": heading_path,
        "anchor": row["anchor"],
        "lang": row["lang"],
        "path": row["path"],
        "text": row["text"],
    }


def _metadata(row) -> dict:
    return {
        "category": row["category"],
        "products": json.loads(row["products"]),
        "tags": json.loads(row["tags"]),
        "audience": row["audience"],
        "owner": row["owner"],
        "updated": row["updated"],
        "review_by": row["review_by"],
    }
