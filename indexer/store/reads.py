"""Reading a built index version: its parts opened and checked, and every query over its `meta.sqlite`
behind a named method, so callers never write SQL against the schema (see schema)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import sqlite3
import threading
import weakref
from pathlib import Path

import numpy as np

from ..embedding.catalog import canonical_name
from ..errors import IndexCorrupt, IndexMismatch, IndexNotFound, NotFound
from ..kb.synonyms import Synonyms
from ..routing.matching import Router
from ..routing.routes import Routes
from ..text.lexical import LexicalIndex
from ..text.termcounts import TermCounts
from .schema import FORMAT_VERSION, SENTENCE_VECTOR_DTYPE
from .vectors import VECTORS_FILE, VectorIndex

# Filters an agent may combine, and the article column each one reads.
FILTER_COLUMNS = {"lang": "a.lang", "category": "a.category", "audience": "a.audience"}
MAX_CACHED_FILTERS = 256
# The largest id SQLite holds in an INTEGER column.
MAX_PASSAGE_ID = 2**63 - 1
# An article is named by its id or its path inside the KB; a longer reference is never looked up.
MAX_ARTICLE_REFERENCE_CHARS = 500


class IndexVersion:
    """A built version opened for reading: vectors memory-mapped (see vectors), metadata through per-thread
    SQLite handles."""

    def __init__(self, path: Path, formats: tuple[int, ...] = (FORMAT_VERSION,)):
        """Open the version at `path`; IndexMismatch unless its format is one of `formats` (a build may reuse
        an older format's passages, see schema.REUSABLE_FORMATS; serving reads the current one only)."""
        self.path = Path(path)
        manifest_file = self.path / "manifest.json"
        if not manifest_file.is_file() and not self.path.is_dir():
            raise IndexNotFound(f"{self.path} is not a built index version (no manifest.json)")
        self.manifest = self._part("manifest.json", lambda path: _manifest(path.read_text(encoding="utf-8")))
        if self.manifest.get("format") not in formats:
            raise IndexMismatch(
                f"{self.path} has index format {self.manifest.get('format')}, this program reads format "
                f"{FORMAT_VERSION}; rebuild it with: kb index"
            )
        if not isinstance(self.manifest.get("model"), dict) or not isinstance(self.manifest.get("version"), str):
            raise IndexCorrupt(f"index version {self.path.name} cannot be opened: manifest.json lacks the model or "
                               "version; rebuild it with: kb index")
        self.index = self._part(VECTORS_FILE, lambda path: VectorIndex(path, self.manifest.get("vectors")))
        self._lexical: LexicalIndex | None = None
        self.synonyms = self._part("synonyms.json",
                                   lambda path: Synonyms(json.loads(path.read_text(encoding="utf-8"))))
        # KB-wide placeholder declarations (_placeholders.yaml) as they were when this version was built.
        self.placeholders = self._part("placeholders.json", lambda path: json.loads(path.read_text(encoding="utf-8")))
        # Escalation routes (_routes.yaml) as they were when this version was built; none in older versions.
        routes_file = self.path / "routes.json"
        routes = json.loads(routes_file.read_text(encoding="utf-8")) if routes_file.is_file() else None
        self.router = Router(Routes.from_dict(routes))
        self._local = threading.local()
        self._filter_cache: dict[tuple, np.ndarray] = {}
        self._facets: dict[str, list[str]] | None = None
        self._priors: dict[tuple[str, float], np.ndarray] = {}
        self._article_table: tuple[np.ndarray, list[str]] | None = None
        self._article_langs: np.ndarray | None = None
        self._hold: weakref.finalize | None = None

    def _part(self, name: str, read):
        """One file of the version read with `read`; IndexCorrupt naming it when it is missing or damaged."""
        try:
            return read(self.path / name)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, sqlite3.Error) as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]
            raise IndexCorrupt(f"index version {self.path.name} cannot be opened: {name} is missing or damaged "
                               f"({detail}); rebuild it with: kb index") from None

    @property
    def lexical(self) -> LexicalIndex:
        """The keyword index, read on first use: a build that only reuses vectors never needs it."""
        if self._lexical is None:
            self._lexical = self._part("lexical", LexicalIndex.load)
        return self._lexical

    def term_counts(self) -> TermCounts | None:
        """The keyword index's term counts, for the next build to derive its own from; None when this version
        kept none or they cannot be read (that build then counts every passage)."""
        try:
            return LexicalIndex.load_counts(self.path / "lexical")
        except (OSError, ValueError):
            return None

    def article_warnings(self) -> dict[str, list]:
        """Warnings about each article as this version's build found them (path to [line, message] pairs);
        empty for versions built before they were kept."""
        try:
            warnings = json.loads((self.path / "warnings.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return warnings if isinstance(warnings, dict) else {}

    def verify(self, thorough: bool = False) -> None:
        """Open every part and check they agree, so a damaged version is refused before it serves.

        The build checks the version it wrote `thorough`ly (SQLite's own page check, every reply sentence)
        before it goes live, and records each file's size in the manifest; a server starting on it or
        swapping it in checks those sizes and the parts' counts instead of scanning them again, so each
        worker's swap costs a fraction of the CPU a publish takes under load, and a server on a 1M-passage
        index starts without a 37 s scan. A version without recorded sizes gets it all."""
        recorded = self.manifest.get("files")
        sized = isinstance(recorded, dict) and bool(recorded) and all(
            isinstance(size, int) for size in recorded.values())
        thorough = thorough or not sized
        checked = self._part("meta.sqlite", lambda path: (
            self._db.execute("PRAGMA quick_check").fetchone()[0] if thorough else "ok",
            self._db.execute("SELECT count(*) FROM passages").fetchone()[0],
            self._db.execute("SELECT count(*) FROM articles").fetchone()[0]))
        if checked[0] != "ok":
            raise IndexCorrupt(f"index version {self.name} cannot be opened: meta.sqlite is damaged ({checked[0]}); "
                               "rebuild it with: kb index")
        counts = {"index.faiss": int(self.index.ntotal), "meta.sqlite": checked[1], "lexical": self.lexical.size}
        if len(set(counts.values())) > 1:
            held = ", ".join(f"{name} {count:,}" for name, count in counts.items())
            raise IndexCorrupt(f"index version {self.name} cannot be opened: its parts hold different numbers of "
                               f"passages ({held}); rebuild it with: kb index")
        if sized:
            self._check_sizes(recorded)
        if self.has_sentences and thorough:
            self._verify_sentences()

    def _check_sizes(self, recorded: dict) -> None:
        """Every file the build wrote is there with the size it had; IndexCorrupt naming the first that is not."""
        for relpath, size in recorded.items():
            part = str(relpath).split("/", 1)[0]
            try:
                found = (self.path / relpath).stat().st_size
            except OSError:
                found = None
            if found != size:
                held = "missing" if found is None else f"{found:,} bytes"
                raise IndexCorrupt(f"index version {self.name} cannot be opened: {part} is missing or damaged "
                                   f"({relpath} is {held}, the build wrote {size:,}); rebuild it with: kb index")

    def _verify_sentences(self) -> None:
        """Every stored sentence has a vector of the index's length and belongs to a stored passage."""
        width = self.dimension * np.dtype(SENTENCE_VECTOR_DTYPE).itemsize
        bad, orphans = self._part("meta.sqlite", lambda path: (
            self._db.execute("SELECT count(*) FROM sentences WHERE length(vector) != ?", (width,)).fetchone()[0],
            self._db.execute(
                "SELECT count(*) FROM sentences s LEFT JOIN passages p"
                " ON p.article_id = s.article_id AND p.ordinal = s.ordinal WHERE p.id IS NULL").fetchone()[0]))
        if bad or orphans:
            raise IndexCorrupt(f"index version {self.name} cannot be opened: meta.sqlite holds {bad + orphans:,} "
                               "damaged reply sentences; rebuild it with: kb index")

    @property
    def name(self) -> str:
        """The version's name, as CURRENT holds it."""
        return self.manifest["version"]

    @property
    def dimension(self) -> int:
        """Vector length the index was built with."""
        return int(self.index.d)

    def check_model(self, model_name: str, dimension: int | None = None, weights_sha256: str | None = None) -> None:
        """Refuse to search with a model other than the one that built the index (by name, vector length and,
        for the bundled e5, the checksum of its weights)."""
        built = self.manifest["model"]
        built_with = built["name"]
        if canonical_name(built_with) != canonical_name(model_name):
            raise IndexMismatch(
                f"index {self.name} was built with model {built_with!r}, but the configured model is "
                f"{model_name!r}; rebuild with 'kb index' or configure the same model (KB_MODEL)"
            )
        if dimension is not None and dimension != self.dimension:
            raise IndexMismatch(
                f"index {self.name} holds {self.dimension}-dimensional vectors, but model {model_name!r} "
                f"returns {dimension}; rebuild with 'kb index'"
            )
        built_sha = built.get("weights_sha256")
        if weights_sha256 and built_sha and built_sha != weights_sha256:
            raise IndexMismatch(
                f"index {self.name} was built with other weights of {built_with!r} than the installed ones; "
                "rebuild with 'kb index'"
            )

    @property
    def _db(self) -> sqlite3.Connection:
        """A read-only connection for the calling thread."""
        connection = getattr(self._local, "db", None)
        if connection is None:
            uri = (self.path / "meta.sqlite").resolve().as_uri() + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            self._local.db = connection
        return connection

    def allowed(self, filters: dict | None) -> np.ndarray | None:
        """A mask over passage ids for the given filters (lang, category, audience, product), or None for all."""
        filters = {key: value for key, value in (filters or {}).items() if value}
        if not filters:
            return None
        key = tuple(sorted(filters.items()))
        mask = self._filter_cache.get(key)
        if mask is None:
            clauses, params = [], []
            for name, value in sorted(filters.items()):
                if name == "product":
                    clauses.append("EXISTS (SELECT 1 FROM json_each(a.products) WHERE lower(value) = lower(?))")
                else:
                    clauses.append(f"lower({FILTER_COLUMNS[name]}) = lower(?)")
                params.append(value)
            ids = [row[0] for row in self._db.execute(
                "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE " + " AND ".join(clauses),
                params,
            )]
            mask = np.zeros(self.index.ntotal, dtype=bool)
            mask[np.asarray(ids, dtype=np.int64)] = True
            if len(self._filter_cache) >= MAX_CACHED_FILTERS:
                self._filter_cache.clear()
            self._filter_cache[key] = mask
        return mask

    def search(self, vector: np.ndarray, count: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, score) pairs, best first, only among `allowed` passages when a mask is given."""
        return self.index.search(vector, count, allowed)

    def vectors(self) -> np.ndarray:
        """All stored vectors, row i for passage id i (to reuse them in the next build)."""
        if self.index.ntotal == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_n(0, self.index.ntotal)

    def passages(self, ids: list[int]) -> dict[int, sqlite3.Row]:
        """Passage rows joined with their article's fields, keyed by passage id."""
        if not ids:
            return {}
        rows = self._db.execute(
            "SELECT p.id, p.article_id, p.ordinal, p.heading_path, p.anchor, p.text, a.title, a.lang, a.path,"
            " a.category, a.audience, a.owner, a.updated, a.review_by, a.products, a.tags"
            f" FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN {_IDS}",
            (_id_list(ids),),
        ).fetchall()
        return {row["id"]: row for row in rows}

    def passage_articles(self, ids: list[int]) -> dict[int, str]:
        """The article of each given passage, keyed by passage id (unknown ids left out)."""
        if not ids:
            return {}
        of_passage, article_ids = self.article_table()
        return {passage_id: article_ids[of_passage[passage_id]] for passage_id in ids
                if 0 <= passage_id < len(of_passage) and of_passage[passage_id] >= 0}

    def article_table(self) -> tuple[np.ndarray, list[str]]:
        """Per passage id, the position of its article in the list of article ids (-1 for no passage): read
        once, so grouping a search's candidates by article costs no SQLite query (about 1 ms at 18k passages);
        4 bytes a passage."""
        if self._article_table is None:
            rows = self._db.execute("SELECT id, article_id FROM passages").fetchall()
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            article_ids = sorted({row[1] for row in rows})
            position = {article_id: number for number, article_id in enumerate(article_ids)}
            of_passage = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, dtype=np.int32)
            of_passage[ids] = np.fromiter((position[row[1]] for row in rows), dtype=np.int32, count=len(rows))
            self._article_table = (of_passage, article_ids)
        return self._article_table

    def article(self, article_id: str) -> sqlite3.Row | None:
        """One article's row by id, or by its path inside the KB (links are written as paths)."""
        row = self._db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            row = self._db.execute("SELECT * FROM articles WHERE path = ?", (article_id + ".md",)).fetchone()
        return row

    def known_article(self, reference) -> sqlite3.Row:
        """The article a client names (by id or path); NotFound for anything else: not text, too long, unknown."""
        row = None
        if isinstance(reference, str) and len(reference) <= MAX_ARTICLE_REFERENCE_CHARS:
            row = self.article(reference)
        if row is None:
            raise NotFound(f"no article {str(reference)[:100]!r} in the index")
        return row

    def language_prior(self, lang: str, other_factor: float) -> np.ndarray:
        """Per passage id: 1 for passages in `lang`, `other_factor` for the rest; computed once per pair."""
        key = (lang, other_factor)
        prior = self._priors.get(key)
        if prior is None:
            of_passage, article_langs = self._passage_article_langs()
            same = np.flatnonzero(article_langs[of_passage[of_passage >= 0]] == lang)
            prior = np.full(self.index.ntotal, other_factor, dtype=np.float32)
            prior[np.flatnonzero(of_passage >= 0)[same]] = 1.0
            self._priors[key] = prior
        return prior

    def passage_languages(self) -> list[str]:
        """The language of each passage's article, row i for passage id i."""
        of_passage, article_langs = self._passage_article_langs()
        return article_langs[of_passage[of_passage >= 0]].tolist()

    def _passage_article_langs(self) -> tuple[np.ndarray, np.ndarray]:
        """The article table's positions and each of its articles' language, read once."""
        of_passage, article_ids = self.article_table()
        if self._article_langs is None:
            langs = dict(self._db.execute("SELECT id, lang FROM articles").fetchall())
            self._article_langs = np.array([langs[article_id] for article_id in article_ids], dtype=object)
        return of_passage, self._article_langs

    def facets(self) -> dict[str, list[str]]:
        """The values each filter can take in this version, for the page's selectors."""
        if self._facets is None:
            db = self._db
            self._facets = {
                "lang": [r[0] for r in db.execute("SELECT DISTINCT lang FROM articles ORDER BY 1")],
                "category": [r[0] for r in db.execute(
                    "SELECT DISTINCT category FROM articles WHERE category IS NOT NULL ORDER BY 1")],
                "product": [r[0] for r in db.execute(
                    "SELECT DISTINCT value FROM articles, json_each(articles.products) ORDER BY 1")],
                "audience": [r[0] for r in db.execute("SELECT DISTINCT audience FROM articles ORDER BY 1")],
            }
        return self._facets

    def articles(self) -> list[sqlite3.Row]:
        """Every article row, in id order."""
        return self._db.execute("SELECT * FROM articles ORDER BY id").fetchall()

    def article_passages(self, article_id: str) -> list[sqlite3.Row]:
        """One article's passages in order."""
        return self._db.execute(
            "SELECT * FROM passages WHERE article_id = ? ORDER BY ordinal", (article_id,)
        ).fetchall()

    def article_metadata(self, article_id: str) -> dict:
        """An article's front matter as stored, without reading the rest of its row (the HTML above all)."""
        row = self._db.execute("SELECT metadata FROM articles WHERE id = ?", (article_id,)).fetchone()
        return json.loads(row["metadata"]) if row is not None else {}

    def replies(self, article_id: str) -> list[sqlite3.Row]:
        """One article's reply templates."""
        return self._db.execute(
            "SELECT * FROM replies WHERE article_id = ? ORDER BY lang, channel", (article_id,)
        ).fetchall()

    @functools.cached_property
    def has_sentences(self) -> bool:
        """Whether the version stores reply sentences (format 4 on); a format 3 one is only read to be reused."""
        return self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sentences'").fetchone() is not None

    @functools.cached_property
    def has_sentence_terms(self) -> bool:
        """Whether the stored sentences carry their keyword terms (versions written before they did do not)."""
        return self.has_sentences and any(
            row[1] == "terms" for row in self._db.execute("PRAGMA table_info(sentences)"))

    def passage_sentences(self, passage_ids: list[int]) -> dict[int, list[tuple[str, np.ndarray, list[str] | None]]]:
        """The stored reply sentences of the given passages with their vectors and keyword terms (None where
        the version keeps none), in the passage's order, keyed by passage id; a passage with none is left out."""
        if not passage_ids:
            return {}
        terms = "s.terms" if self.has_sentence_terms else "NULL"
        rows = self._db.execute(
            f"SELECT p.id, s.text, s.vector, {terms} FROM passages p JOIN sentences s"  # noqa: S608 - a column name
            " ON s.article_id = p.article_id AND s.ordinal = p.ordinal"
            f" WHERE p.id IN {_IDS} ORDER BY p.id, s.position",
            (_id_list(passage_ids),),
        )
        found: dict[int, list[tuple[str, np.ndarray, list[str] | None]]] = {}
        for passage_id, text, vector, words in rows:
            found.setdefault(passage_id, []).append(
                (text, np.frombuffer(vector, SENTENCE_VECTOR_DTYPE), None if words is None else words.split()))
        return found

    def article_sentence_vectors(self, article_id: str) -> dict[str, np.ndarray]:
        """An article's stored sentence vectors by sentence text (a changed article keeps those it still has)."""
        if not self.has_sentences:
            return {}
        rows = self._db.execute("SELECT text, vector FROM sentences WHERE article_id = ?", (article_id,))
        return {text: np.frombuffer(vector, SENTENCE_VECTOR_DTYPE).astype(np.float32) for text, vector in rows}

    def first_passage(self, article_id: str) -> sqlite3.Row | None:
        """An article's first passage (id, anchor, text), where editors put the short answer; None without one."""
        return self._db.execute(
            "SELECT id, anchor, text FROM passages WHERE article_id = ? ORDER BY ordinal LIMIT 1", (article_id,)
        ).fetchone()

    def passage_terms(self, ids: list[int]) -> list[list[str]]:
        """The analysed keyword terms of the given passages, one list per passage found."""
        if not ids:
            return []
        rows = self._db.execute(f"SELECT terms FROM passages WHERE id IN {_IDS}", (_id_list(ids),)).fetchall()
        return [row["terms"].split() for row in rows]

    def all_passages(self) -> list[sqlite3.Row]:
        """Every passage row in id order (a rebuild reuses those of unchanged articles)."""
        return self._db.execute(
            "SELECT id, article_id, ordinal, heading_path, anchor, text, token_count, terms FROM passages ORDER BY id"
        ).fetchall()

    def passage_ids_by_article(self) -> dict[str, list[int]]:
        """Each article's passage ids in order (a rebuild keeps those of unchanged articles where they are)."""
        found: dict[str, list[int]] = {}
        for article_id, passage_id in self._db.execute("SELECT article_id, id FROM passages ORDER BY id"):
            found.setdefault(article_id, []).append(passage_id)
        return found

    def all_replies(self) -> list[sqlite3.Row]:
        """Every reply template row (a rebuild reuses those of unchanged articles)."""
        return self._db.execute("SELECT article_id, lang, channel, text, line FROM replies").fetchall()

    def hold(self) -> None:
        """Keep this version on disk for as long as this object lives: a shared lock on its folder, which
        `IndexRoot.remove_stale` leaves alone. A server holds the version it serves, so a worker that sat
        idle through several builds still finds the files its threads open (each opens its own SQLite
        handle on first use)."""
        if self._hold is None:
            handle = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(handle, fcntl.LOCK_SH)
            self._hold = weakref.finalize(self, os.close, handle)

    def close(self) -> None:
        """Close this thread's metadata handle."""
        connection = getattr(self._local, "db", None)
        if connection is not None:
            connection.close()
            self._local.db = None


def remove_unless_held(version_dir: Path) -> None:
    """Remove a version's folder unless a server still holds it (IndexVersion.hold): the exclusive side of the
    same lock. A held folder stays for a later build to remove."""
    try:
        handle = os.open(version_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shutil.rmtree(version_dir, ignore_errors=True)
    except BlockingIOError:
        pass
    finally:
        os.close(handle)


# A list of passage ids bound as one JSON parameter: any number of them, and no SQL written from data.
_IDS = "(SELECT value FROM json_each(?))"


def _id_list(ids) -> str:
    return json.dumps([int(passage_id) for passage_id in ids])


def _manifest(text: str) -> dict:
    manifest = json.loads(text)
    if not isinstance(manifest, dict):
        raise ValueError("not a JSON object")
    return manifest




def passage_article(version_dir: Path, passage_id: int) -> str:
    """The article a passage of a version belongs to, read without opening the rest of the version (a rating
    may name a version the server no longer searches); NotFound for an unknown passage."""
    uri = (Path(version_dir) / "meta.sqlite").resolve().as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        row = connection.execute("SELECT article_id FROM passages WHERE id = ?", (passage_id,)).fetchone()
    if row is None:
        raise NotFound(f"no passage {passage_id} in index version {Path(version_dir).name}")
    return row[0]
