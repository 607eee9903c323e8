"""The index on disk: versioned directories (FAISS vectors, SQLite metadata, a manifest) and an atomic switch.

Layout of an index root:

    CURRENT                 name of the live version, replaced atomically
    versions/<version>/     index.faiss, meta.sqlite, lexical/ (with its term counts), manifest.json, warnings.json
    versions/<name>.partial a build in progress (or one that crashed); never read
    build.lock              held by the one build that may run at a time

This module owns the lifecycle (the build lock, the writer, the switch, removing old versions); reading a
built version is `reads`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import IndexLocked, IndexNotFound, KBError, NotFound, QueryError
from ..text.lexical import LexicalIndex
from .reads import MAX_PASSAGE_ID, IndexVersion, passage_article, remove_unless_held
from .schema import (
    ARTICLE_COLUMNS,
    FORMAT_VERSION,
    REUSABLE_FORMATS,
    SCHEMA,
    SENTENCE_VECTOR_DTYPE,
    SENTENCES_SCHEMA,
    VERSION_NAME,
)
from .vectors import write_vectors

# Versions kept after a build: the live one and the two before it, for a server still reading them.
KEEP_VERSIONS = 3


def new_version_name() -> str:
    """Sortable by build time, to the microsecond (builds of one index never overlap, see build_lock), so
    `remove_stale` keeps the newest: the suffix is the microsecond in five hex digits and one random one."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + f"-{now.microsecond:05x}{secrets.randbelow(16):x}"


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

    def open_reusable(self) -> IndexVersion:
        """The live version opened for a build to reuse its passages, in any format it can still reuse
        (schema.REUSABLE_FORMATS); IndexNotFound before the first build, IndexMismatch for an older format."""
        return IndexVersion(self.version_dir(self.live_version()), formats=REUSABLE_FORMATS)

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
        """The article a passage of a kept version belongs to; QueryError for an id that is not a whole number,
        NotFound for an unknown version or passage."""
        if not isinstance(passage_id, int) or isinstance(passage_id, bool) or not 0 <= passage_id <= MAX_PASSAGE_ID:
            raise QueryError("passage_id must be a whole number")
        if not isinstance(name, str) or not VERSION_NAME.match(name) or \
                not (self.version_dir(name) / "meta.sqlite").is_file():
            raise NotFound(f"no index version {str(name)[:40]!r} (it may have been replaced and removed)")
        return passage_article(self.version_dir(name), passage_id)

    def start_version(self, base: IndexVersion | None = None) -> VersionWriter:
        """A writer for a new version in a `.partial` directory beside the live one, written from `base` when
        given (see VersionWriter)."""
        self.versions.mkdir(parents=True, exist_ok=True)
        return VersionWriter(self, new_version_name(), base)

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
                remove_unless_held(entry)


class VersionWriter:
    """Writes one version into `<name>.partial`; `commit()` renames it into place once everything is on disk.

    Given a `base` version, its metadata file is copied and only what changed is written: the articles kept
    with `keep_article` stay as they are (their passages renumbered to their new place), every other article
    of the base is deleted, and those given to `add_article` are inserted. With thousands of articles and
    one changed, that spares rewriting every passage and every article's HTML.
    """

    def __init__(self, root: IndexRoot, name: str, base: IndexVersion | None = None):
        self.root = root
        self.name = name
        self.partial = root.versions / f"{name}.partial"
        self.partial.mkdir(parents=True)
        self._base = base
        if base is not None:
            shutil.copyfile(base.path / "meta.sqlite", self.partial / "meta.sqlite")
        self._db = sqlite3.connect(self.partial / "meta.sqlite")
        # No rollback journal and no syncing while the partial version is written: on failure the whole
        # folder is thrown away, and `commit` syncs every file before the version is moved into place.
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        if base is None:
            self._db.executescript(SCHEMA)
        self._db.executescript(SENTENCES_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(sentences)")}
        if "terms" not in columns:
            self._db.execute("ALTER TABLE sentences ADD COLUMN terms TEXT")
        self._vectors: list[np.ndarray] = []
        self._next_id = 0
        self._kept: list[tuple[str, np.ndarray, int]] = []
        self._added: list[tuple[dict, list[dict], list[dict], int]] = []
        self._sentences: list[tuple[str, int, int, str, bytes, str]] = []
        self._resentenced: list[str] = []
        self.vector_info: dict = {}

    def keep_article(self, article_id: str, passage_ids: np.ndarray, vectors: np.ndarray) -> None:
        """Keep an article of the base version as it is, its passages (`passage_ids` there) next in order."""
        if self._base is None:
            raise KBError("only a version written from a base can keep articles of it")
        if len(passage_ids) != len(vectors):
            raise KBError(f"article {article_id}: {len(passage_ids)} passages but {len(vectors)} vectors")
        self._kept.append((article_id, np.asarray(passage_ids, dtype=np.int64), self._next_id))
        self._next_id += len(passage_ids)
        if len(vectors):
            self._vectors.append(np.asarray(vectors, dtype=np.float32))

    def add_sentences(self, article_id: str, sentences: list[tuple[int, int, str]], vectors: np.ndarray,
                      terms: list[list[str]]) -> None:
        """Store an article's reply sentences, (passage ordinal, position, text), row i of `vectors` and of
        `terms` (its keyword terms) for the i-th, in place of any it had. A kept article's stay in the base
        unless they were cut by other rules."""
        if not len(sentences) == len(vectors) == len(terms):
            raise KBError(f"article {article_id}: {len(sentences)} sentences but {len(vectors)} vectors "
                          f"and {len(terms)} term lists")
        self._resentenced.append(article_id)
        stored = np.asarray(vectors, dtype=SENTENCE_VECTOR_DTYPE)
        self._sentences.extend((article_id, ordinal, position, text, stored[row].tobytes(), " ".join(terms[row]))
                               for row, (ordinal, position, text) in enumerate(sentences))

    def add_article(self, row: dict, passages: list[dict], vectors: np.ndarray, replies: list[dict] = ()) -> None:
        """Store one article, its passages and their vectors (row i of `vectors` is passage i), and its replies."""
        if len(passages) != len(vectors):
            raise KBError(f"{row['path']}: {len(passages)} passages but {len(vectors)} vectors")
        if self._base is not None:
            self._added.append((row, passages, list(replies), self._next_id))
        else:
            self._insert(row, passages, replies, self._next_id)
        self._next_id += len(passages)
        if len(vectors):
            self._vectors.append(np.asarray(vectors, dtype=np.float32))

    def _insert(self, row: dict, passages: list[dict], replies: list[dict], first_id: int) -> None:
        self._db.execute(
            f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))})",
            [row[column] for column in ARTICLE_COLUMNS],
        )
        self._db.executemany(
            "INSERT INTO passages (id, article_id, ordinal, heading_path, anchor, text, token_count, terms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    first_id + ordinal, row["id"], ordinal,
                    p["heading_path_json"],
                    p["anchor"], p["text"], p["token_count"], " ".join(p["terms"]),
                )
                for ordinal, p in enumerate(passages)
            ],
        )
        self._db.executemany(
            "INSERT INTO replies (article_id, lang, channel, text, line) VALUES (?, ?, ?, ?, ?)",
            [(row["id"], reply["lang"], reply["channel"], reply["text"], reply["line"]) for reply in replies],
        )

    def _apply_to_base(self) -> None:
        """Delete the base's articles that were not kept, move the kept passages to their new ids, insert the rest."""
        kept = {article_id for article_id, _, _ in self._kept}
        gone = json.dumps([row[0] for row in self._db.execute("SELECT id FROM articles") if row[0] not in kept])
        for table, column in (("replies", "article_id"), ("sentences", "article_id"), ("passages", "article_id"),
                              ("articles", "id")):
            self._db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",  # noqa: S608
                             (gone,))
        moves = [(-1 - (first + offset), int(old))
                 for _, old_ids, first in self._kept for offset, old in enumerate(old_ids.tolist())
                 if old != first + offset]
        # Through negative ids, so no passage ever lands on an id another still holds.
        self._db.executemany("UPDATE passages SET id = ? WHERE id = ?", moves)
        self._db.execute("UPDATE passages SET id = -1 - id WHERE id < 0")
        for row, passages, replies, first_id in self._added:
            self._insert(row, passages, replies, first_id)

    def commit(
        self, manifest: dict, dimension: int, lexical: LexicalIndex, synonyms: list | None = None,
        placeholders: dict | None = None, routes: dict | None = None, article_warnings: dict | None = None,
        approximate_above: int | None = None, questions: np.ndarray | None = None,
    ) -> Path:
        """Write the FAISS index, the lexical index and the manifest, flush them, and move the version into place.

        `article_warnings` (path to [line, message] pairs) is kept so later builds report them while the
        articles stay unchanged. Above `approximate_above` passages the vector index is approximate, its
        recall measured on `questions` (see vectors); how it was built is in the manifest's `vectors` and
        in `self.vector_info`."""
        if self._base is not None:
            self._apply_to_base()
        self._db.execute("DELETE FROM sentences WHERE article_id IN (SELECT value FROM json_each(?))",
                         (json.dumps(self._resentenced),))
        self._db.executemany(
            "INSERT INTO sentences (article_id, ordinal, position, text, vector, terms) VALUES (?, ?, ?, ?, ?, ?)",
            self._sentences)
        vectors = np.concatenate(self._vectors) if self._vectors else np.zeros((0, dimension), np.float32)
        if lexical.size != len(vectors):
            raise KBError(f"lexical index has {lexical.size} passages, the vector index {len(vectors)}")
        self.vector_info = write_vectors(self.partial, vectors, dimension, approximate_above, questions,
                                         self._base.index if self._base is not None else None)
        (self.partial / "lexical").mkdir()
        lexical.save(self.partial / "lexical")
        (self.partial / "synonyms.json").write_text(json.dumps(synonyms or [], ensure_ascii=False), encoding="utf-8")
        (self.partial / "placeholders.json").write_text(
            json.dumps(placeholders or {}, ensure_ascii=False), encoding="utf-8"
        )
        (self.partial / "routes.json").write_text(json.dumps(routes or {}, ensure_ascii=False), encoding="utf-8")
        (self.partial / "warnings.json").write_text(json.dumps(article_warnings or {}, ensure_ascii=False),
                                                    encoding="utf-8")
        self._db.commit()
        self._db.close()
        manifest = dict(manifest, format=FORMAT_VERSION, version=self.name, vectors=self.vector_info)
        manifest["counts"] = dict(manifest.get("counts", {}), passages=len(vectors))
        # What a server checks before it swaps the version in (see IndexVersion.verify).
        manifest["files"] = {path.relative_to(self.partial).as_posix(): path.stat().st_size
                             for path in sorted(self.partial.rglob("*")) if path.is_file()}
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
            self._db.close()
        shutil.rmtree(self.partial, ignore_errors=True)


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
