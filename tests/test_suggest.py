"""Reply suggestions through the real index and model: templates, extracts that answer, and the guardrail."""

from __future__ import annotations

import pytest

from indexer.replies.sentences import split_sentences
from indexer.replies.suggest import WRAPPERS
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot


def test_split_sentences_keeps_what_a_customer_may_hear():
    text = (
        "Slik gjør kunden det:\n1. Logg inn på Min side. Velg ordren og klikk Angre kjøp.\n"
        "Hva | Frist\nGi beskjed | 14 dager\n- Se også refusjon.\n"
        "Spør kunden hvilken feilmelding som vises.\nSavnet pakke, etterlysning: Logistikk.\n"
        "Denne artikkelen gjelder alle butikker.\nPengene er tilbake innen 14 dager"
    )
    assert split_sentences(text) == [
        "Logg inn på Min side.", "Velg ordren og klikk Angre kjøp.", "Pengene er tilbake innen 14 dager.",
    ]


def article_text(sample_index, article_id: str) -> str:
    version = IndexRoot(sample_index.index_dir).open_current()
    return "\n".join(row["text"] for row in version.article_passages(article_id))


def extracted_sentences(reply: dict) -> list[str]:
    """The article's sentences inside an extract: phone points, or the text between greeting and closing."""
    if reply["channel"] == "phone":
        return [line[2:] for line in reply["text"].split("\n")]
    before, after = WRAPPERS[(reply["lang"], reply["channel"])].split("{text}")
    body = reply["text"]
    assert body.startswith(before) and body.endswith(after)
    return [body[len(before): len(body) - len(after)]]


@pytest.mark.parametrize(("question", "article_id", "answer"), [
    ("oppvaskmaskinen viser feilkode E24", "produkter/km-700-feilkoder", "E24"),
    ("robotstøvsugeren lader ikke", "produkter/rs-300-robotstovsuger", "lade"),
    ("how do I pair the BT-20 headphones with my phone", "produkter/bt-20-headphones-pairing", "pairing mode"),
    ("hvilke betalingsmåter kan kunden bruke", "betaling/betalingsmater", "Vipps"),
])
def test_extracts_answer_with_the_articles_own_sentences(sample_index, embedder, question, article_id, answer):
    result = Searcher(sample_index, embedder).search(question, k=1, replies=("chat", "email", "phone")).results[0]
    assert result["article_id"] == article_id
    replies = result["replies"]
    assert [(r["kind"], r["channel"]) for r in replies] == [("extract", "chat"), ("extract", "email"),
                                                            ("extract", "phone")]
    assert all(r["source"]["article_id"] == article_id and r["source"]["title"] == result["title"] for r in replies)
    phone = replies[2]["text"]
    assert answer in phone, phone
    source = article_text(sample_index, article_id).replace("\n", " ")
    for reply in replies:
        for sentence in extracted_sentences(reply):
            for part in sentence.rstrip(".").split(". "):
                assert part.rstrip(".") in source, (part, reply["text"])


def test_extract_greets_in_the_articles_language_with_fallbacks(client):
    body = client.get("/api/search", query_string={"q": "how do I pair the BT-20 headphones", "k": 1,
                                                   "channel": "email"}).get_json()
    reply = body["results"][0]["replies"][0]
    assert reply["lang"] == "en" and reply["channel"] == "email"
    assert reply["text"].startswith("Hi {customer_name},\n\n") and reply["text"].endswith("Kind regards\n{agent_name}")
    assert reply["placeholders"] == [
        {"name": "customer_name", "fallback": ""},
        {"name": "agent_name", "fallback": "Fjordhjem Elektro Customer Service"},
    ]


def test_internal_articles_never_get_replies(client):
    body = client.get("/api/search", query_string={"q": "eskalering reklamasjon", "audience": "internal",
                                                   "k": 5}).get_json()
    assert body["results"] and all(r["metadata"]["audience"] == "internal" for r in body["results"])
    assert all(r["replies"] == [] for r in body["results"])


def test_replies_can_be_turned_off_and_channels_are_checked(client):
    quiet = client.get("/api/search", query_string={"q": "angrerett", "replies": "0"}).get_json()
    assert all("replies" not in r for r in quiet["results"])
    wrong = client.get("/api/search", query_string={"q": "angrerett", "channel": "fax"})
    assert wrong.status_code == 400
    assert wrong.get_json() == {"ok": False, "error": "channel must be one of chat, email, phone, social, not 'fax'",
                                "status": 400}


def test_template_replies_come_first_in_every_channel(sample_index, embedder):
    searcher = Searcher(sample_index, embedder)
    result = searcher.search("kunden vil kansellere bestillingen", k=1, replies=("chat", "email", "phone")).results[0]
    assert result["article_id"] == "ordre/kansellere-bestilling"
    assert [(r["kind"], r["channel"], r["lang"]) for r in result["replies"]] == [
        ("template", "chat", "nb"), ("template", "email", "nb"), ("template", "phone", "nb"),
    ]
    chat, email, _ = result["replies"]
    assert chat["placeholders"] == [{"name": "ordrenummer", "fallback": None}]
    assert email["text"].startswith("Hei {kundenavn},\n\nTakk for at du tok kontakt om ordre {ordrenummer}.")
    assert email["placeholders"] == [
        {"name": "kundenavn", "fallback": ""}, {"name": "ordrenummer", "fallback": None},
        {"name": "agentnavn", "fallback": "Kundeservice hos Fjordhjem Elektro"},
    ]


def test_an_article_with_replies_in_two_languages_offers_both(sample_index, embedder):
    result = Searcher(sample_index, embedder).search("angrerett", k=1, replies=("chat", "phone")).results[0]
    assert result["article_id"] == "retur/angrerett"
    # No English phone variant and no English text for every channel: English offers chat only.
    assert [(r["channel"], r["lang"]) for r in result["replies"]] == [("chat", "nb"), ("phone", "nb"), ("chat", "en")]


def post_reply(client, **body):
    return client.post("/api/reply", json=body)


def test_api_reply_fills_a_template(client):
    response = post_reply(client, article="ordre/kansellere-bestilling", channel="chat",
                          values={"ordrenummer": "FH-1234567"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["lang"] == "nb" and body["channel"] == "chat"
    assert body["text"].startswith("Du kan kansellere ordre FH-1234567 gratis i Min side")
    assert "{" not in body["text"]
    email = post_reply(client, article="ordre/kansellere-bestilling", channel="email",
                       values={"ordrenummer": "FH-1234567"}).get_json()["text"]
    assert email.startswith("Hei,\n\nTakk for at du tok kontakt om ordre FH-1234567.")
    assert email.endswith("Med vennlig hilsen\nKundeservice hos Fjordhjem Elektro")
    damaged = post_reply(client, article="reklamasjon/skadet-vare-ved-levering", channel="email",
                         values={"ordrenummer": "FH-1"}).get_json()["text"]
    assert "da du hentet den på hentestedet, bør du" in damaged
    english = post_reply(client, article="retur/angrerett", channel="email", lang="en",
                         values={"order_number": "FH-7", "customer_name": "Ola"}).get_json()["text"]
    assert english.startswith("Hi Ola,\n\nThank you for contacting us about order FH-7.")


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"article": "ordre/kansellere-bestilling", "channel": "chat"}, 422,
     "fill in {ordrenummer} before sending this reply"),
    ({"article": "intern/eskaleringsruter", "channel": "chat"}, 403,
     "article 'intern/eskaleringsruter' is internal; nothing from it may be sent to a customer"),
    ({"article": "produkter/km-700-feilkoder", "channel": "chat"}, 404,
     "article 'produkter/km-700-feilkoder' has no reply template for chat"),
    ({"article": "retur/angrerett", "channel": "phone", "lang": "en"}, 404,
     "article 'retur/angrerett' has no reply template for phone in en"),
    ({"article": "finnes/ikke", "channel": "chat"}, 404, "no article 'finnes/ikke' in the index"),
    ({"article": "retur/angrerett", "channel": "fax"}, 400, "channel must be one of chat, email, phone, social"),
    ({"article": "retur/angrerett", "values": {"ordrenummer": "x" * 201}}, 400,
     "the value of {ordrenummer} is longer than 200 characters"),
])
def test_api_reply_refuses_what_must_not_be_sent(client, body, status, error):
    response = client.post("/api/reply", json=body)
    assert response.status_code == status
    payload = response.get_json()
    assert payload["ok"] is False and payload["status"] == status and payload["error"] == error
    if status == 422:
        assert payload["missing"] == ["ordrenummer"]


def test_api_reply_wants_a_json_object(client):
    response = client.post("/api/reply", data="article=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"] == "send a JSON object: {article, channel, lang, values}"
