"""The API's contract, route by route from the app's URL map: one success envelope and one error envelope.

Every /api/ route answers a valid request with `ok: true` and only the fields its OpenAPI description
names, and a bad one with exactly `{ok: false, error, status}` (plus `missing` for an incomplete reply),
`status` being the HTTP status. A route added to the app without a valid request below fails the first test.
"""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.openapi import openapi_document

from .conftest import EDITOR_TOKEN

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# The description itself is a plain OpenAPI document, which tools read as it is.
PLAIN_DOCUMENTS = {"/api/openapi.json"}
ERROR_FIELDS = {"ok", "error", "status"}
# IncompleteReply (422) also names the placeholders left without a value.
OPTIONAL_ERROR_FIELDS = {"missing"}


def api_routes(app) -> list[tuple[str, str]]:
    """(rule, method) for every /api/ route of the app."""
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
                  for method in rule.methods - IGNORED_METHODS)


def valid_requests(known: dict) -> dict[tuple[str, str], dict]:
    """A request each route accepts, as test-client keyword arguments."""
    return {
        ("/api/search", "GET"): {"query_string": {"q": "hvor lenge er angreretten"}},
        ("/api/search", "POST"): {"json": {"q": "hvor lenge er angreretten", "k": 2}},
        ("/api/reply", "POST"): {"json": {"article": "ordre/kansellere-bestilling", "channel": "chat",
                                          "values": {"ordrenummer": "FH-1234567"}}},
        ("/api/assist", "POST"): {"json": {"text": "Hei, hvor lenge er angrefristen? Mvh Kari"}},
        ("/api/feedback", "POST"): {"json": {"search_id": known["search_id"], "index_version": known["version"],
                                             "passage_id": known["passage_id"], "rating": "helped"}},
        ("/api/event", "POST"): {"json": {"search_id": known["search_id"], "kind": "copy",
                                          "article_id": known["article_id"], "channel": "chat"}},
        ("/api/handoff", "POST"): {"json": {"question": "Varen kom i stykker, kunden vil reklamere",
                                            "department": "Reklamasjon"}},
        ("/api/contact-feedback", "POST"): {"json": {"kind": "complaint", "comment": "Leveringen tok tre uker"}},
        ("/api/health", "GET"): {},
        ("/api/openapi.json", "GET"): {},
    }


def bad_request(rule: str, method: str) -> dict:
    """A request each route refuses: a JSON body that is not an object, an empty question, a wrong method."""
    if rule == "/api/search" and method == "GET":
        return {"query_string": {"q": ""}}
    if method == "POST":
        return {"data": "[]", "content_type": "application/json"}
    return {"method": "DELETE"}


@pytest.fixture(scope="module")
def contract_app(sample_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    return create_app(sample_index.with_overrides(feedback_db=str(folder / "f.sqlite"), editor_token=EDITOR_TOKEN),
                      {"TESTING": True})


@pytest.fixture(scope="module")
def known(contract_app) -> dict:
    """A logged search of the live version, one of its passages and articles."""
    searched = contract_app.test_client().get("/api/search", query_string={"q": "angrerett"}).get_json()
    best = searched["results"][0]
    return {"search_id": searched["search_id"], "version": searched["index_version"],
            "passage_id": best["passage_id"], "article_id": best["article_id"]}


def call(client, rule: str, method: str, request: dict):
    request = dict(request)
    return client.open(rule, method=request.pop("method", method), **request)


def documented_fields(rule: str, method: str, status: int) -> set[str]:
    """The fields the OpenAPI description gives the route's success response."""
    operation = openapi_document()["paths"][rule][method.lower()]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return set(schema["properties"])


def test_every_api_route_has_a_valid_request(contract_app, known):
    assert set(valid_requests(known)) == set(api_routes(contract_app))


def test_every_api_route_answers_success_in_the_envelope(contract_app, known):
    client = contract_app.test_client()
    shapes = {}
    for (rule, method), request in valid_requests(known).items():
        response = call(client, rule, method, request)
        body = response.get_json()
        if rule in PLAIN_DOCUMENTS:
            shapes[rule, method] = (response.status_code, body["openapi"][:2])
            continue
        undocumented = set(body) - documented_fields(rule, method, response.status_code)
        shapes[rule, method] = (response.status_code, body["ok"], sorted(undocumented))
    expected = {route: (200, True, []) for route in valid_requests(known)}
    expected.update({("/api/feedback", "POST"): (201, True, []), ("/api/event", "POST"): (201, True, []),
                     ("/api/contact-feedback", "POST"): (201, True, []), ("/api/openapi.json", "GET"): (200, "3.")})
    assert shapes == expected


def test_every_api_route_answers_errors_in_the_envelope(contract_app, sample_index, known):
    """A bad request to each route, and each route on a server whose index was never built."""
    unbuilt = create_app(sample_index.with_overrides(index_dir=sample_index.index_dir.parent / "never-built",
                                                     feedback=False),
                         {"TESTING": True})
    requests = valid_requests(known)
    cases = [(contract_app, route, bad_request(*route)) for route in requests]
    cases += [(unbuilt, route, request) for route, request in requests.items()]
    wrong = {}
    for app, (rule, method), request in cases:
        response = call(app.test_client(), rule, method, request)
        if response.status_code < 400:
            continue
        body = response.get_json()
        fields_ok = ERROR_FIELDS <= set(body) <= ERROR_FIELDS | OPTIONAL_ERROR_FIELDS
        if not (fields_ok and body["ok"] is False and body["status"] == response.status_code
                and isinstance(body["error"], str) and body["error"]):
            wrong[rule, method, response.status_code] = body
    assert wrong == {}


def test_bad_requests_are_refused(contract_app, known):
    """The error test above sees an error from every route: none accepts its bad request."""
    client = contract_app.test_client()
    statuses = {(rule, method): call(client, rule, method, bad_request(rule, method)).status_code
                for rule, method in valid_requests(known)}
    assert {route: status for route, status in statuses.items() if status < 400} == {}
