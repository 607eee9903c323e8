"""Reply suggestions through the real index and model: templates, extracts that answer, and the guardrail."""

from __future__ import annotations

import pytest

from indexer.search import Searcher
from indexer.store import IndexRoot
from indexer.suggest import WRAPPERS, split_sentences


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
        {"name": "customer_name", "fallback": ""}, {"name": "agent_name", "fallback": "Fjordhjem Elektro Customer Service"},
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
    assert wrong.get_json() == {"ok": False, "error": "channel must be one of chat, email, phone, not 'fax'",
                                "status": 400}
