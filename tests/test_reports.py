"""The editors' report: gaps grouped by meaning, per-article records, staleness, formats, the page; every
test that reads a log runs on both stores (an SQLite file and a real PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from indexer.config import DEFAULT_MODEL
from indexer.querylog import now
from indexer.reports.editors import as_csv, as_text, build_report, cluster_questions, gap_rules, is_gap
from indexer.store import IndexRoot
from indexer.text.language import detect_language
from webapp import create_app

# Paraphrases agents type for questions the sample KB does not answer, by topic.
PARAPHRASES = {
    "tyres": ["selger dere vinterdekk", "har dere vinterdekk til elbil", "kan jeg kjøpe vinterdekk hos dere",
              "vinterdekk til bilen min?", "do you sell winter tyres"],
    "trailer": ["kan kunden leie tilhenger", "leier dere ut tilhenger på lørdag", "utleie av tilhenger"],
    "pizza": ["can I order pizza delivered", "do you deliver pizza", "pizza delivery to my door", "leverer dere pizza"],
    "shares": ["can I buy shares in the company", "how do I invest in your company stock",
               "are your shares listed on the stock exchange"],
    "bikes": ["reparerer dere sykler", "kan jeg få fikset sykkelen min hos dere", "sykkelreparasjon"],
}


def test_paraphrases_are_grouped_by_topic_and_topics_never_mixed(sample_index, embedder):
    version = IndexRoot(sample_index.index_dir).open_current()
    questions = [q for qs in PARAPHRASES.values() for q in qs]
    topic_of = {q: topic for topic, qs in PARAPHRASES.items() for q in qs}
    langs = [detect_language(q) for q in questions]
    groups = [[questions[i] for i in group] for group in cluster_questions(questions, embedder,
                                                                           version.lexical.idf, langs)]
    assert all(len({topic_of[q] for q in group}) == 1 for group in groups), groups
    whole = {topic_of[group[0]] for group in groups if len(group) == len(PARAPHRASES[topic_of[group[0]]])}
    # Bicycle repair shares no word stem ("sykler", "sykkelen", "sykkelreparasjon"): the model alone relates
    # those. "leverer dere pizza" joins the English pizza questions; "do you sell winter tyres" stays apart
    # from the bokmål tyre questions (bench/gap_clusters.py).
    assert whole >= {"trailer", "pizza", "shares", "bikes"}
    tyres = [group for group in groups if "selger dere vinterdekk" in group][0]
    assert set(PARAPHRASES["tyres"]) - set(tyres) <= {"do you sell winter tyres"}


def test_gap_rules_per_language():
    assert is_gap({"lang": "en", "keywords": 0.9, "meaning": 0.80})
    assert not is_gap({"lang": "en", "keywords": 0.1, "meaning": 0.90})
    assert is_gap({"lang": "nb", "keywords": 0.1, "meaning": 0.85})
    assert not is_gap({"lang": "nb", "keywords": 0.8, "meaning": None})
    assert is_gap({"lang": "en", "keywords": 0.1, "meaning": None})  # the model did not run: keywords decide
    # Bokmål: a close passage is not enough when the keyword search and the model found different things.
    limit = gap_rules(DEFAULT_MODEL)["nb"].agreement
    assert is_gap({"lang": "nb", "keywords": 0.8, "meaning": 0.90, "agreement": limit - 0.01})
    assert not is_gap({"lang": "nb", "keywords": 0.8, "meaning": 0.90, "agreement": limit + 0.01})
    logged = {"lang": "nb", "keywords": 0.8, "meaning": 0.90, "mode": "hybrid",
              "results": json.dumps([{"passage_id": 1, "article_id": "a", "score": limit - 0.01}])}
    assert is_gap(logged) and not is_gap({**logged, "mode": "lexical"})
    minilm = gap_rules("all-MiniLM-L6-v2")
    assert is_gap({"lang": "en", "keywords": 0.9, "meaning": 0.2}, minilm)
    assert is_gap({"lang": "nb", "keywords": 0.1, "meaning": 0.9}, minilm)


@pytest.fixture
def logged(sample_index, embedder, feedback_store):
    """A feedback log filled through the real search, as agents would."""
    from indexer.retrieval.search import Searcher

    store = feedback_store
    searcher = Searcher(sample_index, embedder)
    yesterday = now() - dt.timedelta(days=1)
    ids = {}
    for question in ["hvor lenge er angreretten", "har dere vinterdekk til elbil", "vinterdekk til elbilen",
                     "can I order pizza delivered", "do you deliver pizza", "kunden vil kansellere bestillingen"]:
        response = searcher.search(question, k=3)
        ids[question] = store.log_search(query=question, lang=response.lang, mode="hybrid", filters={},
                                         index_version=response.version, results=response.results,
                                         signals=response.signals, at=yesterday)
    angrerett = searcher.search("hvor lenge er angreretten", k=1).results[0]
    store.add_feedback(search_id=ids["hvor lenge er angreretten"], index_version=searcher.version.name,
                       passage_id=angrerett["passage_id"], article_id=angrerett["article_id"], rating="outdated",
                       comment=None)
    store.add_event(search_id=ids["hvor lenge er angreretten"], kind="copy", article_id="retur/angrerett")
    cancel = searcher.search("kunden vil kansellere bestillingen", k=1).results[0]
    store.add_feedback(search_id=ids["kunden vil kansellere bestillingen"], index_version=searcher.version.name,
                       passage_id=cancel["passage_id"], article_id=cancel["article_id"], rating="wrong",
                       comment="svaret gjaldt ikke delbetaling")
    return store


def test_report_from_a_real_log(logged, sample_index, embedder):
    version = IndexRoot(sample_index.index_dir).open_current()
    report = build_report(logged, version, embedder, today=dt.date(2027, 4, 25))
    assert report["period"]["searches"] == 6 and report["period"]["used"] == 1 and report["period"]["feedback"] == 2
    gaps = {tuple(sorted(gap["examples"])): gap for gap in report["gaps"]}
    assert gaps[("har dere vinterdekk til elbil", "vinterdekk til elbilen")]["count"] == 2
    assert gaps[("can I order pizza delivered", "do you deliver pizza")]["count"] == 2
    assert gaps[("kunden vil kansellere bestillingen",)]["marked_wrong"] == 1
    assert [gap["count"] for gap in report["gaps"]] == sorted((gap["count"] for gap in report["gaps"]), reverse=True)
    records = {record["article_id"]: record for record in report["articles"]}
    assert records["retur/angrerett"]["outdated"] == 1 and records["retur/angrerett"]["used"] == 1
    assert records["retur/angrerett"]["shown"] >= 1 and records["retur/angrerett"]["owner"] == "Kundeservice"
    assert report["articles"][0]["wrong"] + report["articles"][0]["outdated"] == 1
    assert {item["article_id"] for item in report["stale"]} >= {"retur/angrerett"}  # review_by 2027-05-01
    assert "intern/eskaleringsruter" in {item["article_id"] for item in report["never_shown"]}
    yesterday = (now() - dt.timedelta(days=1)).date().isoformat()
    assert report["days"] == [{"day": yesterday, "searches": 6, "used": 1, "used_share": 0.167}]
    assert {row["category"] for row in report["categories"]} == {"retur", "ordre"}

    text = as_text(report)
    assert "6 searches since the start of the log, 1 with an answer used, 2 ratings" in text
    assert "     2  " in text and "retur/angrerett" in text
    rows = list(csv.DictReader(io.StringIO(as_csv(report, "articles"))))
    assert {"article_id", "owner", "shown", "used", "helped", "wrong", "outdated"} <= set(rows[0])
    assert len(rows) == len(version.articles())
    gap_rows = list(csv.DictReader(io.StringIO(as_csv(report, "gaps"))))
    assert gap_rows[0]["count"] == "2"
    json.dumps(report)  # the JSON format is the dict as it is


def test_report_over_an_empty_log_says_so(sample_index, embedder, feedback_store):
    version = IndexRoot(sample_index.index_dir).open_current()
    report = build_report(feedback_store, version, embedder)
    assert report["gaps"] == [] and report["days"] == [] and report["categories"] == []
    assert len(report["never_shown"]) == len(version.articles())
    assert "The log is empty for this period" in as_text(report)
    assert as_csv(report, "gaps") == ""


@pytest.mark.parametrize("output", ["text", "csv", "json"])
def test_kb_report_formats(logged, store_target, sample_index, output, runner):

    from indexer.cli import main

    result = runner.invoke(main, ["report", "--index", str(sample_index.index_dir), "--feedback-db",
                                       store_target, "--format", output, "--section", "gaps"])
    assert result.exit_code == 0, result.output
    if output == "json":
        assert json.loads(result.output)["period"]["searches"] == 6
    elif output == "csv":
        assert result.output.startswith("count,examples,marked_wrong,no_good_result,languages,last_seen\n")
    else:
        assert result.output.startswith("6 searches since the start of the log")


@pytest.fixture
def editor_app(logged, store_target, sample_index):
    app = create_app(sample_index.with_overrides(feedback_db=store_target, editor_token="redaktør-nøkkel-123"),
                     {"TESTING": True})
    yield app
    app.extensions["kb.feedback"].close()


def test_reports_need_the_editor_token(editor_app, sample_index):
    client = editor_app.test_client()
    assert client.get("/reports").status_code == 401
    assert client.get("/reports.csv").status_code == 401
    assert client.post("/reports/login", data={"token": "gjetning"}).status_code == 401
    assert client.get("/reports.json", headers={"Authorization": "Bearer gjetning"}).status_code == 401
    assert client.get("/reports.json", headers={"Authorization": "Bearer redaktør-nøkkel-123"}).status_code == 200
    signed = client.post("/reports/login", data={"token": "redaktør-nøkkel-123"})
    assert signed.status_code == 302
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "redaktør" not in cookie
    page = client.get("/reports?days=7")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The editors' three charts and the contact reasons' searches per week (this log has no escalations).
    assert html.count("<svg") == 4 and "vinterdekk til elbilen" in html
    assert client.get("/reports.csv?section=stale").headers["Content-Type"].startswith("text/csv")
    assert client.get("/reports?days=0").status_code == 400
    off = create_app(sample_index, {"TESTING": True})  # no editor token
    response = off.test_client().get("/reports")
    assert response.status_code == 403 and "KB_EDITOR_TOKEN" in response.get_data(as_text=True)


def test_csv_cells_never_run_as_formulas():
    report = {"gaps": [{"count": 1, "examples": ["=HYPERLINK(\"http://x\")", "ordinær"], "marked_wrong": 0,
                        "no_good_result": 1, "languages": ["nb"], "last_seen": "2026-11-27T10:00:00Z"}]}
    row = next(csv.DictReader(io.StringIO(as_csv(report, "gaps"))))
    assert row["examples"] == "'=HYPERLINK(\"http://x\") | ordinær"


def test_sign_in_expires_and_guessing_is_limited(editor_app):
    import time

    from webapp.reports import COOKIE, _cookie_value

    client = editor_app.test_client()
    client.set_cookie(COOKIE, _cookie_value("redaktør-nøkkel-123", int(time.time()) - 1, "s" * 16))
    assert client.get("/reports.json").status_code == 401
    client.set_cookie(COOKIE, _cookie_value("redaktør-nøkkel-123", int(time.time()) + 60, "s" * 16))
    assert client.get("/reports.json").status_code == 200
    guesser = editor_app.test_client()
    guesses = [guesser.post("/reports/login", data={"token": f"gjetning-{n}"}).status_code if n % 2 else
               guesser.get("/reports.json", headers={"Authorization": f"Bearer gjetning-{n}"}).status_code
               for n in range(12)]
    assert guesses == [401] * 10 + [429] * 2
    right = guesser.get("/reports.json", headers={"Authorization": "Bearer redaktør-nøkkel-123"})
    assert right.status_code == 429
    assert "too many sign-in attempts from this client; try again in a minute" in right.get_data(as_text=True)
