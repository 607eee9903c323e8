"""Pick the route for a question and one of its articles: urgent criteria first, then what the question says,
then who owns the article.

Keywords match as whole words after stemming in either language (as synonyms do), so "truet" finds
"truer" and "threatened" finds "threatens". Internal contact details are in the route for the agent;
nothing here is ever put into text for the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kb.synonyms import phrase_form
from ..text.lexical import STEMMERS
from ..vocabulary import LANGUAGES
from .routes import Department, Routes

# Further routes shown behind the first one (the article's own route behind an urgent one, say).
MAX_ALSO = 2


@dataclass(frozen=True)
class QuestionRouting:
    """What a question itself says about routing: urgent criteria and departments' keywords it mentions."""

    urgent: list[tuple[str, str]] = field(default_factory=list)  # (criterion id, matched keyword), file order
    mentions: dict[str, list[str]] = field(default_factory=dict)  # department -> matched keywords


class Router:
    """Routes of one index version with their keywords' stemmed forms computed once."""

    def __init__(self, routes: Routes):
        self.routes = routes
        self._urgent = [(u, _forms(u.keywords)) for u in routes.urgent]
        self._departments = [(d, _forms(d.keywords)) for d in routes.departments.values() if d.keywords]

    def analyse(self, question: str) -> QuestionRouting:
        """The urgent criteria and department keywords `question` mentions."""
        if not self._urgent and not self._departments:
            return QuestionRouting()
        forms = [phrase_form(question, lang) for lang in STEMMERS]
        urgent = []
        for criterion, keywords in self._urgent:
            hit = _first_match(forms, keywords)
            if hit:
                urgent.append((criterion.id, hit))
        mentions = {}
        for department, keywords in self._departments:
            hits = [word for word, variants in keywords if _matches(forms, variants)]
            if hits:
                mentions[department.name] = hits
        return QuestionRouting(urgent, mentions)

    def urgent(self, analysis: QuestionRouting, lang: str | None) -> list[dict]:
        """The urgent routes a question triggers, in the file's order, for the top of an answer."""
        by_id = {u.id: u for u in self.routes.urgent}
        return [self._urgent_route(by_id[criterion], matched, lang) for criterion, matched in analysis.urgent]

    def route(self, analysis: QuestionRouting, metadata: dict, lang: str | None) -> dict | None:
        """The route for one result: the first that applies, with up to MAX_ALSO others behind it."""
        unique: dict[str, dict] = {}
        for route in self.urgent(analysis, lang) + self._ordinary(analysis, metadata, lang):
            unique.setdefault(route["department"], route)
        if not unique:
            return None
        first, *rest = unique.values()
        return {**first, "also": rest[:MAX_ALSO]}

    def chosen(self, analysis: QuestionRouting, department: Department, lang: str | None) -> dict:
        """The route to a department the agent picked: its urgent route when the question meets one for it."""
        urgent = next((r for r in self.urgent(analysis, lang) if r["department"] == department.name), None)
        return urgent or {**self._route(department, "agent", department.name, lang), "also": []}

    def _ordinary(self, analysis: QuestionRouting, metadata: dict, lang: str | None) -> list[dict]:
        """Routes from the question's words, the article's owner and the article's topic, in that order."""
        owner = self.routes.department(metadata.get("owner"))
        routes = []
        if analysis.mentions:
            order = list(self.routes.departments)
            ranked = sorted(analysis.mentions.items(),
                            key=lambda item: (-len(item[1]), owner is None or item[0] != owner.name,
                                              order.index(item[0])))
            for name, hits in ranked:
                routes.append(self._route(self.routes.departments[name], "question", hits[0], lang))
        if owner is not None:
            routes.append(self._route(owner, "owner", owner.name, lang))
        elif metadata.get("owner") and not self.routes.departments:
            # No route file (or a broken one): the owner is still the department to ask.
            routes.append({"department": metadata["owner"], "label": metadata["owner"], "level": None,
                           "urgent": False, "reason": {"kind": "owner", "criterion": None,
                                                       "matched": metadata["owner"]},
                           "contact": {}, "speed": None})
        for department in self.routes.departments.values():
            matched = _topic_match(department, metadata)
            if matched:
                routes.append(self._route(department, *matched, lang))
        level1 = self.routes.department(self.routes.level1)
        if level1 is not None and not routes:
            routes.append(self._route(level1, "level1", level1.name, lang))
        return routes

    def _route(self, department: Department, kind: str, matched: str, lang: str | None) -> dict:
        text_lang = lang if lang in LANGUAGES else department.lang
        return {
            "department": department.name,
            "label": department.label.get(text_lang, department.name),
            "level": 1 if department.name == self.routes.level1 else 2,
            "urgent": False,
            "reason": {"kind": kind, "criterion": department.when.get(text_lang), "matched": matched},
            "contact": dict(department.contact),
            "speed": department.speed.get(text_lang),
        }

    def _urgent_route(self, criterion, matched: str, lang: str | None) -> dict:
        department = self.routes.departments[criterion.to]
        route = self._route(department, "urgent", matched, lang)
        text_lang = lang if lang in LANGUAGES else department.lang
        route.update(urgent=True, speed=criterion.speed.get(text_lang) or route["speed"],
                     reason={"kind": "urgent", "criterion": criterion.when.get(text_lang), "matched": matched,
                             "id": criterion.id})
        return route


def _forms(keywords) -> list[tuple[str, tuple[tuple[int, str], ...]]]:
    """Each keyword with its phrase form in each stemmer's language (by position in STEMMERS), leaving out
    a form with no word in it, which matches nothing (as in kb.synonyms.contains_phrase)."""
    return [(word, tuple((position, form) for position, lang in enumerate(STEMMERS)
                         if (form := phrase_form(word, lang)).strip())) for word in keywords]


def _matches(forms: list[str], variants: tuple[tuple[int, str], ...]) -> bool:
    # A loop, not any() over a generator: every search asks this of every keyword, and the generator made
    # analysing a question against the sample KB's 106 keywords 127-144 µs against 84 µs.
    for position, variant in variants:  # noqa: SIM110
        if variant in forms[position]:
            return True
    return False


def _first_match(forms: list[str], keywords) -> str | None:
    return next((word for word, variants in keywords if _matches(forms, variants)), None)


def _topic_match(department: Department, metadata: dict) -> tuple[str, str] | None:
    """(kind, value) when the article's category, a product or a tag is one the department declares."""
    if metadata.get("category") and metadata["category"] in department.categories:
        return "category", metadata["category"]
    for kind, values in (("product", metadata.get("products") or []), ("tag", metadata.get("tags") or [])):
        declared = department.products if kind == "product" else department.tags
        hit = next((value for value in values if value in declared), None)
        if hit:
            return kind, hit
    return None
