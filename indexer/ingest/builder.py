"""Build a new index version from a KB folder: scan, parse, chunk, embed what changed, switch in atomically."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np

from ..config import Settings
from ..embedding import Embedder, describe, embedder_for
from ..errors import ArticleError, BuildFailed, IndexMismatch, IndexNotFound, KBError
from ..kb.articles import Article, content_hash, parse_article
from ..kb.chunking import ChunkSettings, chunk_sections, passage_embed_text
from ..kb.files import list_article_files
from ..kb.markup import render_article
from ..kb.synonyms import Synonyms
from ..replies.sentences import SENTENCE_RULES, extract_sentences
from ..replies.templates import check_templates, load_kb_declarations
from ..routing.routes import ROUTES_FILE, Routes, parse_routes_file
from ..store import IndexRoot, IndexVersion
from ..store.vectors import VECTORS
from ..text.lexical import ANALYZER, LexicalIndex, passage_terms
from ..text.termcounts import TermCounts
from .buildlog import BuildWarning, Problem, summarise

Progress = Callable[[str], None]

# Raised whenever parsing, rendering or chunking changes what an article's passages are.
PARSER_VERSION = 4
# Fewer new passages than this embed in a second or two: no progress bar.
PROGRESS_MIN_PASSAGES = 64


@dataclass
class BuildReport:
    """What a build did, for the summary line and for the manifest."""

    version: str = ""
    articles: int = 0
    passages: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_passages: int = 0
    embedded_sentences: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)
    seconds: float = 0.0
    # How the vector index was built (the manifest's `vectors`): exact, or IVF with its measured recall.
    vectors: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line an operator reads at a glance."""
        parts = [
            f"{self.added:,} added", f"{self.changed:,} changed", f"{self.removed:,} removed",
            f"{self.unchanged:,} unchanged",
        ]
        line = f"{', '.join(parts)} in {self.seconds:.1f} s"
        line += f"; {self.articles:,} articles, {self.passages:,} passages in version {self.version}"
        if self.problems:
            line += f"; {len(self.problems)} skipped"
        if self.vectors.get("kind") == "ivf":
            line += (f"; approximate vectors (IVF, {self.vectors['nlist']:,} lists, nprobe {self.vectors['nprobe']}):"
                     f" recall@10 {self.vectors['recall_at_10']:.3f} against exact on"
                     f" {self.vectors['recall_questions']} {self.vectors['recall_sample']}")
        return line

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "version": self.version, "articles": self.articles, "passages": self.passages,
            "added": self.added, "changed": self.changed, "removed": self.removed, "unchanged": self.unchanged,
            "embedded_passages": self.embedded_passages, "embedded_sentences": self.embedded_sentences,
            "seconds": round(self.seconds, 3),
            "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in self.problems],
            "warnings": [str(warning) for warning in self.warnings], "vectors": self.vectors,
        }

    def warning_lines(self, verbose: bool = False) -> list[str]:
        """The warnings as an operator reads them: those of unchanged articles summarised (see buildlog)."""
        return summarise(self.warnings, verbose)


@dataclass
class _Prepared:
    """One article as the new version will hold it: parsed now, or reused from the live version."""

    article_row: dict
    passages: list[dict]
    vectors: np.ndarray | None
    status: str
    replies: list[dict] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)
    # Where a reused article's passages were in the live version, so its rows and keyword counts are kept.
    source_ids: np.ndarray | None = None
    # The live version's id of the article a changed one replaces, whose unchanged passages keep their vectors.
    replaces: str | None = None
    # Reply sentences (passage ordinal, position, text) to store, with their vectors once embedded; none for a
    # kept article whose sentences the live version already holds.
    sentences: list[tuple[int, int, str]] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None
    # Each of those sentences' keyword terms, so a search need not analyse them.
    sentence_terms: list[list[str]] = field(default_factory=list)

    @property
    def passage_count(self) -> int:
        """How many passages the article has in the new version."""
        return len(self.source_ids) if self.source_ids is not None else len(self.passages)


def build_index(
    settings: Settings,
    *,
    strict: bool = False,
    embedder: Embedder | None = None,
    progress: bool = False,
    log: Progress | None = None,
    lock_wait: float = 0.0,
    verbose: bool = False,
) -> BuildReport:
    """Build a version for `settings.kb_dir` in `settings.index_dir` and make it live.

    Unchanged articles (same bytes, same model and chunking) keep their passages and vectors from the live
    version; everything else is parsed and embedded. Nothing touches the live version until the new one is
    complete on disk. Warnings go to `log` summarised per message unless `verbose` (see buildlog).
    """
    started = time.perf_counter()
    log = log or (lambda message: None)
    kb_dir = Path(settings.kb_dir).resolve()
    if not kb_dir.is_dir():
        raise KBError(f"KB folder {kb_dir} does not exist")
    root = IndexRoot(settings.index_dir)
    report = BuildReport()

    with root.build_lock(wait_seconds=lock_wait):
        embedder = embedder or embedder_for(settings)
        root.remove_stale()
        files = list_article_files(kb_dir)
        synonyms = _kb_file(Synonyms.load, kb_dir, report, Synonyms())
        kb_placeholders = _kb_file(load_kb_declarations, kb_dir, report, {})
        routes = _kb_file(lambda folder: _routes(folder, report), kb_dir, report, Routes())
        chunk_settings = ChunkSettings.for_limit(embedder.token_limit)
        previous, parse_all = _reusable_version(root, settings, embedder, chunk_settings, log)
        previous_rows = _previous_articles(previous)
        reusable = _Reusable(previous) if previous is not None else None

        prepared: list[_Prepared] = []
        seen_ids: dict[str, str] = {}
        for path in files:
            relpath = path.relative_to(kb_dir).as_posix()
            try:
                data = path.read_bytes()
                old = previous_rows.get(relpath)
                same = old is not None and old["content_hash"] == content_hash(data)
                if same and not parse_all:
                    item = reusable.article(old)
                else:
                    article = parse_article(data, relpath, settings.default_lang)
                    status = "unchanged" if same else "changed" if old else "added"
                    item = _prepare(article, embedder, chunk_settings, status, kb_placeholders)
                    item.replaces = old["id"] if old else None
                    if same:
                        item.warnings = [replace(warning, fresh=False) for warning in item.warnings]
                report.warnings.extend(item.warnings)
                article_id = item.article_row["id"]
                if article_id in seen_ids:
                    raise ArticleError(relpath, f"duplicate id {article_id!r}, already used by {seen_ids[article_id]}")
                seen_ids[article_id] = relpath
                prepared.append(item)
            except ArticleError as exc:
                report.problems.append(Problem(exc.path, exc.message, exc.line))
            except OSError as exc:
                report.problems.append(Problem(relpath, f"cannot read: {exc.strerror or exc}"))

        for problem in report.problems:
            log(f"skipped {problem}")
        for line in report.warning_lines(verbose):
            log(f"warning: {line}")
        if strict and report.problems:
            raise BuildFailed(f"{len(report.problems)} article(s) have problems; nothing was indexed (--strict)")
        if not prepared:
            raise BuildFailed(f"no articles to index in {kb_dir}")

        _embed_pending(prepared, embedder, progress, report, reusable)
        current_paths = {item.article_row["path"] for item in prepared}
        report.removed = sum(1 for path in previous_rows if path not in current_paths)
        for item in prepared:
            setattr(report, item.status, getattr(report, item.status) + 1)

        try:
            writer = root.start_version(base=previous if reusable is not None and reusable.used else None)
        except OSError as exc:
            raise BuildFailed(_write_failure(root, exc)) from exc
        try:
            for item in prepared:
                if item.source_ids is not None:
                    writer.keep_article(item.article_row["id"], item.source_ids, item.vectors)
                else:
                    writer.add_article(item.article_row, item.passages, item.vectors, item.replies)
                if item.sentence_vectors is not None:
                    writer.add_sentences(item.article_row["id"], item.sentences, item.sentence_vectors,
                                         item.sentence_terms)
            report.articles = len(prepared)
            report.passages = sum(item.passage_count for item in prepared)
            report.version = writer.name
            report.seconds = time.perf_counter() - started
            manifest = _manifest(settings, embedder, chunk_settings, prepared, report)
            writer.commit(manifest, embedder.dimension, _lexical_index(prepared, reusable, log), synonyms.as_list(),
                          kb_placeholders, routes.as_dict(), _stored_warnings(prepared), settings.approximate_above,
                          _recall_questions(prepared, embedder, report.passages, settings.approximate_above))
            report.vectors = writer.vector_info
        except OSError as exc:
            writer.abort()
            raise BuildFailed(_write_failure(root, exc)) from exc
        except BaseException:
            writer.abort()
            raise
        _refuse_unreadable(root, writer.name)
        root.switch_to(writer.name)
        root.remove_stale()
    report.seconds = time.perf_counter() - started
    return report


def _refuse_unreadable(root: IndexRoot, name: str) -> None:
    """Open the new version as a server would before it goes live; BuildFailed (and it is removed) if that fails."""
    try:
        version = IndexVersion(root.version_dir(name))
        version.verify(thorough=True)
        version.close()
    except KBError as exc:
        shutil.rmtree(root.version_dir(name), ignore_errors=True)
        live = root.current_version()
        kept = f"the live index {live} is unchanged" if live else "there is no live index yet"
        raise BuildFailed(f"the new version cannot be opened, so it was not switched in: {exc}; {kept}") from None


def _write_failure(root: IndexRoot, exc: OSError) -> str:
    live = root.current_version()
    kept = f"the live index {live} is unchanged" if live else "there is no live index yet"
    return f"cannot write the new index version in {root.versions}: {exc.strerror or exc}; {kept}"


def _reusable_version(
    root: IndexRoot, settings: Settings, embedder: Embedder, chunk_settings: ChunkSettings, log: Progress
) -> tuple[IndexVersion | None, bool]:
    """The live version if its vectors can be reused (same model), and whether every article must be parsed
    again because parsing or chunking changed since it was built.

    Parsed again, a passage whose text the model reads is unchanged still keeps its vector: a new release's
    parser re-embeds only the passages it cut differently.
    """
    try:
        version = root.open_reusable()
        version.check_model(settings.model, embedder.dimension, getattr(embedder, "source_sha256", None))
    except IndexNotFound:
        return None, False
    except IndexMismatch as exc:
        log(f"full rebuild: {exc}")
        return None, False
    built = version.manifest.get("pipeline")
    now = _pipeline(settings, chunk_settings)
    if built != now:
        log(f"every article parsed again: index {version.name} was built with {built}, now {now}; passages"
            " whose text is unchanged keep their vectors")
        return version, True
    return version, False


def _pipeline(settings: Settings, chunk_settings: ChunkSettings) -> dict:
    """Everything besides the model that shapes passages; a change means every article is parsed again."""
    return {"parser": PARSER_VERSION, "chunking": chunk_settings.as_dict(), "default_lang": settings.default_lang}


def _previous_articles(version: IndexVersion | None) -> dict[str, dict]:
    if version is None:
        return {}
    return {row["path"]: dict(row) for row in version.articles()}


class _Reusable:
    """What the live version holds for unchanged articles, read in one pass the first time one reuses it.

    Only passage ids, vectors and warnings: the new version's metadata starts as a copy of the live one's
    (see VersionWriter), so an unchanged article's rows are never read or written again.
    """

    def __init__(self, version: IndexVersion):
        self.version = version
        self._ids: dict[str, list[int]] | None = None
        self._vectors: np.ndarray | None = None
        self._warnings: dict[str, list] = {}
        # Sentences cut by other rules than today's, none stored (format 3), or stored without their terms are
        # cut again from the passages; a sentence the version holds keeps its vector.
        self.recut = not version.has_sentence_terms or version.manifest.get("sentence_rules") != SENTENCE_RULES
        self._texts: dict[str, list[str]] = {}
        self._templated: set[str] = set()
        # The stored vectors of the recut articles' sentences, by text.
        self.sentence_vectors: dict[str, np.ndarray] = {}

    def _load(self) -> None:
        self._ids = self.version.passage_ids_by_article()
        self._vectors = self.version.vectors()
        self._warnings = self.version.article_warnings()
        if self.recut:
            for row in self.version.all_passages():
                self._texts.setdefault(row["article_id"], []).append(row["text"])
            self._templated = {row["article_id"] for row in self.version.all_replies()}

    @property
    def used(self) -> bool:
        """Whether any article reused the live version's parts."""
        return self._ids is not None

    def article(self, row: dict) -> _Prepared:
        """An unchanged article as it was: where its passages are, their vectors, its warnings."""
        if self._ids is None:
            self._load()
        ids = np.array(self._ids.get(row["id"], []), dtype=np.int64)
        vectors = self._vectors[ids] if len(ids) else np.zeros((0, self.version.dimension), dtype=np.float32)
        warnings = [BuildWarning(row["path"], message, line, fresh=False)
                    for line, message in self._warnings.get(row["path"], [])]
        item = _Prepared(article_row=row, passages=[], vectors=vectors, status="unchanged", warnings=warnings,
                         source_ids=ids)
        if self.recut:
            item.sentences = extract_sentences(row["audience"], row["id"] in self._templated,
                                               self._texts.get(row["id"], []))
            item.sentence_terms = [ANALYZER.terms(text, row["lang"]) for _, _, text in item.sentences]
            if item.sentences:
                self.sentence_vectors.update(self.version.article_sentence_vectors(row["id"]))
            # Stored even when there are none, so no sentence cut by the old rules stays behind.
            item.sentence_vectors = np.zeros((0, self.version.dimension), dtype=np.float32)
        return item

    def vectors_of(self, passages: list[dict], article_ids: list[str]) -> dict[str, np.ndarray]:
        """The vectors the live version holds for those new `passages` and reply sentences that the same
        articles (`article_ids`, as they were) already had, by the text the model read."""
        wanted = {p["embed_text"] for p in passages}
        vectors = self.version.index
        found = {}
        for article_id in article_ids:
            for row in self.version.article_passages(article_id):
                text = passage_embed_text(json.loads(row["heading_path"]), row["text"])
                if text in wanted:
                    found[text] = vectors.reconstruct(int(row["id"]))
            found.update(self.version.article_sentence_vectors(article_id))
        return found

    def term_counts(self) -> TermCounts | None:
        """The live version's keyword term counts, when it kept them and they match its passages."""
        counts = self.version.term_counts()
        return counts if counts is not None and counts.rows == self.version.index.ntotal else None


def _prepare(
    article: Article, embedder: Embedder, chunk_settings: ChunkSettings, status: str, kb_placeholders: dict
) -> _Prepared:
    """A new or changed article parsed, chunked and analysed (not yet embedded), with its reply templates
    and what its editor should fix in them."""
    rendered = render_article(article.body, article.title, article.path)
    passages = chunk_sections(rendered.sections, embedder.count_tokens, chunk_settings)
    row = {
        "id": article.id, "path": article.path, "title": article.title, "lang": article.lang,
        "category": article.category, "audience": article.audience, "owner": article.owner,
        "updated": article.updated, "review_by": article.review_by,
        "products": json.dumps(article.products, ensure_ascii=False),
        "tags": json.dumps(article.tags, ensure_ascii=False),
        "metadata": json.dumps(article.metadata, ensure_ascii=False),
        "html": rendered.html, "content_hash": article.content_hash,
    }
    # Title and tags are the same for every passage of an article: analyse them once.
    article_terms = passage_terms(ANALYZER, article.lang, article.title, [], article.tags + article.products, "")
    passage_rows = [
        {"heading_path_json": json.dumps(p.heading_path, ensure_ascii=False), "anchor": p.anchor, "text": p.text,
         "token_count": p.token_count, "embed_text": p.embed_text,
         "terms": article_terms + passage_terms(ANALYZER, article.lang, "", p.heading_path[1:], [], p.text)}
        for p in passages
    ]
    templates, problems = check_templates(article.body, article.body_line, article.metadata, kb_placeholders)
    replies = [{"lang": t.lang, "channel": t.channel, "text": t.text, "line": t.line} for t in templates]
    warnings = [BuildWarning.parse(article.path, warning) for warning in article.warnings]
    warnings += [BuildWarning(article.path, message, line) for line, _, message in problems]
    sentences = extract_sentences(article.audience, bool(replies), [p.text for p in passages])
    return _Prepared(article_row=row, passages=passage_rows, vectors=None, status=status, replies=replies,
                     warnings=warnings, sentences=sentences,
                     sentence_terms=[ANALYZER.terms(text, article.lang) for _, _, text in sentences])


def _embed_pending(
    prepared: list[_Prepared], embedder: Embedder, progress: bool, report: BuildReport, reusable: _Reusable | None
) -> None:
    """Embed every new passage and reply sentence in one batched run, so the progress bar covers the whole build.

    A passage or sentence the article already had in the live version keeps its vector: an editor who
    changes one paragraph of a long article waits for that paragraph, not for all of them.
    """
    pending = [item for item in prepared if item.vectors is None]
    cut = [item for item in prepared if item.sentences]
    passages = [p for item in pending for p in item.passages]
    passage_texts = [p["embed_text"] for p in passages]
    sentence_texts = [text for item in cut for _, _, text in item.sentences]
    replaced = [item.replaces for item in pending if item.replaces]
    known = dict(reusable.sentence_vectors) if reusable is not None else {}
    if reusable is not None and replaced:
        known.update(reusable.vectors_of(passages, replaced))
    new_texts = list(dict.fromkeys(text for text in passage_texts + sentence_texts if text not in known))
    embedded = embedder.embed_documents(new_texts, progress=progress and len(new_texts) > PROGRESS_MIN_PASSAGES)
    new_passages = {text for text in passage_texts if text not in known}
    report.embedded_passages = len(new_passages)
    report.embedded_sentences = len(new_texts) - len(new_passages)
    vector_of = {**known, **{text: embedded[row] for row, text in enumerate(new_texts)}}
    for item in pending:
        item.vectors = _stacked([vector_of[p["embed_text"]] for p in item.passages], embedder.dimension)
    for item in cut:
        item.sentence_vectors = _stacked([vector_of[text] for _, _, text in item.sentences], embedder.dimension)


def _stacked(rows: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, dimension), np.float32)


def _recall_questions(prepared: list[_Prepared], embedder: Embedder, passages: int,
                      approximate_above: int | None) -> np.ndarray | None:
    """Article titles embedded as questions, for the approximate vector index's recall; None where the index
    stays exact. Titles are short and say what an article answers, as agents' questions do."""
    if passages <= (VECTORS.approximate_above if approximate_above is None else approximate_above):
        return None
    titles = sorted({item.article_row["title"] for item in prepared})
    if len(titles) > VECTORS.recall_questions:
        titles = [titles[i] for i in np.random.default_rng(3).choice(len(titles), VECTORS.recall_questions,
                                                                      replace=False)]
    return np.asarray(embedder.embed_queries(titles), dtype=np.float32).reshape(len(titles), -1) if titles else None


def _kb_file(load, kb_dir: Path, report: BuildReport, empty):
    """One of the KB's own files (synonyms, placeholders) read with `load`; a broken one is a problem like a
    broken article, and the build goes on with `empty` in its place."""
    try:
        return load(kb_dir)
    except ArticleError as exc:
        report.problems.append(Problem(exc.path, exc.message, exc.line))
        return empty


def _routes(kb_dir: Path, report: BuildReport) -> Routes:
    """The KB's escalation routes; an entry with an error is left out and reported, the rest apply."""
    routes, problems = parse_routes_file(kb_dir)
    report.warnings.extend(BuildWarning(ROUTES_FILE, p.message, p.line) for p in problems)
    return routes


def _lexical_index(prepared: list[_Prepared], reusable: _Reusable | None, log: Progress) -> LexicalIndex:
    """BM25 over every passage in the order they are stored.

    Derived from the live version's term counts when it kept them: the reused articles' rows are taken as
    they are and only the new passages are counted. Otherwise every passage's terms are counted.
    """
    previous = reusable.term_counts() if reusable is not None and reusable.used else None
    if previous is None:
        if reusable is not None and reusable.used:
            log(f"keyword index counted in full: version {reusable.version.name} kept no term counts")
        return LexicalIndex.build([terms for item in prepared for terms in _terms(item, reusable)])
    parts: list = []
    kept: list[np.ndarray] = []
    new: list[list[str]] = []
    for item in prepared:
        if item.source_ids is not None:
            if new:
                parts.append(new)
                new = []
            kept.append(item.source_ids)
        else:
            if kept:
                parts.append(np.concatenate(kept))
                kept = []
            new.extend(passage["terms"] for passage in item.passages)
    parts.append(np.concatenate(kept) if kept else new)
    return LexicalIndex.from_counts(previous.derive(parts))


def _terms(item: _Prepared, reusable: _Reusable | None) -> list[list[str]]:
    """An article's passages' terms: analysed now, or as the live version stored them for a reused one."""
    if item.source_ids is None:
        return [passage["terms"] for passage in item.passages]
    return reusable.version.passage_terms(item.source_ids.tolist())


def _stored_warnings(prepared: list[_Prepared]) -> dict[str, list]:
    """Each article's warnings, kept in the version so the next build can report them while it is unchanged."""
    return {item.article_row["path"]: [warning.stored() for warning in item.warnings]
            for item in prepared if item.warnings}


def _manifest(settings, embedder, chunk_settings, prepared, report) -> dict:
    kb_hash = hashlib.sha256()
    for item in sorted(prepared, key=lambda item: item.article_row["path"]):
        kb_hash.update(f"{item.article_row['path']}\0{item.article_row['content_hash']}\n".encode())
    return {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": describe(embedder),
        "chunking": chunk_settings.as_dict(),
        "pipeline": _pipeline(settings, chunk_settings),
        "sentence_rules": SENTENCE_RULES,
        "counts": {"articles": len(prepared), "skipped": len(report.problems)},
        "kb": {
            "path": str(Path(settings.kb_dir).resolve()), "content_hash": kb_hash.hexdigest(),
            "git_commit": _git_commit(Path(settings.kb_dir)),
        },
        "build": {key: value for key, value in report.as_dict().items() if key not in ("problems", "warnings")},
        "problems": [str(problem) for problem in report.problems[:200]],
        "libraries": _library_versions(),
    }


def _git_commit(kb_dir: Path) -> str | None:
    """The commit checked out where the KB lives, when it is in a git work tree and git is installed."""
    try:
        result = subprocess.run(
            ["git", "-C", str(kb_dir), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None


def _library_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in ("faiss-cpu", "sentence-transformers", "torch", "numpy", "markdown", "nh3"):
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = None
    return versions
