"""The assistant's text handling without an index: cleaning, needs, values, subjects, frames, social rules."""

from __future__ import annotations

import pytest

from indexer.assist.cleaning import clean_message
from indexer.assist.compose import Answer, compose_reply
from indexer.assist.conversation import earlier_subject, latest_customer_turns
from indexer.assist.needs import split_needs
from indexer.assist.request import Turn
from indexer.assist.subjects import Subjects
from indexer.assist.values import extract_values, without_values
from indexer.replies.frame import body_of
from indexer.replies.social import public_reply
from indexer.replies.templates import BUILTIN_PLACEHOLDERS

EMAIL_NB = """Hei Fjordhjem,

Jeg bestilte en oppvaskmaskin (ordre FH 2345678) for to uker siden. Den har ikke kommet ennå. Hvor er pakken?
Kan jeg kansellere hvis den ikke kommer før fredag?

Takk for hjelpen!

Mvh
Kari Nordmann
tlf 912 34 567

Den 3. nov. 2026 kl. 10:12 skrev Fjordhjem <kundeservice@fjordhjem.example>:
> Takk for bestillingen. Servicenummer SR-654321
"""

HTML_EN = ("<html><head><style>p{color:red}</style></head><body><p>Hi there,</p><p>I want to return my "
           "headphones.<br>How do I do that?</p><div class='gmail_quote'>On Mon, 2 Nov, Fjordhjem wrote:"
           "<blockquote>Your order FH-7654321 is on its way</blockquote></div><p>Best regards,<br>John Smith</p>"
           "<script>alert('x')</script></body></html>")


def test_greeting_sign_off_signature_and_quote_are_set_aside():
    cleaned = clean_message(EMAIL_NB)
    assert cleaned.text == ("Jeg bestilte en oppvaskmaskin (ordre FH 2345678) for to uker siden. Den har ikke kommet "
                            "ennå. Hvor er pakken?\nKan jeg kansellere hvis den ikke kommer før fredag?")
    assert cleaned.greeting == "Hei Fjordhjem,"
    assert cleaned.signature == ["Kari Nordmann", "tlf 912 34 567"]
    assert cleaned.quoted[0].startswith("Den 3. nov. 2026 kl. 10:12 skrev Fjordhjem")


def test_html_tags_are_removed_and_never_kept():
    cleaned = clean_message(HTML_EN)
    assert cleaned.text == "I want to return my headphones.\nHow do I do that?"
    assert cleaned.signature == ["John Smith"]
    assert "alert" not in cleaned.text and "<" not in cleaned.text
    assert any("FH-7654321" in line for line in cleaned.quoted)


@pytest.mark.parametrize(("message", "expected"), [
    ("Hi, my order hasn't arrived. Where is it?\nThanks, Anna", "my order hasn't arrived. Where is it?"),
    ("hei\nhvor lang er angrefristen", "hvor lang er angrefristen"),
    ("Hello!\n\nCan I pay by invoice?\n\nSent from my iPhone", "Can I pay by invoice?"),
    ("Can I pay by invoice?\n-----Original Message-----\nFrom: Fjordhjem\nSent: Monday", "Can I pay by invoice?"),
    ("Kan jeg betale med faktura?\n\nFra: Fjordhjem\nSendt: 2. november\nEmne: Ordre", "Kan jeg betale med faktura?"),
])
def test_what_the_customer_wrote(message, expected):
    assert clean_message(message).text == expected


def needs_of(message: str) -> list[str]:
    return [need.text for need in split_needs(clean_message(message).text)]


def test_background_joins_its_question_and_two_questions_are_two_needs():
    assert needs_of(EMAIL_NB) == [
        "Jeg bestilte en oppvaskmaskin (ordre FH 2345678) for to uker siden. Den har ikke kommet ennå. Hvor er pakken?",
        "Kan jeg kansellere hvis den ikke kommer før fredag?",
    ]


def test_a_follow_up_without_a_topic_of_its_own_stays_with_its_question():
    assert needs_of("What is your return policy? How long does it take? Also, do you sell gift cards?") == [
        "What is your return policy? How long does it take?", "Also, do you sell gift cards?"]


@pytest.mark.parametrize(("message", "expected"), [
    ("Please close my account. How soon will that be done?",
     ["Please close my account. How soon will that be done?"]),
    ("Jeg vil reklamere på vaskemaskinen. Hva trenger dere fra meg?",
     ["Jeg vil reklamere på vaskemaskinen. Hva trenger dere fra meg?"]),
    ("I want to return the headphones. What do I need to send with them? Can I also pay by invoice?",
     ["I want to return the headphones. What do I need to send with them?", "Can I also pay by invoice?"]),
    ("Kan jeg bytte TV-en? Hva trenger jeg for å få pengene tilbake?",
     ["Kan jeg bytte TV-en?", "Hva trenger jeg for å få pengene tilbake?"]),
])
def test_a_follow_up_of_stopwords_and_asking_words_joins_its_question_one_with_a_topic_does_not(message, expected):
    assert needs_of(message) == expected


def test_chat_lines_without_stops_and_abbreviations():
    assert needs_of("hei\ndo you deliver on saturdays\nand can i pay with vipps") == [
        "do you deliver on saturdays", "and can i pay with vipps"]
    assert needs_of("Jeg kjøpte den ca. 3. november. Når kommer refusjonen?") == [
        "Jeg kjøpte den ca. 3. november. Når kommer refusjonen?"]


def test_a_message_that_asks_nothing_is_one_need():
    assert needs_of("Hei. Varen kom knust i posten. Mvh Ola") == ["Varen kom knust i posten."]


def test_values_from_the_message_signature_and_quote():
    subjects = Subjects({"KM-700": ["oppvaskmaskin"], "AU55-Q4": ["Aura 55"]})
    values = extract_values(clean_message(EMAIL_NB), subjects)
    assert values == {"order_number": "FH-2345678", "service_number": "SR-654321", "customer_name": "Kari Nordmann",
                      "products": ["KM-700"]}
    assert extract_values(clean_message("My name is John Smith and my Aura 55 TV shows E-202. What now?"),
                          subjects) == {"customer_name": "John Smith", "products": ["AU55-Q4"]}
    assert without_values("Kari Nordmann skriver at Kari vil", {"customer_name": "Kari Nordmann"}) == \
        "[name] skriver at [name] vil"


def test_subjects_weigh_rare_words_and_join_split_names():
    subjects = Subjects({"GRANT HOTEL": [], "HOLIDAY INN GOLDEN GATEWAY": [], "DRAGONEATS SOMA": [],
                         "HOTEL ZEPHYR": [], "SOMA GRILL": [], "KIN KHAO": [], "RESTAURANT ONE SEVEN": []},
                        common=frozenset({"restaurant"}))
    assert subjects.best("i recommend the grant hotel in union square") == "GRANT HOTEL"
    assert subjects.best("how about the holiday inn in the golden gateway area") == "HOLIDAY INN GOLDEN GATEWAY"
    assert subjects.best("it's called dragon eats") == "DRAGONEATS SOMA"
    assert subjects.best("any hotel will do") is None
    assert subjects.best("what is the check kin time") is None
    assert subjects.best("the restaurant at nine four one one seven") is None
    assert subjects.best("restaurant one seven it is") == "RESTAURANT ONE SEVEN"


def test_the_latest_customer_turns_and_the_subject_named_before():
    turns = [Turn("customer", "I need a hotel"), Turn("agent", "How about the Grant Hotel?"),
             Turn("customer", "sounds good"), Turn("customer", "what is the check-in time there")]
    latest, earlier = latest_customer_turns(turns)
    assert [turn.text for turn in latest] == ["sounds good", "what is the check-in time there"]
    assert earlier_subject(earlier, Subjects({"GRANT HOTEL": []})) == "GRANT HOTEL"
    latest, earlier = latest_customer_turns([*turns, Turn("agent", "Let me check.")])
    assert len(latest) == 2 and len(earlier) == 2


def test_frames_are_taken_off_a_template():
    email = ("Hei {kundenavn},\n\nDu kan kansellere gratis.\n\nTa gjerne kontakt om du lurer på noe.\n\n"
             "Med vennlig hilsen\n{agentnavn}")
    assert body_of(email) == "Du kan kansellere gratis."
    assert body_of("Hi! You can cancel for free. Is there anything else I can help you with?") == \
        "You can cancel for free."


def test_social_replies_carry_no_personal_data_and_move_to_private_messages():
    text = public_reply(["Ordre {ordrenummer} er sendt. Du kan spore pakken i Min side.",
                         "Ring 912 34 567 for hjelp. Angrefristen er 14 dager."], "nb")
    assert text == ("Hei! Du kan spore pakken i Min side. Angrefristen er 14 dager. Send oss gjerne en privat melding "
                    "med ordrenummeret ditt, så ser vi på saken.")


def test_one_reply_for_all_needs_with_values_filled_and_no_raw_placeholder():
    declared = {**BUILTIN_PLACEHOLDERS, "ordrenummer": None, "dato": None}
    answers = [Answer(0, "template", "Ordre {ordrenummer} er sendt.", {"article_id": "a"}),
               Answer(1, "template", "Pengene kommer {dato}. Angrefristen er 14 dager.", {"article_id": "b"}),
               Answer(2, "template", "Ordre {ordrenummer} er sendt.", {"article_id": "a"})]
    reply = compose_reply(answers, "nb", "email", {"order_number": "FH-1234567", "customer_name": "Kari"}, declared)
    assert reply["text"] == ("Hei Kari,\n\nOrdre FH-1234567 er sendt.\n\nAngrefristen er 14 dager.\n\n"
                             "Ta gjerne kontakt om du har flere spørsmål.\n\nMed vennlig hilsen\nKundeservice")
    assert "{dato}" in reply["template"]
    assert {field["name"]: field["value"] for field in reply["placeholders"]} == {
        "kundenavn": "Kari", "ordrenummer": "FH-1234567", "dato": None, "agentnavn": None}
    assert [source["need"] for source in reply["sources"]] == [0, 1]
    social = compose_reply(answers, "nb", "social", {"order_number": "FH-1234567", "customer_name": "Kari"}, declared)
    assert "FH-1234567" not in social["text"] and "Kari" not in social["text"]
    assert social["text"] == ("Hei! Angrefristen er 14 dager. Send oss gjerne en privat melding med ordrenummeret "
                              "ditt, så ser vi på saken.")
