"""Lint a KB folder for editors: schema, duplicates, broken links, staleness, leaks, near-duplicate text.

Each finding names a file and line, so editors and CI on the KB repository can act on it. Nothing here
loads the embedding model: a check runs in a second or two.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import ArticleError
from ..kb.articles import LOCALE_KEYS, REVIEW_SOON_DAYS, Article, parse_article
from ..kb.files import list_article_files
from ..kb.markup import ARTICLE_ROUTE, render_article
from ..kb.rawhtml import unclosed_block_warning
from ..kb.synonyms import Synonyms
from ..replies.templates import check_templates, declarations, load_kb_declarations
from ..routing.routes import ROUTES_FILE, Routes, parse_routes_file
from ..vocabulary import AUDIENCES, ERROR, INFO, LANGUAGES, WARNING

# Word 8-grams shared between two passages of different articles, as a share of the smaller passage,
# above which the two are reported as the same text pasted twice.
NEAR_DUPLICATE_SHINGLE = 8
NEAR_DUPLICATE_SHARE = 0.8
# Passages shorter than this many words are too generic to compare (headings, one-liners).
NEAR_DUPLICATE_MIN_WORDS = 25

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HREF = re.compile(r'href="' + re.escape(ARTICLE_ROUTE) + r'([^"#]*)(?:#([^"]*))?"')
_ID_ATTR = re.compile(r'\sid="([^"]+)"')


@dataclass
class Finding:
    """One problem or notice, where it is and how bad."""

    path: str
    line: int | None
    level: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"

    def as_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


@dataclass
class _Parsed:
    article: Article
    text: str
    html: str
    anchors: set[str]
    passages: list[str]


def check_kb(kb_dir: Path, default_lang: str = "nb", today: dt.date | None = None) -> list[Finding]:
    """Every finding for the KB in `kb_dir`, sorted by path and line."""
    kb_dir = Path(kb_dir).resolve()
    today = today or dt.date.today()
    findings: list[Finding] = []
    parsed: dict[str, _Parsed] = {}
    try:
        kb_placeholders = load_kb_declarations(kb_dir)
    except ArticleError as exc:
        findings.append(Finding(exc.path, exc.line, ERROR, exc.message))
        kb_placeholders = {}
    for path in list_article_files(kb_dir):
        relpath = path.relative_to(kb_dir).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            findings.append(Finding(relpath, None, ERROR, f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            article = parse_article(data, relpath, default_lang)
            rendered = render_article(article.body, article.title, article.path)
        except ArticleError as exc:
            findings.append(Finding(exc.path, exc.line, ERROR, exc.message))
            continue
        text = data.decode("utf-8-sig")
        passages = [" ".join(block.text for block in section.blocks) for section in rendered.sections]
        parsed[relpath] = _Parsed(article, text, rendered.html, set(_ID_ATTR.findall(rendered.html)), passages)
        findings.extend(_schema(article, text, today))
        unclosed = unclosed_block_warning(article.body, article.body_line)
        if unclosed:
            findings.append(Finding(article.path, unclosed[0], WARNING, unclosed[1]))
        findings.extend(_replies(article, text, kb_placeholders))
    try:
        Synonyms.load(kb_dir)
    except ArticleError as exc:
        findings.append(Finding(exc.path, exc.line, ERROR, exc.message))
    findings.extend(_routes(kb_dir, parsed))
    findings.extend(_duplicates(parsed))
    findings.extend(_links(parsed))
    findings.extend(_near_duplicates(parsed))
    return sorted(findings, key=lambda f: (f.path, f.line or 0, f.level, f.message))


def _line_of(text: str, pattern: str, default: int | None = None) -> int | None:
    match = re.search(pattern, text, re.MULTILINE)
    return text[: match.start()].count("\n") + 1 if match else default


def _schema(article: Article, text: str, today: dt.date) -> list[Finding]:
    meta = article.metadata
    found: list[Finding] = []

    def add(key: str, level: str, message: str) -> None:
        found.append(Finding(article.path, _line_of(text, rf"^{re.escape(key)}\s*:", 1), level, message))

    if "title" in meta and not isinstance(meta["title"], str | int | float):
        add("title", ERROR, "title must be text")
    if not any(key in meta for key in LOCALE_KEYS) and not re.search(r"\.(nb|no|en)\.md$", article.path):
        found.append(Finding(article.path, 1, WARNING, f"no language given; the KB default '{article.lang}' is used"))
    elif "lang" in meta and meta["lang"] not in LANGUAGES:
        add("lang", ERROR, f"lang must be one of {', '.join(LANGUAGES)}, not {meta['lang']!r}")
    if "audience" in meta and meta["audience"] not in AUDIENCES:
        add("audience", ERROR, f"audience must be one of {', '.join(AUDIENCES)}, not {meta['audience']!r}")
    for key in ("products", "tags"):
        if key in meta and not (isinstance(meta[key], list) and all(isinstance(v, str | int) for v in meta[key])):
            add(key, ERROR, f"{key} must be a list of words, e.g. [a, b]")
    for key in ("category", "owner"):
        if key in meta and not isinstance(meta[key], str):
            add(key, ERROR, f"{key} must be text")
    for key in ("updated", "review_by"):
        if key not in meta:
            continue
        value = str(meta[key])
        if not _DATE.match(value):
            add(key, ERROR, f"{key} must be a date as YYYY-MM-DD, not {value!r}")
            continue
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            add(key, ERROR, f"{key} {value} is not a real date")
            continue
        if key == "review_by" and date < today:
            add(key, WARNING, f"stale: review was due {value}")
        elif key == "review_by" and date <= today + dt.timedelta(days=REVIEW_SOON_DAYS):
            add(key, INFO, f"review due {value}, within {REVIEW_SOON_DAYS} days")
        elif key == "updated" and date > today:
            add(key, WARNING, f"updated {value} lies in the future")
    return found


def _replies(article: Article, text: str, kb_placeholders: dict) -> list[Finding]:
    """Reply templates: channel headings, placeholder declarations, and replies where none may be sent."""
    templates, problems = check_templates(article.body, article.body_line, article.metadata, kb_placeholders)
    found = [Finding(article.path, line, level, message) for line, level, message in problems]
    try:
        declarations(article.metadata.get("placeholders"), article.path)
    except ArticleError as exc:
        found.append(Finding(article.path, _line_of(text, r"^placeholders\s*:", 1), ERROR, exc.message))
    if templates and article.audience == "internal":
        found.append(Finding(article.path, templates[0].line, WARNING,
                             "internal article has a reply template; it is never offered for customers"))
    return found


def _routes(kb_dir: Path, parsed: dict[str, _Parsed]) -> list[Finding]:
    """The route file itself, every article owner against it, and departments no question can reach."""
    try:
        routes, problems = parse_routes_file(kb_dir)
    except ArticleError as exc:
        return [Finding(exc.path, exc.line, ERROR, exc.message)]
    found = [Finding(ROUTES_FILE, problem.line, problem.level, problem.message) for problem in problems]
    if not routes.departments:
        return found
    for relpath, item in parsed.items():
        owner = item.article.metadata.get("owner")
        if isinstance(owner, str) and owner.strip() and routes.department(owner) is None:
            found.append(Finding(relpath, _line_of(item.text, r"^owner\s*:", 1), ERROR,
                                 f"owner {owner!r} has no route in {ROUTES_FILE}; known departments: "
                                 f"{', '.join(routes.departments)}"))
    found.extend(_unreachable(routes, [item.article.metadata for item in parsed.values()]))
    return found


def _unreachable(routes: Routes, metadata: list[dict]) -> list[Finding]:
    """Departments that can never be suggested: no article owns them, nothing in them matches, no criterion
    sends a case there."""
    owners = {str(meta.get("owner", "")).casefold() for meta in metadata}
    categories = {meta.get("category") for meta in metadata}
    products = {str(p) for meta in metadata for p in meta.get("products") or [] if isinstance(p, str | int)}
    tags = {str(t) for meta in metadata for t in meta.get("tags") or [] if isinstance(t, str | int)}
    targets = {urgent.to for urgent in routes.urgent} | {routes.level1}
    found = []
    for department in routes.departments.values():
        for kind, declared, known in (("category", department.categories, categories),
                                      ("product", department.products, products),
                                      ("tag", department.tags, tags)):
            for value in declared:
                if value not in known:
                    found.append(Finding(ROUTES_FILE, department.line, WARNING,
                                         f"department {department.name!r}: no article has {kind} {value!r}"))
        reachable = (department.name.casefold() in owners or department.keywords or department.name in targets
                     or set(department.categories) & categories or set(department.products) & products
                     or set(department.tags) & tags)
        if not reachable:
            found.append(Finding(ROUTES_FILE, department.line, WARNING,
                                 f"department {department.name!r} can never be suggested: no article has it as "
                                 "owner, it has no keywords, and no category, product, tag or urgent criterion "
                                 "leads to it"))
    return found


def _duplicates(parsed: dict[str, _Parsed]) -> list[Finding]:
    found = []
    for field, level in (("id", ERROR), ("title", WARNING)):
        seen: dict[str, str] = {}
        for relpath, item in parsed.items():
            value = getattr(item.article, field)
            key = value.casefold() if field == "title" else value
            if key in seen:
                line = _line_of(item.text, rf"^{field}\s*:", 1)
                found.append(Finding(relpath, line, level, f"duplicate {field} {value!r}, also in {seen[key]}"))
            else:
                seen[key] = relpath
    return found


def _links(parsed: dict[str, _Parsed]) -> list[Finding]:
    by_ref = {}
    for relpath, item in parsed.items():
        by_ref[item.article.id] = item
        by_ref[relpath[:-3]] = item
    found = []
    for relpath, item in parsed.items():
        for target, anchor in _HREF.findall(item.html):
            line = _line_of(item.text, re.escape(Path(target).name) + r"(\.md)?[#)]", None)
            linked = by_ref.get(target)
            if linked is None:
                found.append(Finding(relpath, line, ERROR, f"link to missing article {target}"))
                continue
            if anchor and anchor not in linked.anchors:
                found.append(Finding(relpath, line, ERROR, f"link to missing section #{anchor} in {target}"))
            if item.article.audience == "customer" and linked.article.audience == "internal":
                found.append(Finding(relpath, line, WARNING,
                                     f"customer-facing article links to internal article {target}"))
    return found


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i:i + NEAR_DUPLICATE_SHINGLE]) for i in range(len(words) - NEAR_DUPLICATE_SHINGLE + 1)}


def _near_duplicates(parsed: dict[str, _Parsed]) -> list[Finding]:
    """Passages whose word 8-grams mostly recur in another article: text pasted twice drifts apart later."""
    index: dict[tuple[str, ...], set[tuple[str, int]]] = defaultdict(set)
    passages: dict[tuple[str, int], set] = {}
    for relpath, item in parsed.items():
        for number, text in enumerate(item.passages):
            if len(text.split()) < NEAR_DUPLICATE_MIN_WORDS:
                continue
            shingles = _shingles(text)
            passages[(relpath, number)] = shingles
            for shingle in shingles:
                index[shingle].add((relpath, number))
    found = []
    reported: set[tuple[str, str]] = set()
    for key, shingles in passages.items():
        shared: dict[tuple[str, int], int] = defaultdict(int)
        for shingle in shingles:
            for other in index[shingle]:
                if other[0] != key[0]:
                    shared[other] += 1
        for other, count in shared.items():
            smaller = min(len(shingles), len(passages[other]))
            pair = tuple(sorted((key[0], other[0])))
            if smaller and count / smaller >= NEAR_DUPLICATE_SHARE and pair not in reported and key[0] < other[0]:
                reported.add(pair)
                found.append(Finding(key[0], None, WARNING,
                                     f"passage {key[1] + 1} is nearly the same text as passage {other[1] + 1} "
                                     f"of {other[0]} ({count / smaller:.0%} shared)"))
    return found
