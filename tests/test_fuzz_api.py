"""Every /api/ route, found in the app's URL map, fuzzed with Hypothesis: never a 5xx, always the envelope.

Each request starts from a valid one, built from the route's OpenAPI description (the live index version, a
logged search, a real passage and article, the first value of each enum), and then has a few fields replaced
by values chosen to hurt, removed, or joined by unknown ones; so the fuzzer reaches the code behind the first
check. A route without a description (added later, say) gets fields of its own invention. Examples are
bounded and derandomized: a run is repeatable and its length known (FUZZ_EXAMPLES per route and method).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.config import Settings
from webapp import create_app
from webapp.openapi import openapi_document

from .conftest import EDITOR_TOKEN

FUZZ_EXAMPLES = 25
IGNORED_METHODS = {"HEAD", "OPTIONS"}

# Values chosen to hurt: numbers past 64 bits, lone surrogates, NULs, zero-width and right-to-left text,
# digits that are not ASCII, markup, paths out, long text and deep nesting; and wrong types.
NASTY = [None, True, [], {}, 0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 1.5, float("inf"),
         "", " ", "\x00", "\u200b\u200c", "\ud800", "a\udfffb", "\u202eevil", "٣", "1_0", "²", "9" * 5000,
         "<script>alert(1)</script>", "../../etc/passwd", "xx", "x" * 13000, "[" * 100, [[[[[[]]]]]],
         {"\ud800": "x"}, ["\ud800"], "=HYPERLINK(\"http://x\")"]
# The values each described field of a JSON body is swept with, one field at a time.
SWEEP = [None, True, {}, 2**63, -(2**63) - 1, 10**30, "\ud800", "\x00", "9" * 5000]
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40))
JSON_VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                          max_leaves=8)
HURTFUL = st.one_of(st.sampled_from(NASTY), JSON_VALUE)
URL_TEXT = st.one_of(st.sampled_from(["", "0", "-1", "٣", "1_0", "xx", "9" * 30, "\x00", "\u200b", "a" * 5000]),
                     st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))


def api_routes() -> list[tuple[str, str]]:
    """(rule, method) for every /api/ route of an app; nothing is loaded to list them."""
    app = create_app(Settings(index_dir=Path("/nonexistent")), {"TESTING": True})
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
                  for method in rule.methods - IGNORED_METHODS)


ROUTES = api_routes()


@pytest.fixture(scope="module")
def fuzz_app(sample_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    return create_app(sample_index.with_overrides(feedback_db=str(folder / "f.sqlite"), editor_token=EDITOR_TOKEN),
                      {"TESTING": True, "FEEDBACK_PER_MINUTE": 10**9, "EVENTS_PER_MINUTE": 10**9,
                       "LOGINS_PER_MINUTE": 10**9})


@pytest.fixture(scope="module")
def known(fuzz_app) -> dict:
    """Values the app accepts: the live version, a logged search, one of its passages and articles."""
    searched = fuzz_app.test_client().get("/api/search", query_string={"q": "angrerett"}).get_json()
    best = searched["results"][0]
    return {"index_version": searched["index_version"], "search_id": searched["search_id"],
            "passage_id": best["passage_id"], "article_id": best["article_id"], "article": best["article_id"],
            "q": "hvor lenge er angreretten", "question": "hvor lenge er angreretten",
            "text": "Hei, jeg vil angre kjøpet av vaskemaskinen. Mvh Kari", "rating": "helped", "kind": "copy",
            "lang": "nb", "channel": "chat", "after": searched["search_id"]}


def described_fields(rule: str, method: str) -> tuple[dict, dict]:
    """The query parameters and JSON body properties the OpenAPI description gives a route, with schemas."""
    operation = openapi_document()["paths"].get(rule, {}).get(method.lower(), {})
    query = {parameter["name"]: parameter["schema"] for parameter in operation.get("parameters", [])}
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return query, content.get("schema", {}).get("properties", {})


def valid_value(name: str, schema: dict, known: dict):
    """A value the route should accept for one field."""
    if name in known:
        return known[name]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(kind, "angrerett")


@st.composite
def mutated(draw, base: dict, values, names):
    """`base` with a few fields replaced by `values`, a few removed, and a few unknown ones added."""
    fields = dict(base)
    for name in draw(st.lists(st.sampled_from(sorted(base)), max_size=3, unique=True)) if base else []:
        if draw(st.booleans()):
            fields[name] = draw(values)
        else:
            fields.pop(name)
    fields.update(draw(st.dictionaries(names, values, max_size=2)))
    return fields


@st.composite
def requests(draw, query_fields: dict, body_fields: dict, known: dict):
    """A query string (and for routes with a body, a JSON object, other JSON, a form or raw bytes)."""
    query_base = {name: str(valid_value(name, schema, known)) for name, schema in query_fields.items()
                  if name in known or "enum" in schema or "default" in schema or name == "q"}
    query = draw(mutated(query_base, URL_TEXT, URL_TEXT))
    kind = draw(st.sampled_from(["object", "object", "object", "json", "form", "raw"]))
    if kind == "object":
        base = {name: valid_value(name, schema, known) for name, schema in body_fields.items()
                if name in known or "enum" in schema or "default" in schema}
        return query, json.dumps(draw(mutated(base, HURTFUL, st.text(max_size=12)))).encode(), "application/json"
    if kind == "json":
        return query, json.dumps(draw(HURTFUL)).encode(), "application/json"
    if kind == "form":
        return query, None, draw(st.dictionaries(URL_TEXT, URL_TEXT, max_size=4))
    content_type = draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                         "multipart/form-data; boundary=x"]))
    return query, draw(st.binary(max_size=300)), content_type


def fill_path(rule: str, segment: str) -> str:
    """The rule with each `<converter:name>` replaced by a fuzzed segment."""
    return re.sub(r"<[^>]+>", lambda _: quote(segment or "x", safe=""), rule)


def test_the_fuzzer_sees_every_api_route():
    assert {"/api/search", "/api/reply", "/api/feedback", "/api/event", "/api/health"} <= {r for r, _ in ROUTES}


@pytest.mark.parametrize(("rule", "method"), ROUTES)
def test_never_a_5xx_always_the_envelope(fuzz_app, known, rule, method):
    client = fuzz_app.test_client()
    query_fields, body_fields = described_fields(rule, method)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(request=requests(query_fields, body_fields, known), segment=URL_TEXT)
    def check(request, segment):
        query, body, content_type = request
        options = {"query_string": query}
        if isinstance(content_type, dict):
            options["data"] = content_type
        elif body is not None:
            options.update(data=body, content_type=content_type)
        response = client.open(fill_path(rule, segment), method=method, **options)
        assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
        if rule == "/api/openapi.json" and response.status_code == 200:
            return  # the description itself, read by tools as it is
        payload = json.loads(response.get_data())
        assert isinstance(payload, dict) and isinstance(payload["ok"], bool)
        if not payload["ok"]:
            assert isinstance(payload["error"], str) and payload["error"]
            assert payload["status"] == response.status_code

    check()


BODY_ROUTES = [(rule, method) for rule, method in ROUTES if described_fields(rule, method)[1]]


@pytest.mark.parametrize(("rule", "method"), BODY_ROUTES)
def test_each_field_swept_with_the_worst_values(fuzz_app, known, rule, method):
    """Hypothesis rarely puts one particular value in one particular field of an otherwise valid body;
    this does it for every field and every value in SWEEP."""
    client = fuzz_app.test_client()
    _, body_fields = described_fields(rule, method)
    base = {name: valid_value(name, schema, known) for name, schema in body_fields.items()}
    for name in body_fields:
        for value in SWEEP:
            body = json.dumps({**base, name: value})
            response = client.open(rule, method=method, data=body, content_type="application/json")
            assert response.status_code < 500, (name, repr(value)[:40], response.get_data(as_text=True)[:300])
            payload = json.loads(response.get_data())
            assert isinstance(payload["ok"], bool)
            assert payload["ok"] or payload["status"] == response.status_code
