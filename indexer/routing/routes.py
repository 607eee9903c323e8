"""The KB's escalation routes (`_routes.yaml`): departments, when each takes a case over, how and how fast.

Editors write the file; `parse_routes` turns it into `Routes` and lists what is wrong with it, entry by
entry, with its line. A broken entry is left out and the rest still apply; YAML that cannot be read at all
is an ArticleError naming the line, like a broken article.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ..errors import ArticleError
from ..kb import yamlsafe
from ..kb.files import is_inside
from ..vocabulary import ERROR, LANGUAGES, WARNING

ROUTES_FILE = "_routes.yaml"
CONTACT_KINDS = ("crm_queue", "email", "phone")
# Values a hand-off note may keep unmasked when the department needs them to find the case.
KEEPABLE = ("order_number", "service_number", "org_number")
DEFAULT_KEEPS = ("order_number", "service_number")
DEPARTMENT_KEYS = {"name", "label", "when", "keywords", "categories", "products", "tags", "contact", "speed",
                   "keeps", "lang"}
URGENT_KEYS = {"id", "to", "when", "keywords", "speed"}
MAX_ENTRIES = 200
MAX_WORDS = 500
MAX_TEXT_CHARS = 300

EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
# A Norwegian number as the KB writes them: 8 digits, grouped 3-2-3 or 2-2-2-2 or whole, optionally +47.
PHONE = re.compile(r"^(?:\+47 ?)?(?:\d{3} ?\d{2} ?\d{3}|\d{2} ?\d{2} ?\d{2} ?\d{2})$")


@dataclass(frozen=True)
class Department:
    """One department cases can be escalated to."""

    name: str
    label: dict[str, str]
    when: dict[str, str]
    contact: dict[str, str]
    speed: dict[str, str]
    keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    keeps: tuple[str, ...] = DEFAULT_KEEPS
    lang: str = "nb"
    line: int | None = None


@dataclass(frozen=True)
class Urgent:
    """A criterion recognised in the question that sends the case to a department at once."""

    id: str
    to: str
    when: dict[str, str]
    keywords: tuple[str, ...]
    speed: dict[str, str]
    line: int | None = None


@dataclass
class Routes:
    """Every department and urgent criterion of one KB; empty when it declares none."""

    level1: str | None = None
    departments: dict[str, Department] = field(default_factory=dict)
    urgent: list[Urgent] = field(default_factory=list)

    @classmethod
    def load(cls, kb_dir: Path) -> Routes:
        """The KB's routes, broken entries left out; ArticleError for a file that cannot be read at all."""
        return parse_routes_file(kb_dir)[0]

    def department(self, name: str | None) -> Department | None:
        """The department called `name` (case and spacing ignored), or None."""
        if not name:
            return None
        wanted = " ".join(name.split()).casefold()
        return next((d for d in self.departments.values() if d.name.casefold() == wanted), None)

    def as_dict(self) -> dict:
        """For storing beside the index."""
        return {"level1": self.level1, "departments": [asdict(d) for d in self.departments.values()],
                "urgent": [asdict(u) for u in self.urgent]}

    @classmethod
    def from_dict(cls, data: dict | None) -> Routes:
        """The routes `as_dict` stored."""
        if not data:
            return cls()
        tuples = ("keywords", "categories", "products", "tags", "keeps")
        departments = [Department(**{k: tuple(v) if k in tuples else v for k, v in d.items()})
                       for d in data.get("departments", [])]
        urgent = [Urgent(**{k: tuple(v) if k == "keywords" else v for k, v in u.items()})
                  for u in data.get("urgent", [])]
        return cls(data.get("level1"), {d.name: d for d in departments}, urgent)


@dataclass(frozen=True)
class RouteProblem:
    """Something wrong in the route file, where it is and how bad."""

    line: int | None
    level: str
    message: str


def parse_routes_file(kb_dir: Path) -> tuple[Routes, list[RouteProblem]]:
    """The routes in `kb_dir` and the problems found in them; no file means no routes and no problems."""
    path = Path(kb_dir) / ROUTES_FILE
    if not path.is_file():
        return Routes(), []
    if not is_inside(path, kb_dir):
        raise ArticleError(ROUTES_FILE, "is a link to a file outside the KB folder; not read")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArticleError(ROUTES_FILE, "not valid UTF-8") from None
    try:
        node = yaml.compose(text, Loader=yamlsafe.BoundedSafeLoader)
        data = yamlsafe.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArticleError(ROUTES_FILE, f"invalid YAML: {getattr(exc, 'problem', exc)}",
                           line=mark.line + 1 if mark else None) from None
    return parse_routes(data, _Lines(node))


class _Lines:
    """Line numbers of the entries and keys of the composed YAML, so problems can point at them."""

    def __init__(self, node):
        self.node = node

    def of(self, *path) -> int | None:
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for step in path:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if k.value == step), None)
                if match is None:
                    return line
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def parse_routes(data, lines: _Lines | None = None) -> tuple[Routes, list[RouteProblem]]:
    """Routes from the file's data; every problem with its line, and the entries with errors left out."""
    lines = lines or _Lines(None)
    problems: list[RouteProblem] = []
    if data is None:
        return Routes(), []
    if not isinstance(data, dict):
        raise ArticleError(ROUTES_FILE, "expected a mapping with `departments` (and optionally `urgent`, `level1`)",
                           line=1)
    for key in sorted(set(data) - {"level1", "departments", "urgent"}, key=str):
        problems.append(RouteProblem(lines.of(key), WARNING, f"unknown key {key!r} is ignored"))
    departments: dict[str, Department] = {}
    raw_departments = data.get("departments") or []
    if not isinstance(raw_departments, list):
        problems.append(RouteProblem(lines.of("departments"), ERROR, "departments must be a list"))
        raw_departments = []
    for number, raw in enumerate(raw_departments[:MAX_ENTRIES]):
        department = _department(raw, number, lines, problems)
        if department is None:
            continue
        if department.name.casefold() in {name.casefold() for name in departments}:
            problems.append(RouteProblem(department.line, ERROR, f"department {department.name!r} is declared twice"))
            continue
        departments[department.name] = department
    routes = Routes(None, departments, [])
    level1 = data.get("level1")
    if level1 is not None:
        found = routes.department(str(level1))
        if found is None:
            problems.append(RouteProblem(lines.of("level1"), ERROR, f"level1 names unknown department {level1!r}"))
        else:
            routes.level1 = found.name
    raw_urgent = data.get("urgent") or []
    if not isinstance(raw_urgent, list):
        problems.append(RouteProblem(lines.of("urgent"), ERROR, "urgent must be a list"))
        raw_urgent = []
    seen_ids: set[str] = set()
    for number, raw in enumerate(raw_urgent[:MAX_ENTRIES]):
        urgent = _urgent(raw, number, lines, problems, routes)
        if urgent is None:
            continue
        if urgent.id in seen_ids:
            problems.append(RouteProblem(urgent.line, ERROR, f"urgent criterion {urgent.id!r} is declared twice"))
            continue
        seen_ids.add(urgent.id)
        routes.urgent.append(urgent)
    return routes, problems


def _department(raw, number: int, lines: _Lines, problems: list[RouteProblem]) -> Department | None:
    where = ("departments", number)
    line = lines.of(*where)
    if not isinstance(raw, dict):
        problems.append(RouteProblem(line, ERROR, "a department must be a mapping with name, when and contact"))
        return None
    errors_before = sum(1 for p in problems if p.level == ERROR)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(RouteProblem(line, ERROR, "a department needs a name"))
        return None
    name = " ".join(name.split())
    label = f"department {name!r}"
    for key in sorted(set(raw) - DEPARTMENT_KEYS, key=str):
        problems.append(RouteProblem(lines.of(*where, key), WARNING, f"{label}: unknown key {key!r} is ignored"))
    when = _texts(raw.get("when"), f"{label}: when", lines.of(*where, "when"), problems, required=True)
    contact = _contact(raw.get("contact"), label, lines, where, problems)
    keeps = _words(raw.get("keeps", list(DEFAULT_KEEPS)), f"{label}: keeps", lines.of(*where, "keeps"), problems)
    for value in keeps:
        if value not in KEEPABLE:
            problems.append(RouteProblem(lines.of(*where, "keeps"), ERROR,
                                         f"{label}: keeps must name {', '.join(KEEPABLE)}, not {value!r}"))
    lang = raw.get("lang", "nb")
    if lang not in LANGUAGES:
        problems.append(RouteProblem(lines.of(*where, "lang"), ERROR,
                                     f"{label}: lang must be one of {', '.join(LANGUAGES)}, not {lang!r}"))
    department = Department(
        name=name,
        label=_texts(raw.get("label"), f"{label}: label", lines.of(*where, "label"), problems) or
        dict.fromkeys(LANGUAGES, name),
        when=when, contact=contact,
        speed=_texts(raw.get("speed"), f"{label}: speed", lines.of(*where, "speed"), problems),
        keywords=_words(raw.get("keywords"), f"{label}: keywords", lines.of(*where, "keywords"), problems),
        categories=_words(raw.get("categories"), f"{label}: categories", lines.of(*where, "categories"), problems),
        products=_words(raw.get("products"), f"{label}: products", lines.of(*where, "products"), problems),
        tags=_words(raw.get("tags"), f"{label}: tags", lines.of(*where, "tags"), problems),
        keeps=keeps, lang=lang if lang in LANGUAGES else "nb", line=line,
    )
    return department if sum(1 for p in problems if p.level == ERROR) == errors_before else None


def _urgent(raw, number: int, lines: _Lines, problems: list[RouteProblem], routes: Routes) -> Urgent | None:
    where = ("urgent", number)
    line = lines.of(*where)
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"].strip():
        problems.append(RouteProblem(line, ERROR,
                                     "an urgent criterion must be a mapping with id, to, when and keywords"))
        return None
    errors_before = sum(1 for p in problems if p.level == ERROR)
    label = f"urgent criterion {raw['id']!r}"
    for key in sorted(set(raw) - URGENT_KEYS, key=str):
        problems.append(RouteProblem(lines.of(*where, key), WARNING, f"{label}: unknown key {key!r} is ignored"))
    target = routes.department(raw.get("to") if isinstance(raw.get("to"), str) else None)
    if target is None:
        problems.append(RouteProblem(lines.of(*where, "to"), ERROR,
                                     f"{label}: to names unknown department {raw.get('to')!r}; known: "
                                     f"{', '.join(routes.departments) or 'none'}"))
    keywords = _words(raw.get("keywords"), f"{label}: keywords", lines.of(*where, "keywords"), problems)
    if not keywords:
        problems.append(RouteProblem(lines.of(*where, "keywords"), ERROR,
                                     f"{label}: needs keywords, or no question can ever match it"))
    urgent = Urgent(
        id=raw["id"].strip(), to=target.name if target else "", keywords=keywords, line=line,
        when=_texts(raw.get("when"), f"{label}: when", lines.of(*where, "when"), problems, required=True),
        speed=_texts(raw.get("speed"), f"{label}: speed", lines.of(*where, "speed"), problems),
    )
    return urgent if sum(1 for p in problems if p.level == ERROR) == errors_before else None


def _texts(value, label: str, line: int | None, problems: list[RouteProblem], required: bool = False) -> dict:
    """`{nb: ..., en: ...}` from one text (for both languages) or a mapping per language."""
    if value is None:
        if required:
            problems.append(RouteProblem(line, ERROR, f"{label} is missing: say in words when this applies"))
        return {}
    if isinstance(value, str | int | float):
        value = dict.fromkeys(LANGUAGES, str(value))
    if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
        problems.append(RouteProblem(line, ERROR, f"{label} must be text, or text per language ({{nb: ..., en: ...}})"))
        return {}
    unknown = [key for key in value if key not in LANGUAGES]
    if unknown:
        problems.append(RouteProblem(line, ERROR, f"{label}: unknown language {unknown[0]!r}; use nb and en"))
        return {}
    texts = {lang: " ".join(str(value[lang]).split())[:MAX_TEXT_CHARS] for lang in LANGUAGES if lang in value}
    missing = [lang for lang in LANGUAGES if lang not in texts]
    if missing and texts:
        problems.append(RouteProblem(line, WARNING, f"{label} has no {missing[0]} text; the other is used"))
        texts = {lang: texts.get(lang) or next(iter(texts.values())) for lang in LANGUAGES}
    return texts


def _words(value, label: str, line: int | None, problems: list[RouteProblem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
        problems.append(RouteProblem(line, ERROR, f"{label} must be a list of words, e.g. [a, b]"))
        return ()
    return tuple(" ".join(str(v).split())[:MAX_TEXT_CHARS] for v in value[:MAX_WORDS])


def _contact(value, label: str, lines: _Lines, where: tuple, problems: list[RouteProblem]) -> dict[str, str]:
    line = lines.of(*where, "contact")
    if not isinstance(value, dict) or not value:
        problems.append(RouteProblem(line, ERROR, f"{label}: contact must give at least one of "
                                                   f"{', '.join(CONTACT_KINDS)}"))
        return {}
    contact = {}
    for kind, raw in value.items():
        text = " ".join(str(raw).split()) if isinstance(raw, str | int) else ""
        if kind not in CONTACT_KINDS:
            problems.append(RouteProblem(line, ERROR, f"{label}: unknown contact {kind!r}; use "
                                                       f"{', '.join(CONTACT_KINDS)}"))
        elif kind == "email" and not EMAIL.match(text):
            problems.append(RouteProblem(line, ERROR, f"{label}: email {text!r} is not an e-mail address"))
        elif kind == "phone" and not PHONE.match(text):
            problems.append(RouteProblem(line, ERROR, f"{label}: phone {text!r} is not a Norwegian number "
                                                       "(8 digits, e.g. 815 40 410)"))
        elif not text or len(text) > MAX_TEXT_CHARS:
            problems.append(RouteProblem(line, ERROR,
                                         f"{label}: {kind} must be text of at most {MAX_TEXT_CHARS} characters"))
        else:
            contact[kind] = text
    return contact
