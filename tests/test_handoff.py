"""Hand-off notes: masking on a table of inputs, the note's shape, and POST /api/handoff with its errors."""

from __future__ import annotations

import pytest

from indexer.handoff.note import masked_for, write_note
from indexer.routing.routes import Routes
from webapp import create_app

from .conftest import SAMPLE_KB

ROUTES = Routes.load(SAMPLE_KB)
DEFAULT_KEEPS = ROUTES.departments["Reklamasjon"].keeps
BUSINESS_KEEPS = ROUTES.departments["Bedrift"].keeps

# What the customer wrote, and what a note keeps of it for a department that needs order and service
# numbers (every department) or organisation numbers too (Bedrift).
MASKING = [
    ("Ordre FH-1234567 kom aldri", DEFAULT_KEEPS, "Ordre FH-1234567 kom aldri"),
    ("servicenummer SR-318204, ring meg på 912 34 567", DEFAULT_KEEPS, "servicenummer SR-318204, ring meg på [phone]"),
    ("kari.nordmann@example.no skriver om fh-2045581", DEFAULT_KEEPS, "[e-mail] skriver om fh-2045581"),
    ("fødselsnummer 01017012345 og ordre FH-7654321", DEFAULT_KEEPS, "fødselsnummer [national-id] og ordre FH-7654321"),
    ("kortet 4111 1111 1111 1111 ble trukket", DEFAULT_KEEPS, "kortet [card] ble trukket"),
    ("kontonummer 1234.56.78903 for refusjon", DEFAULT_KEEPS, "kontonummer [account] for refusjon"),
    ("Mvh Kari Nordmann, +47 415 55 555", DEFAULT_KEEPS, "Mvh [name], [phone]"),
    ("Storgata 12, 0155 Oslo, ordre FH-1111111", DEFAULT_KEEPS, "[address], ordre FH-1111111"),
    ("org.nr 912 345 678 vil ha faktura", DEFAULT_KEEPS, "org.nr [org-number] vil ha faktura"),
    ("org.nr 912 345 678 vil ha faktura", BUSINESS_KEEPS, "org.nr 912 345 678 vil ha faktura"),
    ("invoice for company 123456789 sent to anna@firma.no", BUSINESS_KEEPS,
     "invoice for company [number] sent to [e-mail]"),
    ("AU55-Q4 viser E-101 etter oppdatering", DEFAULT_KEEPS, "AU55-Q4 viser E-101 etter oppdatering"),
    ("gammel ordre 12345678 og ny FH-2222222", DEFAULT_KEEPS, "gammel ordre [phone] og ny FH-2222222"),
]


@pytest.mark.parametrize(("text", "keeps", "expected"), MASKING)
def test_the_note_masks_what_the_department_does_not_need(text, keeps, expected):
    assert masked_for(text, keeps) == expected


def test_a_note_in_the_departments_language_with_values_articles_and_the_agents_words():
    department = ROUTES.departments["Reklamasjon"]
    route = {"department": "Reklamasjon", "urgent": True, "speed": "Samme dag",
             "reason": {"kind": "urgent", "criterion": "Klage sendt til Forbrukerrådet eller Forbrukertilsynet",
                        "matched": "Forbrukerrådet", "id": "consumer-authority"}}
    note = write_note("Kunden (kari@example.no) har klaget til Forbrukerrådet om FH-1234567, Aura 55", route,
                      department, [{"article_id": "reklamasjon/reklamasjon-forbrukerkjop",
                                    "title": "Reklamasjon etter forbrukerkjøpsloven", "section": "Frister"}],
                      ["AU55-Q4"], "Kunden vil ha svar i dag, tlf 98765432")
    assert note.subject == ("Eskalering til Reklamasjon: Kunden ([e-mail]) har klaget til Forbrukerrådet om "
                            "FH-1234567, Aura 55")
    assert note.text == "\n".join([
        "Til: Reklamasjon (CRM-kø Reklamasjon, e-post reklamasjon@fjordhjem.example)",
        "HASTER: Klage sendt til Forbrukerrådet eller Forbrukertilsynet",
        "Hvor raskt: Samme dag",
        "",
        "Hva kunden vil:",
        "Kunden ([e-mail]) har klaget til Forbrukerrådet om FH-1234567, Aura 55",
        "",
        "Hva kunden har fått svar om:",
        "- Reklamasjon etter forbrukerkjøpsloven › Frister (reklamasjon/reklamasjon-forbrukerkjop)",
        "",
        "Verdier fra saken:",
        "- Ordrenummer: FH-1234567",
        "- Produkt: AU55-Q4",
        "",
        "Hvorfor saken eskaleres:",
        "Klage sendt til Forbrukerrådet eller Forbrukertilsynet (Forbrukerrådet)",
        "",
        "Agentens merknad:",
        "Kunden vil ha svar i dag, tlf [phone]",
    ])
    assert note.values == {"order_number": ["FH-1234567"], "product": ["AU55-Q4"]}
    assert note.masked is True and note.lang == "nb"


@pytest.fixture
def logged_app(sample_index, store_target):
    """The app over a new log in each store (SQLite, then PostgreSQL)."""
    app = create_app(sample_index.with_overrides(feedback_db=store_target),
                     {"TESTING": True, "HANDOFFS_PER_MINUTE": 5, "CONTACT_FEEDBACK_PER_MINUTE": 5})
    yield app
    app.extensions["kb.feedback"].close()


def test_handoff_follows_the_route_and_logs_only_the_department(logged_app):
    client = logged_app.test_client()
    search = client.get("/api/search", query_string={"q": "the refund has not arrived three weeks after the return",
                                                     "lang": "en"}).get_json()
    response = client.post("/api/handoff", json={
        "question": "the refund has not arrived three weeks after the return, order FH-2045581, call 41555555",
        "search_id": search["search_id"], "note": "Customer e-mailed from ola@example.com"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["department"] == "Økonomi" and body["route"]["reason"]["kind"] == "question"
    assert body["values"] == {"order_number": ["FH-2045581"]}
    assert "41555555" not in body["text"] and "ola@example.com" not in body["text"]
    assert "[phone]" in body["text"] and "[e-mail]" in body["text"]
    assert len(body["articles"]) == 3
    rows = logged_app.extensions["kb.feedback"].rows("escalations")
    assert [(row["department"], row["search_id"], row["urgent"]) for row in rows] == [
        ("Økonomi", search["search_id"], None)]
    # Nothing of the note is stored: the row has no text column, and the search counts as used.
    assert set(rows[0]) == {"id", "at", "search_id", "department", "urgent", "article_id", "category", "products"}
    assert logged_app.extensions["kb.feedback"].rows("searches")[0]["used"] == 1


def test_handoff_to_a_chosen_department_for_named_articles(logged_app):
    body = logged_app.test_client().post("/api/handoff", json={
        "question": "kunden truer med å gå til media om TV-en", "department": "vakthavende  teamleder",
        "articles": ["produkter/aura-55-tv-feilsoking"]}).get_json()
    assert body["department"] == "Vakthavende teamleder"
    assert body["route"]["urgent"] is True and body["route"]["reason"]["id"] == "threat"
    assert body["articles"] == ["produkter/aura-55-tv-feilsoking"]
    assert body["text"].startswith("Til: Vakthavende teamleder (telefon 815 40 499)\nHASTER: Kunden truer deg")
    row = logged_app.extensions["kb.feedback"].rows("escalations")[0]
    assert (row["urgent"], row["category"], row["products"]) == ("threat", "produkter", '["AU55-Q4"]')


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"question": "x", "department": "Lager"}, 404,
     "no department 'Lager' in the escalation routes; known: Kundeservice, Reklamasjon, Økonomi, Logistikk, "
     "Teknisk support, Personvern, Bedrift, E-handel, Vakthavende teamleder"),
    ({"question": "x", "articles": ["retur/finnes-ikke"]}, 404, "no article 'retur/finnes-ikke' in the index"),
    ({"question": "x", "articles": "retur/angrerett"}, 400, "articles must be a list of article ids"),
    ({"question": "x", "articles": ["retur/angrerett"] * 6}, 400, "name at most 5 articles"),
    ({"question": "x", "note": "y" * 2001}, 413, "the note is 2,001 characters long; the limit is 2,000"),
    ({"question": "x" * 4001}, 413, "the question is 4,001 characters long; the limit is 4,000"),
    ({"question": ""}, 400, "question must be the customer's question or pasted message, as text"),
    ({"question": ["x"]}, 400, "question must be the customer's question or pasted message, as text"),
    ({"question": "x", "department": 7}, 400, "department must be text"),
    ({"question": "x", "note": 7}, 400, "note must be text"),
    ({"question": "x", "search_id": "nope"}, 404, "no logged search 'nope'"),
])
def test_bad_handoffs_are_4xx_envelopes(logged_app, body, status, error):
    response = logged_app.test_client().post("/api/handoff", json=body)
    assert (response.status_code, response.get_json()) == (status, {"ok": False, "error": error, "status": status})
    assert logged_app.extensions["kb.feedback"].rows("escalations") == []


def test_handoff_without_a_json_object_and_a_flood(logged_app):
    client = logged_app.test_client()
    response = client.post("/api/handoff", data="question=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"] == ("send a JSON object: {question or message, department, articles, note, "
                                            "search_id}")
    statuses = [client.post("/api/handoff", json={"question": "pakken er borte", "department": "Logistikk",
                                                  "articles": []}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_contact_feedback_is_stored_masked(logged_app):
    client = logged_app.test_client()
    response = client.post("/api/contact-feedback", json={
        "kind": "complaint", "product": "au55-q4", "category": "produkter",
        "comment": "Skjermen døde etter en uke. Ring 912 34 567 eller kari@example.no, fnr 01017012345"})
    assert response.status_code == 201 and response.get_json()["ok"] is True
    rows = logged_app.extensions["kb.feedback"].rows("contact_feedback")
    assert [(r["kind"], r["product"], r["category"], r["comment"]) for r in rows] == [
        ("complaint", "AU55-Q4", "produkter",
         "Skjermen døde etter en uke. Ring [phone] eller [e-mail], fnr [national-id]")]


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"kind": "rant"}, 400, "kind must be one of complaint, compliment, suggestion"),
    ({"kind": "compliment", "product": "XJ-9"}, 400, "unknown product 'XJ-9'; use one the index has"),
    ({"kind": "compliment", "category": "hagemøbler"}, 400, "unknown category 'hagemøbler'; use one the index has"),
    ({"kind": "suggestion", "comment": 5}, 400, "comment must be text"),
    ({"kind": "suggestion", "comment": "x" * 1001}, 413, "the comment is 1,001 characters long; the limit is 1,000"),
    ({"kind": "suggestion", "search_id": "nope"}, 404, "no logged search 'nope'"),
])
def test_bad_contact_feedback_is_a_4xx_envelope(logged_app, body, status, error):
    response = logged_app.test_client().post("/api/contact-feedback", json=body)
    assert (response.status_code, response.get_json()) == (status, {"ok": False, "error": error, "status": status})
    assert logged_app.extensions["kb.feedback"].rows("contact_feedback") == []


def test_a_flood_of_contact_feedback_is_refused(logged_app):
    client = logged_app.test_client()
    statuses = [client.post("/api/contact-feedback", json={"kind": "compliment"}).status_code for _ in range(6)]
    assert statuses == [201] * 5 + [429]
    assert len(logged_app.extensions["kb.feedback"].rows("contact_feedback")) == 5


def test_contact_feedback_needs_the_log(sample_index):
    client = create_app(sample_index.with_overrides(feedback=False), {"TESTING": True}).test_client()
    response = client.post("/api/contact-feedback", json={"kind": "compliment"})
    assert response.status_code == 503
    # A hand-off still works without the log: the note is the agent's, nothing is recorded.
    assert client.post("/api/handoff", json={"question": "pakken er borte"}).status_code == 200


def test_handoff_of_a_pasted_message_leaves_greeting_signature_and_quotes_out(logged_app):
    # "TV-en" alone names no product: "tv" is in 15 % of the sample KB's passages (see assist.subjects).
    message = ("Hei!\n\nJeg sendte klage til Forbrukerrådet i går om ordre 2045581, Aura-TV-en er fortsatt død.\n\n"
               "Med vennlig hilsen\nKari Nordmann\nTlf 912 34 567\n\n> Fra: Fjordhjem Kundeservice\n"
               "> Vi har avslått reklamasjonen.\n")
    body = logged_app.test_client().post("/api/handoff", json={"message": message}).get_json()
    assert body["department"] == "Reklamasjon" and body["route"]["reason"]["id"] == "consumer-authority"
    wants = body["text"].split("Hva kunden vil:\n", 1)[1].split("\n\n", 1)[0]
    assert wants == "Jeg sendte klage til Forbrukerrådet i går om ordre 2045581, Aura-TV-en er fortsatt død."
    assert body["values"] == {"order_number": ["FH-2045581"], "product": ["AU55-Q4"]}
    assert "Kari" not in body["text"] and "912 34 567" not in body["text"] and "avslått" not in body["text"]


def test_a_pasted_message_may_be_longer_than_a_question(logged_app):
    client = logged_app.test_client()
    long_message = "Pakken er borte. " + "Jeg venter fortsatt. " * 300
    assert client.post("/api/handoff", json={"message": long_message}).status_code == 200
    response = client.post("/api/handoff", json={"message": "x" * 12_001})
    assert response.status_code == 413
    assert response.get_json()["error"] == "the question is 12,001 characters long; the limit is 12,000"
