"""The index on disk: versioned directories (FAISS vectors, SQLite metadata, a manifest) and an atomic switch.

Layout of an index root:

    CURRENT                 name of the live version, replaced atomically
    versions/<version>/     index.faiss, meta.sqlite, lexical/, manifest.json
    versions/<name>.partial a build in progress (or one that crashed); never read
    build.lock              held by the one build that may run at a time
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np

from ..embedding.catalog import canonical_name
from ..errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexNotFound, KBError, NotFound
from ..kb.synonyms import Synonyms
from ..routing.matching import Router
from ..routing.routes import Routes
from ..text.lexical import LexicalIndex

# Filters an agent may combine, and the article column each one reads.
FILTER_COLUMNS = {"lang": "a.lang", "category": "a.category", "audience": "a.audience"}
MAX_CACHED_FILTERS = 256

FORMAT_VERSION = 3
KEEP_VERSIONS = 3

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    lang TEXT NOT NULL,
    category TEXT,
    audience TEXT NOT NULL,
    owner TEXT,
    updated TEXT,
    review_by TEXT,
    products TEXT NOT NULL,
    tags TEXT NOT NULL,
    metadata TEXT NOT NULL,
    html TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    anchor TEXT NOT NULL,
    text TEXT NOT NULL,
    token_count INTEGER NOT NULL,
    terms TEXT NOT NULL  -- analysed keyword terms, space-separated: a rebuild reuses them as it reuses vectors
);
CREATE INDEX passages_by_article ON passages(article_id, ordinal);
CREATE TABLE replies (
    article_id TEXT NOT NULL REFERENCES articles(id),
    lang TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    line INTEGER NOT NULL,
    PRIMARY KEY (article_id, lang, channel)
);
"""

ARTICLE_COLUMNS = (
    "id", "path", "title", "lang", "category", "audience", "owner", "updated", "review_by",
    "products", "tags", "metadata", "html", "content_hash",
)


VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def new_version_name() -> str:
    """Sortable by build time, unique even for two builds in the same second."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class IndexRoot:
    """One index directory: which version is live, where builds go, and the build lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.versions = self.path / "versions"
        self.current_file = self.path / "CURRENT"

    def current_version(self) -> str | None:
        """Name of the live version, or None before the first build."""
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def version_dir(self, name: str) -> Path:
        """Directory of a built version."""
        return self.versions / name

    def live_version(self) -> str:
        """Name of the live version; IndexNotFound before the first build."""
        name = self.current_version()
        if name is None:
            raise IndexNotFound(f"no index in {self.path}; build one with: kb index --index {self.path}")
        return name

    def open_current(self) -> IndexVersion:
        """The live version, ready to search; IndexNotFound before the first build."""
        return IndexVersion(self.version_dir(self.live_version()))

    @contextlib.contextmanager
    def build_lock(self, wait_seconds: float = 0.0) -> Iterator[None]:
        """Exclusive right to build; a second build waits up to `wait_seconds`, then raises IndexLocked."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / "build.lock", "a+")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise KBError(f"cannot write in the index folder {self.path}: {exc.strerror or exc}") from None
        try:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexLocked(
                            f"another 'kb index' is building {self.path}; try again when it has finished"
                        ) from None
                    time.sleep(0.2)
            yield
        finally:
            handle.close()

    def passage_article(self, name: str, passage_id: int) -> str:
        """The article a passage of a kept version belongs to; NotFound for an unknown version or passage."""
        if not isinstance(name, str) or not VERSION_NAME.match(name) or \
                not (self.version_dir(name) / "meta.sqlite").is_file():
            raise NotFound(f"no index version {str(name)[:40]!r} (it may have been replaced and removed)")
        uri = (self.version_dir(name) / "meta.sqlite").resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            row = connection.execute("SELECT article_id FROM passages WHERE id = ?", (passage_id,)).fetchone()
        if row is None:
            raise NotFound(f"no passage {passage_id} in index version {name}")
        return row[0]

    def start_version(self) -> VersionWriter:
        """A writer for a new version in a `.partial` directory beside the live one."""
        self.versions.mkdir(parents=True, exist_ok=True)
        return VersionWriter(self, new_version_name())

    def switch_to(self, name: str) -> None:
        """Make `name` live in one atomic rename, durable across a crash."""
        temporary = self.path / f".CURRENT.{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.current_file)
        _fsync_dir(self.path)

    def remove_stale(self, keep: int = KEEP_VERSIONS) -> None:
        """Drop leftovers of crashed builds and all but the newest `keep` versions (the live one always stays)."""
        if not self.versions.exists():
            return
        current = self.current_version()
        entries = sorted(self.versions.iterdir(), key=lambda entry: entry.name)
        for entry in entries:
            if entry.name.endswith(".partial"):
                shutil.rmtree(entry, ignore_errors=True)
        finished = [entry for entry in entries if not entry.name.endswith(".partial") and entry.exists()]
        for entry in finished[:-keep]:
            if entry.name != current:
                shutil.rmtree(entry, ignore_errors=True)


class VersionWriter:
    """Writes one version into `<name>.partial`; `commit()` renames it into place once everything is on disk."""

    def __init__(self, root: IndexRoot, name: str):
        self.root = root
        self.name = name
        self.partial = root.versions / f"{name}.partial"
        self.partial.mkdir(parents=True)
        self.db = sqlite3.connect(self.partial / "meta.sqlite")
        self.db.executescript(SCHEMA)
        self._vectors: list[np.ndarray] = []
        self._next_id = 0

    def add_article(self, row: dict, passages: list[dict], vectors: np.ndarray, replies: list[dict] = ()) -> None:
        """Store one article, its passages and their vectors (row i of `vectors` is passage i), and its replies."""
        if len(passages) != len(vectors):
            raise KBError(f"{row['path']}: {len(passages)} passages but {len(vectors)} vectors")
        self.db.execute(
            f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))})",
            [row[column] for column in ARTICLE_COLUMNS],
        )
        self.db.executemany(
            "INSERT INTO passages (id, article_id, ordinal, heading_path, anchor, text, token_count, terms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    self._next_id + ordinal, row["id"], ordinal,
                    p["heading_path_json"],
                    p["anchor"], p["text"], p["token_count"], " ".join(p["terms"]),
                )
                for ordinal, p in enumerate(passages)
            ],
        )
        self.db.executemany(
            "INSERT INTO replies (article_id, lang, channel, text, line) VALUES (?, ?, ?, ?, ?)",
            [(row["id"], reply["lang"], reply["channel"], reply["text"], reply["line"]) for reply in replies],
        )
        self._next_id += len(passages)
        if len(vectors):
            self._vectors.append(np.asarray(vectors, dtype=np.float32))

    def commit(
        self, manifest: dict, dimension: int, lexical: LexicalIndex, synonyms: list | None = None,
        placeholders: dict | None = None, routes: dict | None = None,
    ) -> Path:
        """Write the FAISS index, the lexical index and the manifest, flush them, and move the version into place."""
        vectors = np.concatenate(self._vectors) if self._vectors else np.zeros((0, dimension), np.float32)
        if lexical.size != len(vectors):
            raise KBError(f"lexical index has {lexical.size} passages, the vector index {len(vectors)}")
        index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            index.add(vectors)
        faiss.write_index(index, str(self.partial / "index.faiss"))
        (self.partial / "lexical").mkdir()
        lexical.save(self.partial / "lexical")
        (self.partial / "synonyms.json").write_text(json.dumps(synonyms or [], ensure_ascii=False), encoding="utf-8")
        (self.partial / "placeholders.json").write_text(
            json.dumps(placeholders or {}, ensure_ascii=False), encoding="utf-8"
        )
        (self.partial / "routes.json").write_text(json.dumps(routes or {}, ensure_ascii=False), encoding="utf-8")
        self.db.commit()
        self.db.close()
        manifest = dict(manifest, format=FORMAT_VERSION, version=self.name)
        manifest["counts"] = dict(manifest.get("counts", {}), passages=int(index.ntotal))
        (self.partial / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for path in self.partial.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        _fsync_dir(self.partial / "lexical")
        final = self.root.version_dir(self.name)
        os.rename(self.partial, final)
        _fsync_dir(self.root.versions)
        return final

    def abort(self) -> None:
        """Throw the partial version away; the live one was never touched."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        shutil.rmtree(self.partial, ignore_errors=True)


class IndexVersion:
    """A built version opened for reading: vectors in memory, metadata through per-thread SQLite handles."""

    def __init__(self, path: Path):
        self.path = Path(path)
        manifest_file = self.path / "manifest.json"
        if not manifest_file.is_file() and not self.path.is_dir():
            raise IndexNotFound(f"{self.path} is not a built index version (no manifest.json)")
        self.manifest = self._part("manifest.json", lambda path: _manifest(path.read_text(encoding="utf-8")))
        if self.manifest.get("format") != FORMAT_VERSION:
            raise IndexMismatch(
                f"{self.path} has index format {self.manifest.get('format')}, this program reads format "
                f"{FORMAT_VERSION}; rebuild it with: kb index"
            )
        if not isinstance(self.manifest.get("model"), dict) or not isinstance(self.manifest.get("version"), str):
            raise IndexCorrupt(f"index version {self.path.name} cannot be opened: manifest.json lacks the model or "
                               "version; rebuild it with: kb index")
        self.index = self._part("index.faiss", lambda path: faiss.read_index(str(path)))
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

    def verify(self) -> None:
        """Read every part once and check they agree, so a damaged version is refused before it serves."""
        checked = self._part("meta.sqlite", lambda path: (
            self.db.execute("PRAGMA quick_check").fetchone()[0],
            self.db.execute("SELECT count(*) FROM passages").fetchone()[0],
            self.db.execute("SELECT count(*) FROM articles").fetchone()[0]))
        if checked[0] != "ok":
            raise IndexCorrupt(f"index version {self.name} cannot be opened: meta.sqlite is damaged ({checked[0]}); "
                               "rebuild it with: kb index")
        counts = {"index.faiss": int(self.index.ntotal), "meta.sqlite": checked[1], "lexical": self.lexical.size}
        if len(set(counts.values())) > 1:
            held = ", ".join(f"{name} {count:,}" for name, count in counts.items())
            raise IndexCorrupt(f"index version {self.name} cannot be opened: its parts hold different numbers of "
                               f"passages ({held}); rebuild it with: kb index")

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
    def db(self) -> sqlite3.Connection:
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
            ids = [row[0] for row in self.db.execute(
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
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if len(ids) == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
            count = min(count, len(ids))
        count = min(count, self.index.ntotal)
        if count <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        scores, ids = self.index.search(query, count, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def vectors(self) -> np.ndarray:
        """All stored vectors, row i for passage id i (to reuse them in the next build)."""
        if self.index.ntotal == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_n(0, self.index.ntotal)

    def passages(self, ids: list[int]) -> dict[int, sqlite3.Row]:
        """Passage rows joined with their article's fields, keyed by passage id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT p.id, p.article_id, p.ordinal, p.heading_path, p.anchor, p.text, a.title, a.lang, a.path,"
            " a.category, a.audience, a.owner, a.updated, a.review_by, a.products, a.tags"
            f" FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
            ids,
        ).fetchall()
        return {row["id"]: row for row in rows}

    def article(self, article_id: str) -> sqlite3.Row | None:
        """One article's row by id, or by its path inside the KB (links are written as paths)."""
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            row = self.db.execute("SELECT * FROM articles WHERE path = ?", (article_id + ".md",)).fetchone()
        return row

    def language_prior(self, lang: str, other_factor: float) -> np.ndarray:
        """Per passage id: 1 for passages in `lang`, `other_factor` for the rest; computed once per pair."""
        key = (lang, other_factor)
        prior = self._priors.get(key)
        if prior is None:
            prior = np.full(self.index.ntotal, other_factor, dtype=np.float32)
            same = [row[0] for row in self.db.execute(
                "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE a.lang = ?", (lang,)
            )]
            prior[np.asarray(same, dtype=np.int64)] = 1.0
            self._priors[key] = prior
        return prior

    def facets(self) -> dict[str, list[str]]:
        """The values each filter can take in this version, for the page's selectors."""
        if self._facets is None:
            db = self.db
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
        return self.db.execute("SELECT * FROM articles ORDER BY id").fetchall()

    def article_passages(self, article_id: str) -> list[sqlite3.Row]:
        """One article's passages in order."""
        return self.db.execute(
            "SELECT * FROM passages WHERE article_id = ? ORDER BY ordinal", (article_id,)
        ).fetchall()

    def article_metadata(self, article_id: str) -> dict:
        """An article's front matter as stored, without reading the rest of its row (the HTML above all)."""
        row = self.db.execute("SELECT metadata FROM articles WHERE id = ?", (article_id,)).fetchone()
        return json.loads(row["metadata"]) if row is not None else {}

    def replies(self, article_id: str) -> list[sqlite3.Row]:
        """One article's reply templates."""
        return self.db.execute(
            "SELECT * FROM replies WHERE article_id = ? ORDER BY lang, channel", (article_id,)
        ).fetchall()

    def close(self) -> None:
        """Close this thread's metadata handle."""
        connection = getattr(self._local, "db", None)
        if connection is not None:
            connection.close()
            self._local.db = None


def _manifest(text: str) -> dict:
    manifest = json.loads(text)
    if not isinstance(manifest, dict):
        raise ValueError("not a JSON object")
    return manifest


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EISDIR):
            return
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
