"""The contact reasons report on a generated log with known counts: per week, trends, products, comments,
and the same figures through `kb report --section reasons`, /reports.json, /reports.csv and the page."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from indexer.cli import main
from indexer.reports.reasons import build_reasons
from indexer.store import IndexRoot
from webapp import create_app

from .conftest import EDITOR_TOKEN

TODAY = dt.date(2026, 11, 25)  # Wednesday of ISO week 48
LAST_WEEK = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)
THIS_WEEK = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
AURA = "produkter/aura-55-tv-feilsoking"
AURA_TITLE = "Fjordhjem Aura 55 – feilsøking og feilkoder"
ANGRERETT = "retur/angrerett"


def shown(article_id: str) -> list[dict]:
    return [{"passage_id": 1, "article_id": article_id, "score": 0.9}]


def search(store, version, query: str, article_id: str, at: dt.datetime) -> str:
    return store.log_search(query=query, lang="nb", mode="hybrid", filters={}, index_version=version.name,
                            results=shown(article_id), signals={"keywords": 1.0, "meaning": 0.8}, at=at)


@pytest.fixture
def logged(sample_index, feedback_store):
    """A log with known counts: last week 3 + 1 searches, this week 12 + 2, ratings, an open, escalations and
    the customers' own feedback; in each store."""
    store = feedback_store
    version = IndexRoot(sample_index.index_dir).open_current()
    black = [search(store, version, "skjermen er svart", AURA, LAST_WEEK + dt.timedelta(minutes=i)) for i in range(3)]
    store.add_event(search_id=black[0], kind="open", article_id=AURA, at=LAST_WEEK)
    search(store, version, "hvor lang angrefrist", ANGRERETT, LAST_WEEK)
    sound = [search(store, version, "Aura 55 har ingen lyd", AURA, THIS_WEEK + dt.timedelta(minutes=i))
             for i in range(12)]
    store.add_event(search_id=sound[0], kind="open", article_id=AURA, at=THIS_WEEK)
    store.add_feedback(search_id=sound[1], index_version=version.name, passage_id=1, article_id=AURA,
                       rating="helped", comment=None, at=THIS_WEEK)
    withdrawal = [search(store, version, "angrefrist", ANGRERETT, THIS_WEEK) for _ in range(2)]
    store.add_feedback(search_id=withdrawal[0], index_version=version.name, passage_id=2, article_id=ANGRERETT,
                       rating="wrong", comment=None, at=THIS_WEEK)
    store.add_escalation(search_id=None, department="Teknisk support", urgent=None, article_id=AURA,
                         category="produkter", products=["AU55-Q4"], at=THIS_WEEK)
    store.add_escalation(search_id=None, department="Reklamasjon", urgent="consumer-authority", article_id=None,
                         category="reklamasjon", products=[], at=THIS_WEEK)
    store.add_contact_feedback(search_id=None, kind="complaint", product="AU55-Q4", category="produkter",
                               comment="Lyden forsvant igjen, ring 912 34 567", at=THIS_WEEK)
    store.add_contact_feedback(search_id=None, kind="compliment", product=None, category=None, comment=None,
                               at=THIS_WEEK)
    store.add_contact_feedback(search_id=None, kind="suggestion", product="KM-700", category=None,
                               comment="Ønsker lengre garanti", at=THIS_WEEK + dt.timedelta(days=1))
    return store, version


def row(week, dimension, value, searches=0, used=0, ratings=0, helped=0, escalations=0, complaint=0,
        compliment=0, suggestion=0):
    return {"week": week, "dimension": dimension, "value": value, "searches": searches, "used": used,
            "ratings": ratings, "helped": helped, "escalations": escalations, "complaint": complaint,
            "compliment": compliment, "suggestion": suggestion}


EXPECTED_WEEKS = [
    row("2026-W47", "category", "produkter", searches=3, used=1),
    row("2026-W47", "category", "retur", searches=1),
    row("2026-W47", "department", "Kundeservice", searches=1),
    row("2026-W47", "department", "Teknisk support", searches=3, used=1),
    row("2026-W47", "product", "AU55-Q4", searches=3, used=1),
    row("2026-W48", "category", "produkter", searches=12, used=2, ratings=1, helped=1, escalations=1, complaint=1),
    row("2026-W48", "category", "reklamasjon", escalations=1),
    row("2026-W48", "category", "retur", searches=2, ratings=1),
    row("2026-W48", "department", "Kundeservice", searches=2, ratings=1),
    row("2026-W48", "department", "Reklamasjon", escalations=1),
    row("2026-W48", "department", "Teknisk support", searches=12, used=2, ratings=1, helped=1, escalations=1),
    row("2026-W48", "product", "AU55-Q4", searches=12, used=2, ratings=1, helped=1, escalations=1, complaint=1),
    row("2026-W48", "product", "KM-700", suggestion=1),
]
EXPECTED_TRENDS = [
    {"dimension": "category", "value": "produkter", "previous": 3, "current": 12, "change": 9,
     "direction": "rising", "too_few": False},
    {"dimension": "product", "value": "AU55-Q4", "previous": 3, "current": 12, "change": 9,
     "direction": "rising", "too_few": False},
    {"dimension": "department", "value": "Teknisk support", "previous": 3, "current": 12, "change": 9,
     "direction": "rising", "too_few": False},
    {"dimension": "category", "value": "retur", "previous": 1, "current": 2, "change": 1,
     "direction": "rising", "too_few": True},
    {"dimension": "department", "value": "Kundeservice", "previous": 1, "current": 2, "change": 1,
     "direction": "rising", "too_few": True},
]
EXPECTED_PRODUCTS = [
    {"product": "AU55-Q4", "searches": 15,
     "questions": [{"question": "Aura 55 har ingen lyd", "count": 12}, {"question": "skjermen er svart", "count": 3}],
     "articles_used": [{"article_id": AURA, "title": AURA_TITLE, "category": "produkter", "count": 2}],
     "complaint": 1, "compliment": 0, "suggestion": 0},
    {"product": "KM-700", "searches": 0, "questions": [], "articles_used": [],
     "complaint": 0, "compliment": 0, "suggestion": 1},
]
EXPECTED_COMMENTS = [
    {"at": "2026-11-25T10:00:00Z", "kind": "suggestion", "product": "KM-700", "category": None,
     "comment": "Ønsker lengre garanti"},
    {"at": "2026-11-24T10:00:00Z", "kind": "complaint", "product": "AU55-Q4", "category": "produkter",
     "comment": "Lyden forsvant igjen, ring [phone]"},
]


def test_the_reasons_report_counts_exactly(logged):
    store, version = logged
    report = build_reasons(store, version, today=TODAY)
    assert report["reasons"] == EXPECTED_WEEKS
    assert report["trends"] == EXPECTED_TRENDS
    assert report["products"] == EXPECTED_PRODUCTS
    assert report["comments"] == EXPECTED_COMMENTS
    period = {key: value for key, value in report["period"].items() if key != "until"}
    assert period == {"since": None, "searches": 18, "escalations": 2, "contact_feedback": 3,
                      "index_version": version.name, "current_week": "2026-W48", "previous_week": "2026-W47"}


def test_kb_report_section_reasons_in_csv_and_json(logged, store_target, sample_index, runner):
    store, _ = logged
    args = ["report", "--index", str(sample_index.index_dir), "--feedback-db", store_target, "--section"]
    result = runner.invoke(main, [*args, "reasons", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "week,dimension,value,searches,used,ratings,helped,escalations,complaint,compliment,suggestion"
    assert lines[1:] == [",".join(str(value) for value in expected.values()) for expected in EXPECTED_WEEKS]
    result = runner.invoke(main, [*args, "products", "--format", "csv"])
    assert result.output.splitlines() == [
        "product,searches,complaint,compliment,suggestion,questions,articles_used",
        f"AU55-Q4,15,1,0,0,Aura 55 har ingen lyd (12) | skjermen er svart (3),{AURA} (2)",
        "KM-700,0,0,0,1,,",
    ]
    result = runner.invoke(main, [*args, "reasons", "--format", "json"])
    body = json.loads(result.output)
    assert body["ok"] is True and body["reasons"] == EXPECTED_WEEKS and body["products"] == EXPECTED_PRODUCTS
    text = runner.invoke(main, [*args, "reasons"]).output
    assert "  AU55-Q4: 15 searches, 1 complaints, 0 compliments, 0 suggestions" in text
    assert "    asked  12x  Aura 55 har ingen lyd" in text


def test_reasons_on_the_report_page_json_and_csv(logged, store_target, sample_index):
    store, _ = logged
    client = create_app(sample_index.with_overrides(feedback_db=store_target, editor_token=EDITOR_TOKEN),
                        {"TESTING": True}).test_client()
    auth = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
    assert client.get("/reports.json?days=3650").status_code == 401
    body = client.get("/reports.json?days=3650", headers=auth).get_json()
    assert body["reasons"]["reasons"] == EXPECTED_WEEKS and body["reasons"]["comments"] == EXPECTED_COMMENTS
    csv_text = client.get("/reports.csv?section=comments&days=3650", headers=auth).get_data(as_text=True)
    assert csv_text.splitlines() == [
        "at,kind,product,category,comment",
        "2026-11-25T10:00:00Z,suggestion,KM-700,,Ønsker lengre garanti",
        '2026-11-24T10:00:00Z,complaint,AU55-Q4,produkter,"Lyden forsvant igjen, ring [phone]"']
    assert client.get("/reports.csv?section=nope", headers=auth).status_code == 400
    page = client.get("/reports?days=3650&ui=en", headers=auth).get_data(as_text=True)
    assert '<section id="reasons">' in page and "Contact reasons" in page
    assert "Lyden forsvant igjen, ring [phone]" in page and "912 34 567" not in page
    assert page.count("<svg") >= 4
