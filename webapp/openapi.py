"""The OpenAPI 3.1 description of /api, served at /api/openapi.json and checked against the real routes."""

from __future__ import annotations

from indexer import __version__
from indexer.assist.request import MAX_MESSAGE_CHARS, MAX_RESULTS_PER_NEED, MAX_TURNS, ROLES
from indexer.config import DEFAULT_RESULTS, MAX_QUERY_CHARS, MAX_RESULTS, RESULTS_PER_NEED
from indexer.handoff.escalation import MAX_HANDOFF_ARTICLES
from indexer.handoff.note import MAX_ADDED_CHARS
from indexer.querylog import CONTACT_KINDS, EVENTS, MAX_COMMENT_CHARS, RATINGS
from indexer.replies.templates import MAX_VALUE_CHARS
from indexer.vocabulary import AUDIENCES, CHANNELS, LANGUAGES, MODES


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


TEXT = {"type": "string"}
OBJECT = {"type": "object"}

SEARCH_PARAMETERS = [
    _query("q", "The customer's question.", {"type": "string", "maxLength": MAX_QUERY_CHARS}, required=True),
    _query("k", "How many articles to return.", {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS,
                                                 "default": DEFAULT_RESULTS}),
    _query("mode", "Retrieval mode.", {"type": "string", "enum": list(MODES), "default": MODES[0]}),
    _query("lang", "Only articles in this language.", TEXT),
    _query("category", "Only articles in this category.", TEXT),
    _query("product", "Only articles about this product code.", TEXT),
    _query("audience", "Only customer-facing or only internal articles.",
           {"type": "string", "enum": list(AUDIENCES)}),
    _query("channel", "Channels to suggest replies in (repeat or comma-separate); all by default.", TEXT),
    _query("replies", "0 leaves reply suggestions out.", {"type": "string", "enum": ["0", "1"]}),
    _query("route", "0 leaves the escalation routes out.", {"type": "string", "enum": ["0", "1"]}),
    _query("after", "The previous search of the same typing session, which this one replaces in the log.", TEXT),
]

REPLY = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["template", "extract"]},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "lang": TEXT,
        "text": TEXT,
        "placeholders": {"type": "array", "items": {"type": "object", "properties": {
            "name": TEXT, "fallback": {"type": ["string", "null"]}}}},
        "source": OBJECT,
    },
}

ROUTE = {
    "type": ["object", "null"],
    "description": "The department that takes the case over if level 1 cannot solve it; for agents only.",
    "properties": {
        "department": TEXT, "label": TEXT, "level": {"type": ["integer", "null"]}, "urgent": {"type": "boolean"},
        "reason": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": ["urgent", "question", "owner", "category", "product", "tag",
                                                "level1", "agent"]},
            "criterion": {"type": ["string", "null"]}, "matched": TEXT, "id": TEXT}},
        "contact": {"type": "object", "properties": {"crm_queue": TEXT, "email": TEXT, "phone": TEXT}},
        "speed": {"type": ["string", "null"]},
        "also": {"type": "array", "items": OBJECT},
    },
}

RESULT = {
    "type": "object",
    "properties": {
        "rank": {"type": "integer"}, "passage_id": {"type": "integer"}, "score": {"type": "number"},
        "article_id": TEXT, "title": TEXT, "section": TEXT, "anchor": TEXT, "lang": TEXT, "text": TEXT,
        "metadata": OBJECT, "scores": OBJECT, "more": {"type": "array", "items": OBJECT},
        "replies": {"type": "array", "items": REPLY}, "route": ROUTE,
    },
}


NEED = {
    "type": "object",
    "description": "One question or request of the message, as the customer wrote it, searched on its own.",
    "properties": {
        "text": TEXT, "lang": TEXT, "query": {"type": "string", "description": "What was searched: the need "
                                                       "without personal data, with the subject named before"},
        "subject": {"type": ["string", "null"]}, "search_id": {"type": ["string", "null"]},
        "route": ROUTE, "urgent": {"type": "array", "items": ROUTE},
        "results": {"type": "array", "items": RESULT},
    },
}

ASSIST_REQUEST = {
    "type": "object",
    "description": "Either `text` (a pasted message) or `turns` (a conversation), with the filters of /api/search.",
    "properties": {
        "text": {"type": "string", "maxLength": MAX_MESSAGE_CHARS},
        "turns": {"type": "array", "maxItems": MAX_TURNS, "items": {"type": "object", "required": ["role", "text"],
                  "properties": {"role": {"type": "string", "enum": list(ROLES)}, "text": TEXT}}},
        "channel": {"type": "string", "enum": list(CHANNELS),
                    "description": "email for a text, phone for turns, unless named"},
        "lang": {"type": "string", "enum": list(LANGUAGES)},
        "k": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS_PER_NEED, "default": RESULTS_PER_NEED},
        "category": TEXT, "product": TEXT, "audience": {"type": "string", "enum": list(AUDIENCES)},
    },
}

ASSIST_RESPONSE = {"type": "object", "properties": {
    "ok": {"const": True}, "assist_id": {"type": ["string", "null"]}, "lang": TEXT, "channel": TEXT,
    "index_version": TEXT, "needs": {"type": "array", "items": NEED},
    "values": {"type": "object", "properties": {
        "order_number": TEXT, "service_number": TEXT, "customer_name": TEXT,
        "products": {"type": "array", "items": TEXT}}},
    "reply": {"type": "object", "properties": {
        "text": {"type": "string", "description": "Ready to send: values filled, no placeholder left"},
        "template": {"type": "string", "description": "The same reply with its placeholders, for the fields"},
        "lang": TEXT, "channel": TEXT,
        "placeholders": {"type": "array", "items": {"type": "object", "properties": {
            "name": TEXT, "fallback": {"type": ["string", "null"]}, "value": {"type": ["string", "null"]}}}},
        "sources": {"type": "array", "items": OBJECT}}},
    "set_aside": OBJECT,
}}

SEARCH_RESPONSES = {
    "200": _ok("Results", {"type": "object", "properties": {
        "ok": {"const": True}, "query": TEXT, "lang": {"type": ["string", "null"]},
        "filters": OBJECT, "index_version": TEXT, "signals": OBJECT,
        "search_id": {"type": ["string", "null"]},
        "urgent": {"type": "array", "items": ROUTE},
        "results": {"type": "array", "items": RESULT}}}),
    "400": _error("The question or a parameter is out of bounds, or a parameter is unknown"),
    "503": _error("No index has been built yet, or it cannot be opened"),
}
SEARCH_BODY = {"type": "object", "required": ["q"], "additionalProperties": False,
               "properties": {parameter["name"]: parameter["schema"] for parameter in SEARCH_PARAMETERS}}


def openapi_document() -> dict:
    """The whole description, built from the same constants the routes check against."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "kb-assistant API", "version": __version__,
                 "description": "Search the knowledge base, fill reply templates, rate results. Every "
                                "response is a JSON object with `ok`; errors add `error` and `status`."},
        "paths": {
            "/api/search": {
                "get": {"summary": "Ranked passages for a question, with reply suggestions",
                        "parameters": SEARCH_PARAMETERS, "responses": SEARCH_RESPONSES},
                "post": {"summary": "The same search with its parameters in a JSON object or form, for questions "
                                    "longer than a URL holds",
                         "requestBody": {"required": True, "content": {
                             "application/json": {"schema": SEARCH_BODY},
                             "application/x-www-form-urlencoded": {"schema": SEARCH_BODY}}},
                         "responses": SEARCH_RESPONSES},
            },
            "/api/reply": {"post": {
                "summary": "Fill one article's reply template for a channel",
                "requestBody": _body({"type": "object", "required": ["article"], "properties": {
                    "article": TEXT, "channel": {"type": "string", "enum": list(CHANNELS), "default": "chat"},
                    "lang": TEXT, "values": {"type": "object", "additionalProperties": {
                        "type": "string", "maxLength": MAX_VALUE_CHARS}}}}),
                "responses": {
                    "200": _ok("The filled reply", {"type": "object", "properties": {
                        "ok": {"const": True}, "article_id": TEXT, "channel": TEXT, "lang": TEXT, "text": TEXT,
                        "source": OBJECT}}),
                    "400": _error("A malformed request"),
                    "403": _error("The article is internal"),
                    "404": _error("No such article, or no template for the channel"),
                    "422": _error("Placeholders without value or fallback (listed in `missing`)"),
                },
            }},
            "/api/feedback": {"post": {
                "summary": "Rate one passage of a search",
                "requestBody": _body({"type": "object", "required": ["index_version", "passage_id", "rating"],
                                      "properties": {
                                          "search_id": TEXT, "index_version": TEXT,
                                          "passage_id": {"type": "integer", "minimum": 0},
                                          "rating": {"type": "string", "enum": list(RATINGS)},
                                          "comment": {"type": "string", "maxLength": MAX_COMMENT_CHARS}}}),
                "responses": {
                    "201": _ok("Recorded", {"type": "object", "properties": {
                        "ok": {"const": True}, "id": {"type": "integer"}, "article_id": TEXT}}),
                    "400": _error("A malformed request"),
                    "404": _error("Unknown index version, passage or search"),
                    "413": _error("The comment is too long"),
                    "429": _error("Too many ratings from this client"),
                    "503": _error("Feedback is switched off"),
                },
            }},
            "/api/event": {"post": {
                "summary": "Record that an agent copied a reply or opened an article",
                "requestBody": _body({"type": "object", "required": ["kind", "article_id"], "properties": {
                    "search_id": TEXT, "kind": {"type": "string", "enum": list(EVENTS)}, "article_id": TEXT,
                    "channel": {"type": "string", "enum": list(CHANNELS)}}}),
                "responses": {
                    "201": _ok("Recorded", {"type": "object", "properties": {"ok": {"const": True}}}),
                    "400": _error("A malformed request"),
                    "404": _error("Unknown article or search"),
                    "429": _error("Too many events from this client"),
                    "503": _error("Feedback is switched off"),
                },
            }},
            "/api/handoff": {"post": {
                "summary": "A hand-off note for the department that takes the case over (not stored)",
                "requestBody": _body({"type": "object", "properties": {
                    "question": {"type": "string", "maxLength": MAX_QUERY_CHARS,
                                 "description": "The customer's question (this or message)."},
                    "message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS,
                                "description": "A pasted message; greeting, signature and quoted mail are left out."},
                    "department": {"type": "string", "description": "Default: the route of the first article."},
                    "articles": {"type": "array", "items": TEXT, "maxItems": MAX_HANDOFF_ARTICLES,
                                 "description": "What was answered; default: the question's best results."},
                    "note": {"type": "string", "maxLength": MAX_ADDED_CHARS, "description": "What the agent adds."},
                    "search_id": TEXT}}),
                "responses": {
                    "200": _ok("The note", {"type": "object", "properties": {
                        "ok": {"const": True}, "department": TEXT, "lang": TEXT, "subject": TEXT, "text": TEXT,
                        "values": OBJECT, "masked": {"type": "boolean"}, "route": ROUTE,
                        "articles": {"type": "array", "items": TEXT}}}),
                    "400": _error("A malformed request, or no route and no department named"),
                    "404": _error("Unknown department, article or search"),
                    "413": _error("The question or the note is too long"),
                    "429": _error("Too many hand-offs from this client"),
                    "503": _error("No index has been built yet"),
                },
            }},
            "/api/contact-feedback": {"post": {
                "summary": "Note the customer's complaint, compliment or suggestion about a product or service",
                "requestBody": _body({"type": "object", "required": ["kind"], "properties": {
                    "kind": {"type": "string", "enum": list(CONTACT_KINDS)}, "product": TEXT, "category": TEXT,
                    "comment": {"type": "string", "maxLength": MAX_COMMENT_CHARS}, "search_id": TEXT}}),
                "responses": {
                    "201": _ok("Recorded", {"type": "object", "properties": {
                        "ok": {"const": True}, "id": {"type": "integer"}}}),
                    "400": _error("A malformed request, or a product or category the index does not have"),
                    "404": _error("Unknown search"),
                    "413": _error("The comment is too long"),
                    "429": _error("Too much feedback from this client"),
                    "503": _error("Feedback is switched off"),
                },
            }},
            "/api/assist": {"post": {
                "summary": "Every need of a pasted message or conversation, answered, and one reply for them all",
                "requestBody": _body(ASSIST_REQUEST),
                "responses": {
                    "200": _ok("The needs, the values and the reply", ASSIST_RESPONSE),
                    "400": _error("A malformed request: no text or turns, an unknown role or channel"),
                    "413": _error("The message or conversation is over the limit"),
                    "422": _error("Nothing to answer once greetings, signatures and quoted mail are set aside"),
                    "503": _error("No index has been built yet"),
                },
            }},
            "/api/health": {"get": {
                "summary": "The live index version, its counts and facets",
                "responses": {"200": _ok("Health", {"type": "object", "properties": {
                    "ok": {"const": True}, "index": OBJECT, "facets": OBJECT,
                    "refused": {"type": ["object", "null"], "description": "A newer published version that "
                                "could not be opened (`version`, `error`); the server keeps serving `index`"}}}),
                    "503": _error("No index has been built yet, or it cannot be opened (the error says which part)")},
            }},
            "/api/openapi.json": {"get": {
                "summary": "This description",
                "responses": {"200": _ok("OpenAPI 3.1", OBJECT)},
            }},
        },
        "components": {"schemas": {"Error": {"type": "object", "required": ["ok", "error", "status"], "properties": {
            "ok": {"const": False}, "error": TEXT, "status": {"type": "integer"},
            "missing": {"type": "array", "items": TEXT}}}}},
    }
