"""The query log and feedback: the store itself, and the API and page that write to it, on both stores
(`feedback_store` and `store_target` run each test on an SQLite file and on a real PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from indexer.errors import QueryError
from indexer.querylog import now, open_store
from indexer.querylog.migrations import MIGRATIONS
from webapp import create_app

RESULTS = [{"passage_id": 7, "article_id": "retur/angrerett", "score": 1.0}]


def log(store, query, **extra):
    return store.log_search(query=query, lang="nb", mode="hybrid", filters={}, index_version="v1",
                            results=RESULTS, signals={"keywords": 0.5, "meaning": None}, **extra)


def test_schema_is_migrated_once_and_recorded(store_target):
    first = open_store(store_target)
    assert first.rows("searches") == [] and first.schema_version() == len(MIGRATIONS)
    log(first, "kept across opens")
    first.close()
    again = open_store(store_target)
    assert [row["query"] for row in again.rows("searches")] == ["kept across opens"]
    assert again.schema_version() == len(MIGRATIONS)
    again.close()


def test_both_stores_have_the_same_tables_and_columns(tmp_path, postgres):
    import psycopg

    lite = open_store(tmp_path / "f.sqlite")
    lite.rows("searches")
    with sqlite3.connect(lite.path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        in_sqlite = {table: [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
                     for table in tables}
    url = postgres.new_database()
    pg = open_store(url)
    pg.rows("searches")
    pg.close()
    with psycopg.connect(url) as connection:
        found = connection.execute("SELECT table_name, column_name FROM information_schema.columns"
                                   " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position").fetchall()
    in_postgres = {}
    for table, column in found:
        in_postgres.setdefault(table, []).append(column)
    assert in_postgres.pop("schema_version") == ["version"]
    assert in_postgres == in_sqlite
    assert set(in_sqlite) == {"searches", "feedback", "events", "escalations", "contact_feedback", "assists",
                              "rate_hits", "store_keys"}


def test_what_is_stored_is_masked(feedback_store):
    store = feedback_store
    search_id = log(store, "kari@example.no med ordre FH-1234567 vil angre, tlf 412 34 567")
    store.add_feedback(search_id=search_id, index_version="v1", passage_id=7, article_id="retur/angrerett",
                       rating="wrong", comment="kunden 01019012345 sier fristen er feil")
    assert store.rows("searches")[0]["query"] == "[e-mail] med ordre [number] vil angre, tlf [phone]"
    assert store.rows("feedback")[0]["comment"] == "kunden [national-id] sier fristen er feil"


def test_nothing_personal_reaches_the_sqlite_file(tmp_path):
    store = open_store(tmp_path / "f.sqlite")
    store.add_feedback(search_id=log(store, "kari@example.no, tlf 412 34 567"), index_version="v1", passage_id=7,
                       article_id="retur/angrerett", rating="wrong", comment="kunden 01019012345")
    raw = (tmp_path / "f.sqlite").read_bytes() + (tmp_path / "f.sqlite-wal").read_bytes()
    assert b"[e-mail]" in raw
    assert b"kari@example.no" not in raw and b"01019012345" not in raw and b"412 34 567" not in raw


def test_nothing_personal_reaches_the_postgres_files(postgres):
    import psycopg

    url = postgres.new_database()
    store = open_store(url)
    store.add_feedback(search_id=log(store, "kari@example.no, tlf 412 34 567"), index_version="v1", passage_id=7,
                       article_id="retur/angrerett", rating="wrong", comment="kunden 01019012345")
    store.close()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
    raw = b"".join(path.read_bytes() for path in postgres.data.rglob("*") if path.is_file())
    assert b"[e-mail]" in raw and b"[national-id]" in raw
    assert b"kari@example.no" not in raw and b"01019012345" not in raw and b"412 34 567" not in raw


def test_typing_refines_one_search_instead_of_logging_each_keystroke(feedback_store):
    store = feedback_store
    first = log(store, "hvor lenge")
    assert log(store, "hvor lenge er angrer", after=first) == first
    assert log(store, "hvor lenge er angreretten", after=first) == first
    other = log(store, "faktura purregebyr", after=first)
    assert other != first
    late = log(store, "faktura purregebyr 35 kr", after=other, at=now() + dt.timedelta(seconds=120))
    assert late != other
    # Rows of one second come in no particular order.
    assert sorted(row["query"] for row in store.rows("searches")) == [
        "faktura purregebyr", "faktura purregebyr 35 kr", "hvor lenge er angreretten"]


def test_used_searches_and_bad_values(feedback_store):
    store = feedback_store
    search_id = log(store, "angrerett")
    store.add_event(search_id=search_id, kind="copy", article_id="retur/angrerett", channel="chat")
    assert store.rows("searches")[0]["used"] == 1
    assert log(store, "angrerett og retur", after=search_id) != search_id  # a used search is never rewritten
    with pytest.raises(QueryError, match="rating must be one of helped, wrong, outdated"):
        store.add_feedback(search_id=None, index_version="v1", passage_id=1, article_id="a", rating="meh",
                           comment=None)
    with pytest.raises(QueryError, match="event must be one of copy, open"):
        store.add_event(search_id=None, kind="print", article_id="a")


def test_retention_purge_deletes_only_what_is_older(feedback_store):
    store = feedback_store
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


def test_purge_through_the_cli(store_target, feedback_store, sample_index, kb_env):
    from click.testing import CliRunner

    from indexer.cli import main

    db = store_target
    store = feedback_store
    log(store, "gammelt spørsmål", at=now() - dt.timedelta(days=40))
    log(store, "nytt spørsmål")
    result = CliRunner(env={**kb_env, "KB_RETENTION_DAYS": "30"}).invoke(
        main, ["report", "--index", str(sample_index.index_dir), "--feedback-db", str(db), "--purge",
               "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [row["query"] for row in store.rows("searches")] == ["nytt spørsmål"]


# The API and the page, on an app of their own so the shared test app's log stays clean.

@pytest.fixture
def feedback_app(sample_index, store_target):
    app = create_app(sample_index.with_overrides(feedback_db=store_target), {"TESTING": True, "FEEDBACK_PER_MINUTE": 5})
    yield app
    app.extensions["kb.feedback"].close()


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
    # Rows of one second come in no particular order.
    assert sorted(stored, key=sorted) == [{"lang": "nb", "category": "[e-mail] [phone]"}, {"product": "[number]"}]


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
    app = create_app(sample_index.with_overrides(feedback=False, feedback_db=str(tmp_path / "f.sqlite")),
                     {"TESTING": True})
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


# Limits every worker shares, and a log that is down or misnamed.

def test_workers_sharing_one_log_share_its_limits(sample_index, store_target):
    workers = [create_app(sample_index.with_overrides(feedback_db=store_target),
                          {"TESTING": True, "FEEDBACK_PER_MINUTE": 5}) for _ in range(2)]
    clients = [worker.test_client() for worker in workers]
    body = searched(clients[0])
    rating = {"search_id": body["search_id"], "index_version": body["index_version"],
              "passage_id": body["results"][0]["passage_id"], "rating": "helped"}
    statuses = [clients[n % 2].post("/api/feedback", json=rating).status_code for n in range(8)]
    assert statuses == [201] * 5 + [429] * 3
    other_client = clients[1].post("/api/feedback", json=rating, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_client.status_code == 201
    assert len(workers[0].extensions["kb.feedback"].rows("feedback")) == 6
    for worker in workers:
        worker.extensions["kb.feedback"].close()


def test_searches_go_on_and_ratings_wait_while_postgres_is_stopped(sample_index, postgres):
    import time

    from indexer.querylog.postgres import RETRY_AFTER_SECONDS, describe

    url = postgres.new_database()
    app = create_app(sample_index.with_overrides(feedback_db=url), {"TESTING": True})
    api = app.test_client()
    body = searched(api)
    rating = {"search_id": body["search_id"], "index_version": body["index_version"],
              "passage_id": body["results"][0]["passage_id"], "rating": "wrong"}
    assert api.post("/api/feedback", json=rating).status_code == 201
    postgres.stop()
    try:
        down = api.get("/api/search", query_string={"q": "faktura purregebyr", "k": 3})
        assert down.status_code == 200
        assert down.get_json()["results"][0]["article_id"] and down.get_json()["search_id"] is None
        refused = api.post("/api/feedback", json={**rating, "search_id": None})
        assert refused.status_code == 503
        assert refused.get_json()["error"].startswith(f"the query log at {describe(url)} is unreachable")
        assert api.get("/api/health").status_code == 200
    finally:
        postgres.start()
    time.sleep(RETRY_AFTER_SECONDS)
    assert api.post("/api/feedback", json=rating).status_code == 201
    store = app.extensions["kb.feedback"]
    assert [row["rating"] for row in store.rows("feedback")] == ["wrong", "wrong"]
    store.close()


def test_a_postgres_url_is_never_taken_for_a_file(sample_index, tmp_path, monkeypatch, runner):

    from indexer.cli import main
    from indexer.querylog.postgres import PostgresFeedbackStore

    from .services import free_port

    monkeypatch.chdir(tmp_path)
    port = free_port()
    nowhere = f"postgresql://kb:hemmelig@127.0.0.1:{port}/kb"
    assert isinstance(open_store(nowhere), PostgresFeedbackStore)
    result = runner.invoke(main, ["report", "--index", str(sample_index.index_dir), "--feedback-db", nowhere])
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(f"Error: the query log at postgresql://kb@127.0.0.1:{port}/kb is unreachable: ")
    assert "hemmelig" not in result.output
    result = runner.invoke(main, ["report", "--index", str(sample_index.index_dir), "--feedback-db",
                                       "postgresql://kb@db host/kb"])
    assert result.exit_code == 1
    assert result.output == ("Error: KB_FEEDBACK_DB is not a valid PostgreSQL URL (postgresql://…): unexpected spaces"
                             ' found in "db host", use percent-encoded spaces (%20) instead\n')
    assert list(tmp_path.iterdir()) == []


def test_a_log_that_is_not_there_never_fails_a_search(sample_index):
    from .services import free_port

    app = create_app(sample_index.with_overrides(feedback_db=f"postgresql://kb@127.0.0.1:{free_port()}/kb"),
                     {"TESTING": True})
    api = app.test_client()
    for question in ("hvor lenge er angreretten", "faktura purregebyr"):
        response = api.get("/api/search", query_string={"q": question})
        assert response.status_code == 200 and response.get_json()["search_id"] is None
    html = api.get("/?q=angrerett").get_data(as_text=True)
    assert 'data-passage-id="' in html
    event = api.post("/api/event", json={"kind": "copy", "article_id": "retur/angrerett"})
    assert event.status_code == 503 and event.get_json()["error"].startswith("the query log at postgresql://kb@127.0.0.1:")
    app.extensions["kb.feedback"].close()
