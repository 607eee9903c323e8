"""Escalation routes: the route file and its checks, routing on the sample KB (golden file), `route` on results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.ingest.builder import build_index
from indexer.ingest.checks import check_kb
from indexer.retrieval.search import Searcher
from indexer.routing.golden import load_routing_questions, routed
from indexer.routing.routes import parse_routes_file

from .conftest import SAMPLE_KB

GOLDEN = Path(__file__).resolve().parent / "golden_routing.yaml"
QUESTIONS = load_routing_questions(GOLDEN)

ROUTES = """\
level1: Kundeservice
departments:
  - name: Kundeservice
    when: Løses på nivå 1
    contact: {crm_queue: Kundeservice}
  - name: Teknisk support
    when: {nb: Produktfeil, en: Product faults}
    keywords: [fungerer fortsatt ikke, still does not work]
    contact: {crm_queue: Teknisk support, email: teknisk@fjordhjem.example}
    speed: {nb: Vanlig saksgang, en: Normal handling}
urgent:
  - id: threat
    to: Kundeservice
    when: {nb: Trusler, en: Threats}
    keywords: [truer, threatens]
"""


@pytest.fixture(scope="module")
def searcher(sample_index, embedder):
    return Searcher(sample_index, embedder)


def test_the_golden_file_covers_both_languages_and_urgent_cases():
    assert len(QUESTIONS) >= 20
    langs = [question.lang for question in QUESTIONS]
    assert langs.count("nb") >= 10 and langs.count("en") >= 10
    urgent = [question for question in QUESTIONS if question.urgent]
    assert {q.lang for q in urgent} == {"nb", "en"} and len(urgent) >= 6


@pytest.mark.parametrize("question", QUESTIONS, ids=[f"{q.lang}-{q.department}-{i}" for i, q in enumerate(QUESTIONS)])
def test_golden_question_routes_to_its_department(searcher, question):
    got = routed(searcher, question)
    assert got["department"] == question.department
    if question.urgent:
        assert got["urgent"][0] == question.department
    else:
        assert got["urgent"] == []


def test_every_result_carries_a_route_urgent_first(client):
    body = client.get("/api/search", query_string={"q": "kunden truer oss og vil ha pengene tilbake for returen",
                                                   "k": 5}).get_json()
    assert body["urgent"][0]["department"] == "Vakthavende teamleder"
    assert body["urgent"][0]["reason"] == {
        "kind": "urgent", "criterion": "Kunden truer deg, andre ansatte eller Fjordhjem", "matched": "truer",
        "id": "threat"}
    assert len(body["results"]) == 5
    for result in body["results"]:
        route = result["route"]
        assert route["department"] == "Vakthavende teamleder" and route["urgent"] is True
        assert route["contact"] == {"phone": "815 40 499"}
        # The article's own route follows the urgent one.
        owner = result["metadata"]["owner"]
        assert owner == "Vakthavende teamleder" or owner in [also["department"] for also in route["also"]]


def test_route_follows_the_owner_and_names_its_contact(client):
    body = client.get("/api/search", query_string={"q": "how do I request a copy of my personal data", "k": 3,
                                                   "lang": "en"}).get_json()
    first = body["results"][0]
    assert first["metadata"]["owner"] == "Personvern"
    assert body["urgent"] == []
    assert first["route"]["department"] == "Personvern"
    assert first["route"]["label"] == "Privacy"
    assert first["route"]["contact"] == {"crm_queue": "Personvern", "email": "personvern@fjordhjem.example"}
    assert first["route"]["speed"] == "Normal handling"


def test_internal_route_details_never_reach_customer_replies(client):
    body = client.get("/api/search", query_string={"q": "pakken er borte og kunden vil ha pengene tilbake",
                                                   "k": 8}).get_json()
    replies = [reply["text"] for result in body["results"] for reply in result.get("replies", [])]
    assert replies
    assert all("CRM-kø" not in text and "CRM queue" not in text and "815 40 499" not in text for text in replies)


def test_route_zero_leaves_routes_out(client):
    body = client.get("/api/search", query_string={"q": "kunden truer oss", "route": "0"}).get_json()
    assert body["urgent"] == [] and all("route" not in result for result in body["results"])


def write(kb, relpath, text):
    path = kb / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_sample_route_file_has_no_problems():
    routes, problems = parse_routes_file(SAMPLE_KB)
    assert problems == []
    assert list(routes.departments) == ["Kundeservice", "Reklamasjon", "Økonomi", "Logistikk", "Teknisk support",
                                        "Personvern", "Bedrift", "E-handel", "Vakthavende teamleder"]
    assert [u.id for u in routes.urgent] == ["threat", "media", "privacy-breach", "consumer-authority"]


def test_kb_check_finds_every_route_problem(tmp_path):
    kb = tmp_path / "kb"
    write(kb, "a.md", "---\ntitle: A\nlang: nb\nowner: Kundeservice\n---\n# A\n\nTekst om retur.\n")
    write(kb, "b.md", "---\ntitle: B\nlang: nb\ncategory: produkter\nowner: Lager\n---\n# B\n\nTekst om lager.\n")
    write(kb, "_routes.yaml", """\
level1: Kundeservice
departments:
  - name: Kundeservice
    when: Løses på nivå 1
    contact: {crm_queue: Kundeservice}
  - name: Økonomi
    when: Faktura
    contact: {email: okonomi(at)fjordhjem, phone: "12 34"}
  - name: Juridisk
    when: {nb: Rettssaker}
    categories: [jus]
    contact: {crm_queue: Juridisk, fax: "22 33 44 55"}
  - name: Arkiv
    when: Gamle saker
    contact: {crm_queue: Arkiv}
    colour: blue
urgent:
  - id: media
    to: Kommunikasjon
    when: Media
    keywords: [media]
  - id: stille
    to: Kundeservice
    when: Aldri
""")
    findings = [str(f) for f in check_kb(kb)]
    assert findings == [
        "_routes.yaml:8: error: department 'Økonomi': email 'okonomi(at)fjordhjem' is not an e-mail address",
        "_routes.yaml:8: error: department 'Økonomi': phone '12 34' is not a Norwegian number (8 digits, "
        "e.g. 815 40 410)",
        "_routes.yaml:10: warning: department 'Juridisk': when has no en text; the other is used",
        "_routes.yaml:12: error: department 'Juridisk': unknown contact 'fax'; use crm_queue, email, phone",
        "_routes.yaml:13: warning: department 'Arkiv' can never be suggested: no article has it as owner, it has "
        "no keywords, and no category, product, tag or urgent criterion leads to it",
        "_routes.yaml:16: warning: department 'Arkiv': unknown key 'colour' is ignored",
        "_routes.yaml:19: error: urgent criterion 'media': to names unknown department 'Kommunikasjon'; known: "
        "Kundeservice, Arkiv",
        "_routes.yaml:22: error: urgent criterion 'stille': needs keywords, or no question can ever match it",
        "b.md:5: error: owner 'Lager' has no route in _routes.yaml; known departments: Kundeservice, Arkiv",
    ]


def test_broken_route_yaml_is_named_with_its_line_and_the_rest_is_served(mini_settings, embedder):
    write(mini_settings.kb_dir, "_routes.yaml", ROUTES + "  - id: [broken\n")
    findings = [str(f) for f in check_kb(mini_settings.kb_dir) if f.path == "_routes.yaml"]
    assert findings == ["_routes.yaml:17: error: invalid YAML: did not find expected ',' or ']'"]
    report = build_index(mini_settings, embedder=embedder)
    assert [str(problem) for problem in report.problems] == [findings[0].replace(" error:", "")]
    results = Searcher(mini_settings, embedder).search("Aura 55 viser E-101", k=1).results
    # Without routes the article's owner is still named, with no contact details.
    assert results[0]["route"]["department"] == "Teknisk support"
    assert results[0]["route"]["contact"] == {} and results[0]["route"]["reason"]["kind"] == "owner"


def test_a_broken_entry_is_left_out_and_the_others_apply(mini_settings, embedder):
    write(mini_settings.kb_dir, "_routes.yaml", ROUTES.replace("contact: {crm_queue: Kundeservice}",
                                                               "contact: {email: not-an-address}"))
    report = build_index(mini_settings, embedder=embedder)
    assert "_routes.yaml:5: department 'Kundeservice': email 'not-an-address' is not an e-mail address" in \
        [str(warning) for warning in report.warnings]
    response = Searcher(mini_settings, embedder).search("Aura 55 viser E-101, fungerer fortsatt ikke", k=1)
    route = response.results[0]["route"]
    assert route["department"] == "Teknisk support"
    assert route["reason"] == {"kind": "question", "criterion": "Produktfeil", "matched": "fungerer fortsatt ikke"}
    assert route["contact"] == {"crm_queue": "Teknisk support", "email": "teknisk@fjordhjem.example"}
    # The urgent criterion pointed at the department that was left out, so it is left out too.
    assert Searcher(mini_settings, embedder).search("kunden truer meg", k=1).urgent == []


def test_sample_kb_copy_with_an_owner_missing_from_the_routes(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    text = (kb / "_routes.yaml").read_text(encoding="utf-8")
    start = text.index("  - name: E-handel")
    (kb / "_routes.yaml").write_text(text[:start] + text[text.index("  - name: Vakthavende"):], encoding="utf-8")
    owners = sorted(f.path for f in check_kb(kb) if "owner 'E-handel' has no route" in f.message)
    assert owners == ["konto/innlogging-og-passord.md", "konto/min-side.md", "konto/reset-password.md",
                      "ordre/cancel-order.md", "ordre/endre-bestilling.md", "ordre/kansellere-bestilling.md"]


def test_every_need_of_a_pasted_message_carries_its_route_urgent_first(client):
    message = ("Hei,\n\nHvor er pakken min med ordre FH-2345678? Sporingen har ikke endret seg på ti dager.\n\n"
               "Jeg har snakket med en journalist i VG om saken, hva gjør dere nå?\n\nMvh\nKari Nordmann\n")
    body = client.post("/api/assist", json={"text": message, "channel": "email"}).get_json()
    assert len(body["needs"]) == 2
    lost, media = body["needs"]
    assert lost["urgent"] == [] and lost["route"]["department"] == "Logistikk"
    assert lost["route"] == lost["results"][0]["route"]
    assert [route["department"] for route in media["urgent"]] == ["Vakthavende teamleder"]
    assert media["route"]["department"] == "Vakthavende teamleder" and media["route"]["reason"]["id"] == "media"
    assert "Vakthavende" not in body["reply"]["text"] and "815 40 499" not in body["reply"]["text"]


def test_a_route_file_linked_from_outside_or_an_alias_bomb_is_refused(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    outside = tmp_path / "routes.yaml"
    outside.write_text(ROUTES, encoding="utf-8")
    (kb / "_routes.yaml").symlink_to(outside)
    assert [str(f) for f in check_kb(kb)] == [
        "_routes.yaml: error: is a link to a file outside the KB folder; not read"]
    (kb / "_routes.yaml").unlink()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))
    (kb / "_routes.yaml").write_text(bomb, encoding="utf-8")
    findings = [str(f) for f in check_kb(kb)]
    assert findings == ["_routes.yaml:5: error: invalid YAML: expands to more than 100,000 values through aliases"]
