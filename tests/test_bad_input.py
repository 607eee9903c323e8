"""Input a careless user or an attacker sends: every answer is a 4xx in the envelope, never a 500."""

from __future__ import annotations

import json

import pytest

from webapp import create_app

from .conftest import EDITOR_TOKEN


@pytest.fixture
def api(sample_index, tmp_path):
    """An app with a query log and the editor token of its own."""
    app = create_app(sample_index.with_overrides(feedback_db=str(tmp_path / "f.sqlite"), editor_token=EDITOR_TOKEN),
                     {"TESTING": True})
    return app.test_client()


SURROGATE = '"\\ud800"'
NESTED = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("path", ["/api/feedback", "/api/event", "/api/reply", "/api/search"])
@pytest.mark.parametrize(("body", "error"), [
    ('{"comment": ' + SURROGATE + ', "kind": ' + SURROGATE + ', "article": ' + SURROGATE + ', "q": '
     + SURROGATE + "}", "the JSON holds text that is not valid Unicode (an unpaired surrogate)"),
    ('{"values": {' + SURROGATE + ': "x"}}', "the JSON holds text that is not valid Unicode (an unpaired surrogate)"),
    (NESTED, "the JSON is nested more than 32 levels deep"),
    ('{"q": ' + "[" * 40 + "]" * 40 + "}", "the JSON is nested more than 32 levels deep"),
])
def test_json_the_app_cannot_hold_is_a_400(api, path, body, error):
    response = api.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"ok": False, "error": error, "status": 400}


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    response = api.post("/api/search", json={"q": "[" * 100 + "angrerett"})
    assert response.status_code == 200
    assert response.get_json()["query"] == "[" * 100 + "angrerett"


@pytest.mark.parametrize("passage_id", [9223372036854775808, 10**30, -1])
def test_passage_ids_out_of_range_are_a_400(api, passage_id):
    response = api.post("/api/feedback", json={"index_version": "x", "passage_id": passage_id, "rating": "wrong"})
    assert response.status_code == 400
    assert response.get_json() == {"ok": False, "error": "passage_id must be a whole number", "status": 400}


@pytest.mark.filterwarnings("ignore:The 'kb_editor' cookie is too large")
@pytest.mark.parametrize("expiry", ["²", "9" * 5000, "٣٣٣٣٣٣٣٣٣٣٣", "", "-1"])
@pytest.mark.parametrize("path", ["/reports", "/reports.json", "/reports.csv"])
def test_forged_editor_cookies_are_refused(api, path, expiry):
    api.set_cookie("kb_editor", f"{expiry}.deadbeef")
    response = api.get(path)
    assert response.status_code == 401


def test_a_refused_report_download_is_an_envelope(api):
    response = api.get("/reports.json")
    assert response.status_code == 401
    assert response.get_json() == {
        "ok": False, "status": 401, "error": "sign in at /reports or send the editor token as a Bearer header"}
    assert api.get("/reports.json", headers={"Authorization": f"Bearer {EDITOR_TOKEN}"}).status_code == 200


@pytest.mark.parametrize(("query", "error"), [
    ({"q": "angrerett", "k": "1_0"}, "k must be a whole number, not '1_0'"),
    ({"q": "angrerett", "k": "٣"}, "k must be a whole number, not '٣'"),
    ({"q": "angrerett", "k": "+3"}, "k must be a whole number, not '+3'"),
    ({"q": "\x00\x00"}, "the question is empty"),
    ({"q": "\u200b\u200c\ufeff \u2060"}, "the question is empty"),
    ({"q": "angrerett", "lang": "xx"}, "lang must be one of en, nb, not 'xx'"),
    ({"q": "angrerett", "categroy": "retur"},
     "unknown parameter 'categroy'; use q, k, mode, lang, category, product, audience, channel, replies, route, "
     "after"),
])
def test_search_parameters_are_checked(api, query, error):
    response = api.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.get_json() == {"ok": False, "error": error, "status": 400}


def test_invisible_characters_are_dropped_from_the_question(api):
    body = api.get("/api/search", query_string={"q": "angre\u200brett\x00"}).get_json()
    assert body["query"] == "angrerett"


def test_days_accept_only_ascii_digits(api):
    headers = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
    assert api.get("/reports.json?days=٣", headers=headers).status_code == 400
    assert api.get("/reports.json?days=3", headers=headers).status_code == 200


LONG_QUESTION = ("Hei, jeg kjøpte en vaskemaskin og vil bruke angreretten fordi den ikke passet på badet. "
                 * 40)[:3499]


def test_a_long_question_is_answered_through_post(api):
    assert len(LONG_QUESTION) == 3499
    response = api.post("/api/search", json={"q": LONG_QUESTION, "k": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == LONG_QUESTION.strip() and body["results"]
    form = api.post("/api/search", data={"q": LONG_QUESTION, "k": "3", "lang": "nb"})
    assert form.status_code == 200 and form.get_json()["filters"] == {"lang": "nb"}
    fragment = api.post("/results", data={"q": LONG_QUESTION, "lang": "", "channel": "chat"})
    assert fragment.status_code == 200
    assert 'class="card' in fragment.get_data(as_text=True)


def test_post_bodies_are_checked_like_query_strings(api):
    response = api.post("/api/search", json={"q": "angrerett", "k": True})
    assert response.status_code == 400
    assert response.get_json()["error"] == "k must be text or a whole number"
    response = api.post("/api/search", json={"q": "angrerett", "k": 2, "channel": ["chat", "email"]})
    assert response.status_code == 200
    assert len(json.loads(response.get_data())["results"]) == 2
