"""The query log and feedback: the store itself, and the API and page that write to it."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from indexer.errors import QueryError
from indexer.feedback import MIGRATIONS, SQLiteFeedbackStore, now
from webapp import create_app

RESULTS = [{"passage_id": 7, "article_id": "retur/angrerett", "score": 1.0}]


def log(store, query, **extra):
    return store.log_search(query=query, lang="nb", mode="hybrid", filters={}, index_version="v1",
                            results=RESULTS, signals={"keywords": 0.5, "meaning": None}, **extra)


def test_schema_is_migrated_once_and_recorded(tmp_path):
    path = tmp_path / "feedback.sqlite"
    SQLiteFeedbackStore(path).rows("searches")
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"searches", "feedback", "events"} <= tables
    log(SQLiteFeedbackStore(path), "kept across opens")
    again = SQLiteFeedbackStore(path)
    assert [row["query"] for row in again.rows("searches")] == ["kept across opens"]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_what_is_stored_is_masked(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "f.sqlite")
    search_id = log(store, "kari@example.no med ordre FH-1234567 vil angre, tlf 412 34 567")
    store.add_feedback(search_id=search_id, index_version="v1", passage_id=7, article_id="retur/angrerett",
                       rating="wrong", comment="kunden 01019012345 sier fristen er feil")
    assert store.rows("searches")[0]["query"] == "[e-mail] med ordre [number] vil angre, tlf [phone]"
    assert store.rows("feedback")[0]["comment"] == "kunden [national-id] sier fristen er feil"
    raw = (tmp_path / "f.sqlite").read_bytes() + (tmp_path / "f.sqlite-wal").read_bytes()
    assert b"kari@example.no" not in raw and b"01019012345" not in raw and b"412 34 567" not in raw


def test_typing_refines_one_search_instead_of_logging_each_keystroke(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "f.sqlite")
    first = log(store, "hvor lenge")
    assert log(store, "hvor lenge er angrer", after=first) == first
    assert log(store, "hvor lenge er angreretten", after=first) == first
    other = log(store, "faktura purregebyr", after=first)
    assert other != first
    late = log(store, "faktura purregebyr 35 kr", after=other, at=now() + dt.timedelta(seconds=120))
    assert late != other
    assert [row["query"] for row in store.rows("searches")] == [
        "hvor lenge er angreretten", "faktura purregebyr", "faktura purregebyr 35 kr"]


def test_used_searches_and_bad_values(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "f.sqlite")
    search_id = log(store, "angrerett")
    store.add_event(search_id=search_id, kind="copy", article_id="retur/angrerett", channel="chat")
    assert store.rows("searches")[0]["used"] == 1
    assert log(store, "angrerett og retur", after=search_id) != search_id  # a used search is never rewritten
    with pytest.raises(QueryError, match="rating must be one of helped, wrong, outdated"):
        store.add_feedback(search_id=None, index_version="v1", passage_id=1, article_id="a", rating="meh",
                           comment=None)
    with pytest.raises(QueryError, match="event must be one of copy, open"):
        store.add_event(search_id=None, kind="print", article_id="a")


def test_retention_purge_deletes_only_what_is_older(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "f.sqlite")
    old = now() - dt.timedelta(days=100)
    old_id = log(store, "gammelt spørsmål", at=old)
    store.add_feedback(search_id=old_id, index_version="v1", passage_id=7, article_id="retur/angrerett",
                       rating="helped", comment=None, at=old)
    store.add_event(search_id=old_id, kind="open", article_id="retur/angrerett", at=old)
    log(store, "nytt spørsmål")
    purged = store.purge(now() - dt.timedelta(days=90))
    assert (purged.searches, purged.feedback, purged.events) == (1, 1, 1)
    assert [row["query"] for row in store.rows("searches")] == ["nytt spørsmål"]
    assert store.rows("feedback") == [] and store.rows("events") == []


def test_purge_through_the_cli(tmp_path, sample_index):
    from click.testing import CliRunner

    from indexer.cli import main

    db = tmp_path / "f.sqlite"
    store = SQLiteFeedbackStore(db)
    log(store, "gammelt spørsmål", at=now() - dt.timedelta(days=40))
    log(store, "nytt spørsmål")
    result = CliRunner(env={"KB_RETENTION_DAYS": "30"}).invoke(
        main, ["report", "--index", str(sample_index.index_dir), "--feedback-db", str(db), "--purge",
               "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [row["query"] for row in store.rows("searches")] == ["nytt spørsmål"]


# The API and the page, on an app of their own so the shared test app's log stays clean.

@pytest.fixture
def feedback_app(sample_index, tmp_path):
    return create_app({"INDEX_DIR": str(sample_index.index_dir), "FEEDBACK_DB": str(tmp_path / "f.sqlite"),
                       "TESTING": True, "FEEDBACK_PER_MINUTE": 5})


@pytest.fixture
def api(feedback_app):
    return feedback_app.test_client()


def searched(api, question="hvor lenge er angreretten"):
    body = api.get("/api/search", query_string={"q": question, "k": 3}).get_json()
    assert body["search_id"]
    return body


def test_search_rate_and_use_end_to_end(api, feedback_app):
    body = searched(api)
    best = body["results"][0]
    response = api.post("/api/feedback", json={
        "search_id": body["search_id"], "index_version": body["index_version"], "passage_id": best["passage_id"],
        "rating": "outdated", "comment": "fristen er endret"})
    assert response.status_code == 201
    assert response.get_json()["article_id"] == best["article_id"]
    assert api.post("/api/event", json={"search_id": body["search_id"], "kind": "copy",
                                        "article_id": best["article_id"], "channel": "email"}).status_code == 201
    page = api.get(f"/articles/{best['article_id']}?from={body['search_id']}")
    assert page.status_code == 200
    store = feedback_app.extensions["kb.feedback"]
    (search,) = store.rows("searches")
    assert search["used"] == 1 and search["query"] == "hvor lenge er angreretten"
    assert json.loads(search["results"])[0]["article_id"] == best["article_id"]
    assert [(row["kind"], row["channel"]) for row in store.rows("events")] == [("copy", "email"), ("open", None)]
    assert store.rows("feedback")[0]["rating"] == "outdated"


def test_typed_filters_are_masked_in_the_log(api, feedback_app):
    api.get("/api/search", query_string={"q": "angrerett", "category": "kari@example.no 41234567", "lang": "nb"})
    api.get("/api/search", query_string={"q": "angrerett", "product": "SR-318204"})
    stored = [json.loads(row["filters"]) for row in feedback_app.extensions["kb.feedback"].rows("searches")]
    assert stored == [{"lang": "nb", "category": "[e-mail] [phone]"}, {"product": "[number]"}]


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"index_version": "20200101T000000Z-abcdef", "passage_id": 1, "rating": "wrong"}, 404,
     "no index version '20200101T000000Z-abcdef' (it may have been replaced and removed)"),
    ({"index_version": "../../etc/passwd", "passage_id": 1, "rating": "wrong"}, 404,
     "no index version '../../etc/passwd' (it may have been replaced and removed)"),
    ({"passage_id": 1, "rating": "wrong"}, 404, "no index version 'None' (it may have been replaced and removed)"),
    ({"index_version": "LIVE", "passage_id": 999999, "rating": "wrong"}, 404,
     "no passage 999999 in index version LIVE"),
    ({"index_version": "LIVE", "passage_id": "1", "rating": "wrong"}, 400, "passage_id must be a whole number"),
    ({"index_version": "LIVE", "passage_id": 1, "rating": "great"}, 400,
     "rating must be one of helped, wrong, outdated"),
    ({"index_version": "LIVE", "passage_id": 1, "rating": "wrong", "comment": "x" * 1001}, 413,
     "the comment is 1,001 characters long; the limit is 1,000"),
    ({"index_version": "LIVE", "passage_id": 1, "rating": "wrong", "search_id": "nope"}, 404,
     "no logged search 'nope'"),
])
def test_bad_feedback_gets_a_clear_4xx(api, feedback_app, body, status, error):
    live = feedback_app.extensions["kb.searcher"].version.name
    body = {key: (live if value == "LIVE" else value) for key, value in body.items()}
    response = api.post("/api/feedback", json=body)
    assert response.status_code == status
    assert response.get_json() == {"ok": False, "error": error.replace("LIVE", live), "status": status}
    assert feedback_app.extensions["kb.feedback"].rows("feedback") == []


def test_a_flood_of_feedback_is_refused_and_what_was_accepted_is_kept(api, feedback_app):
    body = searched(api)
    rating = {"search_id": body["search_id"], "index_version": body["index_version"],
              "passage_id": body["results"][0]["passage_id"], "rating": "helped"}
    statuses = [api.post("/api/feedback", json=rating).status_code for _ in range(8)]
    assert statuses == [201] * 5 + [429] * 3
    assert len(feedback_app.extensions["kb.feedback"].rows("feedback")) == 5
    refused = api.post("/api/feedback", json=rating).get_json()
    assert refused == {"ok": False, "status": 429,
                       "error": "too many feedback requests from this client; try again in a minute"}


def test_events_are_checked(api):
    assert api.post("/api/event", json={"kind": "copy", "article_id": "finnes/ikke"}).status_code == 404
    assert api.post("/api/event", json={"kind": "print", "article_id": "retur/angrerett"}).status_code == 400
    assert api.post("/api/event", data="kind=copy").status_code == 400


def test_logging_can_be_switched_off(sample_index, tmp_path):
    app = create_app({"INDEX_DIR": str(sample_index.index_dir), "FEEDBACK": False, "TESTING": True,
                      "FEEDBACK_DB": str(tmp_path / "f.sqlite")})
    client = app.test_client()
    assert client.get("/api/search?q=angrerett").get_json()["search_id"] is None
    response = client.post("/api/feedback", json={"index_version": "x", "passage_id": 1, "rating": "helped"})
    assert response.status_code == 503
    assert not (tmp_path / "f.sqlite").exists()


def test_page_carries_the_ids_ratings_need(api):
    html = api.get("/?q=hvor+lenge+er+angreretten").get_data(as_text=True)
    assert 'data-search-id="' in html and 'data-passage-id="' in html and 'class="rating"' in html
    assert "?from=" in html


def test_openapi_describes_every_api_route(feedback_app, api):
    document = api.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    routes = {
        (rule.rule, method.lower())
        for rule in feedback_app.url_map.iter_rules() if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert described == routes
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"]
            assert {"200", "201"} & set(operation["responses"]), (path, method)


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("get", "/api/search", {"query_string": {"q": ""}}),
    ("post", "/api/reply", {"json": []}),
    ("post", "/api/feedback", {"json": "x"}),
    ("post", "/api/event", {"json": {"kind": "x"}}),
    # The description itself is a plain OpenAPI document, which tools read as it is; its errors are envelopes.
    ("post", "/api/openapi.json", {}),
    ("get", "/api/health", {}),
    ("delete", "/api/search", {}),
])
def test_every_api_route_answers_in_the_envelope(api, method, path, kwargs):
    body = getattr(api, method)(path, **kwargs).get_json()
    assert isinstance(body, dict) and isinstance(body["ok"], bool)
    if not body["ok"]:
        assert set(body) >= {"error", "status"}
