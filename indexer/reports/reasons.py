"""Why customers contact the company: searches, answers used, ratings, escalations and the customers' own
feedback per category, product and department per week, the topics rising or falling, and per product what
is asked and which troubleshooting or complaint articles answer it.

`build_reasons` reads the feedback store and the live index and returns one plain dict, like the editors'
report (see reports); nothing here writes. A search counts for the category and products of its first
result's article (and for the products its question names), and for the department that article routes to.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict

from ..assist.subjects import Subjects
from ..querylog import CONTACT_KINDS, FeedbackStore, now, timestamp
from ..routing.matching import QuestionRouting
from ..store import IndexVersion
from ..vocabulary import REASON_SECTIONS
from .editors import rows_as_csv

DIMENSIONS = ("category", "product", "department")
MEASURES = ("searches", "used", "ratings", "helped", "escalations", *CONTACT_KINDS)
# Under this many searches in the two weeks compared, a count's own noise (about ±√n) is as large as any
# change it could show: the trend is flagged as too few to mean anything.
MIN_TREND_SEARCHES = 10
# Articles that count as "troubleshooting or complaint" answers for a product.
PRODUCT_ANSWER_CATEGORIES = ("produkter", "reklamasjon", "service", "installasjon")
QUESTIONS_PER_PRODUCT = 5
MAX_COMMENTS = 200


def iso_week(at: str) -> str:
    """The ISO week of a stored timestamp, as 2026-W48."""
    year, week, _ = dt.date.fromisoformat(at[:10]).isocalendar()
    return f"{year}-W{week:02d}"


class _Attribution:
    """Category, products and department of articles and searches, each worked out once."""

    def __init__(self, version: IndexVersion):
        self.version = version
        self.articles = {row["id"]: row for row in version.articles()}
        self.subjects = Subjects.of_version(version)
        self._departments: dict[str, str | None] = {}

    def article(self, article_id: str | None) -> dict:
        row = self.articles.get(article_id or "")
        if row is None:
            return {"category": None, "products": [], "department": None}
        if article_id not in self._departments:
            metadata = {"owner": row["owner"], "category": row["category"], "products": json.loads(row["products"]),
                        "tags": json.loads(row["tags"])}
            route = self.version.router.route(QuestionRouting(), metadata, row["lang"])
            self._departments[article_id] = route["department"] if route else None
        return {"category": row["category"], "products": json.loads(row["products"]),
                "department": self._departments[article_id]}

    def search(self, search: dict) -> dict:
        results = json.loads(search["results"])
        first = self.article(results[0]["article_id"] if results else None)
        named = [mention.subject for mention in self.subjects.mentions(search["query"])]
        return {**first, "products": named or first["products"]}


def build_reasons(store: FeedbackStore, version: IndexVersion, since: dt.datetime | None = None,
                  today: dt.date | None = None) -> dict:
    """The contact reasons report for everything logged from `since` on; `today` picks the current week."""
    today = today or now().date()
    attribution = _Attribution(version)
    searches = store.rows("searches", since)
    feedback = store.rows("feedback", since)
    events = store.rows("events", since)
    escalations = store.rows("escalations", since)
    contacts = store.rows("contact_feedback", since)
    counts: dict[tuple[str, str, str], Counter] = defaultdict(Counter)

    def count(at: str, about: dict, measure: str) -> None:
        week = iso_week(at)
        for dimension in DIMENSIONS:
            values = about.get("products") if dimension == "product" else [about.get(dimension)]
            for value in dict.fromkeys(v for v in values or [] if v):
                counts[(week, dimension, value)][measure] += 1

    searched = {}
    for search in searches:
        about = attribution.search(search)
        searched[search["id"]] = (search, about)
        count(search["at"], about, "searches")
        if search["used"]:
            count(search["at"], about, "used")
    for rating in feedback:
        about = attribution.article(rating["article_id"])
        count(rating["at"], about, "ratings")
        if rating["rating"] == "helped":
            count(rating["at"], about, "helped")
    for row in escalations:
        count(row["at"], {"category": row["category"], "products": json.loads(row["products"]),
                          "department": row["department"]}, "escalations")
    for row in contacts:
        about = {"category": row["category"], "products": [row["product"]] if row["product"] else [],
                 "department": None}
        count(row["at"], about, row["kind"])

    by_week = [{"week": week, "dimension": dimension, "value": value, **{m: measures[m] for m in MEASURES}}
               for (week, dimension, value), measures in sorted(counts.items())]
    current = iso_week(today.isoformat())
    previous = iso_week((today - dt.timedelta(days=7)).isoformat())
    return {
        "period": {"since": timestamp(since) if since else None, "until": timestamp(now()),
                   "searches": len(searches), "escalations": len(escalations), "contact_feedback": len(contacts),
                   "index_version": version.name, "current_week": current, "previous_week": previous},
        "reasons": by_week,
        "trends": trends(counts, previous, current),
        "products": per_product(attribution, searched, events, contacts),
        "comments": [{"at": row["at"], "kind": row["kind"], "product": row["product"], "category": row["category"],
                      "comment": row["comment"]}
                     for row in sorted(contacts, key=lambda r: r["at"], reverse=True) if row["comment"]][:MAX_COMMENTS],
    }


def trends(counts: dict, previous: str, current: str) -> list[dict]:
    """Per category, product and department: searches last week and this week, and which way they moved."""
    topics = {(dimension, value) for (week, dimension, value) in counts if week in (previous, current)}
    rows = []
    for dimension, value in topics:
        before = counts.get((previous, dimension, value), Counter())["searches"]
        after = counts.get((current, dimension, value), Counter())["searches"]
        if not before and not after:
            continue
        change = after - before
        rows.append({"dimension": dimension, "value": value, "previous": before, "current": after, "change": change,
                     "direction": "rising" if change > 0 else "falling" if change < 0 else "steady",
                     "too_few": before + after < MIN_TREND_SEARCHES})
    return sorted(rows, key=lambda r: (r["too_few"], -abs(r["change"]), DIMENSIONS.index(r["dimension"]),
                                       r["value"]))


def per_product(attribution: _Attribution, searched: dict, events: list[dict], contacts: list[dict]) -> list[dict]:
    """Per product: how often it was asked about, the questions asked most, the troubleshooting and complaint
    articles agents used for it, and the customers' complaints, compliments and suggestions."""
    questions: dict[str, Counter] = defaultdict(Counter)
    for search, about in searched.values():
        for product in about["products"]:
            questions[product][" ".join(search["query"].split())] += 1
    used: dict[str, Counter] = defaultdict(Counter)
    for event in events:
        search = searched.get(event["search_id"])
        article = attribution.articles.get(event["article_id"])
        if search is None or article is None or article["category"] not in PRODUCT_ANSWER_CATEGORIES:
            continue
        for product in search[1]["products"]:
            used[product][event["article_id"]] += 1
    kinds: dict[str, Counter] = defaultdict(Counter)
    for row in contacts:
        if row["product"]:
            kinds[row["product"]][row["kind"]] += 1
    rows = []
    for product in sorted(set(questions) | set(used) | set(kinds)):
        asked = _most_first(questions[product])[:QUESTIONS_PER_PRODUCT]
        rows.append({
            "product": product, "searches": sum(questions[product].values()),
            "questions": [{"question": q, "count": n} for q, n in asked],
            "articles_used": [{"article_id": a, "title": attribution.articles[a]["title"],
                               "category": attribution.articles[a]["category"], "count": n}
                              for a, n in _most_first(used[product])],
            **{kind: kinds[product][kind] for kind in CONTACT_KINDS},
        })
    return sorted(rows, key=lambda r: (-r["searches"], r["product"]))


def _most_first(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def reasons_csv(report: dict, section: str) -> str:
    """One section of the reasons report (REASON_SECTIONS) as CSV."""
    if section not in REASON_SECTIONS:
        raise ValueError(section)
    return rows_as_csv(_flat_rows(report, section))


def _flat_rows(report: dict, section: str) -> list[dict]:
    if section == "products":
        return [{**{k: v for k, v in row.items() if k not in ("questions", "articles_used")},
                 "questions": " | ".join(f"{q['question']} ({q['count']})" for q in row["questions"]),
                 "articles_used": " | ".join(f"{a['article_id']} ({a['count']})" for a in row["articles_used"])}
                for row in report["products"]]
    return report[section]


def reasons_text(report: dict) -> str:
    """The reasons report for a terminal."""
    period = report["period"]
    lines = [f"{period['searches']:,} searches, {period['escalations']:,} escalations and "
             f"{period['contact_feedback']:,} customer feedback notes since {period['since'] or 'the start of the log'}"
             f" (index {period['index_version']})", "",
             f"Topics this week ({period['current_week']}) against last week ({period['previous_week']}):"]
    for row in report["trends"]:
        flag = "  (too few to tell)" if row["too_few"] else ""
        lines.append(f"  {row['dimension']:<10} {row['value']:<24} {row['previous']:>4} -> {row['current']:>4}  "
                     f"{row['direction']}{flag}")
    if not report["trends"]:
        lines.append("  none")
    lines += ["", "Per week (searches, used, ratings, helped, escalations, complaints, compliments, suggestions):"]
    for row in report["reasons"]:
        lines.append(f"  {row['week']}  {row['dimension']:<10} {row['value']:<24} "
                     + " ".join(f"{row[m]:>4}" for m in MEASURES))
    if not report["reasons"]:
        lines.append("  none")
    lines += ["", "Per product:"]
    for row in report["products"]:
        lines.append(f"  {row['product']}: {row['searches']} searches, {row['complaint']} complaints, "
                     f"{row['compliment']} compliments, {row['suggestion']} suggestions")
        for question in row["questions"]:
            lines.append(f"    asked {question['count']:>3}x  {question['question']}")
        for article in row["articles_used"]:
            lines.append(f"    used  {article['count']:>3}x  {article['article_id']}")
    if not report["products"]:
        lines.append("  none")
    lines += ["", "Customers' comments:"]
    for row in report["comments"]:
        lines.append(f"  {row['at'][:10]}  {row['kind']:<10} {row['product'] or '-':<10} {row['comment']}")
    if not report["comments"]:
        lines.append("  none")
    return "\n".join(lines)
