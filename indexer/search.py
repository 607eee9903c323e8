"""Answer a question with ranked passages from the live index, grouped so one article does not fill the list."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from .config import MAX_QUERY_CHARS, MAX_RESULTS, Settings
from .embedding import Embedder, get_embedder
from .errors import QueryError
from .store import IndexRoot, IndexVersion

# Candidates fetched per requested article: enough that grouping still fills the list.
CANDIDATES_PER_RESULT = 10
MIN_CANDIDATES = 50
# Further passages shown behind an article's best one.
MORE_PER_ARTICLE = 2


@dataclass
class SearchResponse:
    """The ranked results for one question, and which index version answered it."""

    query: str
    results: list[dict]
    version: str

    def as_dict(self) -> dict:
        """The JSON shape shared by `kb search --json` and `/api/search`."""
        return {"ok": True, "query": self.query, "index_version": self.version, "results": self.results}


def validate_query(query: str | None, k: int | None) -> tuple[str, int]:
    """Trimmed question and result count, or QueryError saying what is wrong."""
    text = (query or "").strip()
    if not text:
        raise QueryError("the question is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the question is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    k = 5 if k is None else k
    if not 1 <= k <= MAX_RESULTS:
        raise QueryError(f"k must be between 1 and {MAX_RESULTS}")
    return text, k


class Searcher:
    """Holds the live index version and the model; safe to share between threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.root = IndexRoot(settings.index_dir)
        self.embedder = embedder or get_embedder(settings.model)
        self._version: IndexVersion | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> IndexVersion:
        """The index version searches run against, opened and checked against the model on first use."""
        if self._version is None:
            with self._lock:
                if self._version is None:
                    version = self.root.open_current()
                    version.check_model(self.settings.model, self.embedder.dimension)
                    self._version = version
        return self._version

    def warm_up(self) -> None:
        """Load the index and the model now, so the first agent does not wait for them."""
        self.search("warm up", k=1)

    def search(self, query: str, k: int = 5) -> SearchResponse:
        """The `k` best articles for `query`, each as its best passage with up to two more behind it."""
        text, k = validate_query(query, k)
        version = self.version
        vector = self.embedder.embed_query(text)
        hits = version.search(vector, max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT))
        rows = version.passages([passage_id for passage_id, _ in hits])
        grouped: dict[str, list[tuple[float, object]]] = {}
        for passage_id, score in hits:
            row = rows.get(passage_id)
            if row is None:
                continue
            group = grouped.setdefault(row["article_id"], [])
            if len(group) <= MORE_PER_ARTICLE:
                group.append((score, row))
            if len(grouped) >= k and all(len(g) > MORE_PER_ARTICLE for g in grouped.values()):
                break
        results = []
        for rank, group in enumerate(list(grouped.values())[:k], start=1):
            best_score, best = group[0]
            result = _passage_fields(best, best_score)
            result = {"rank": rank, **result, "metadata": _metadata(best)}
            result["more"] = [_passage_fields(row, score) for score, row in group[1:]]
            results.append(result)
        return SearchResponse(query=text, results=results, version=version.name)


def _passage_fields(row, score: float) -> dict:
    heading_path = json.loads(row["heading_path"])
    return {
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
