"""The page's paste mode and cards without a browser: the fragments, the no-script form, tables, the heading."""

from __future__ import annotations

from webapp.passages import passage_blocks

MESSAGE = "Hei!\n\nHvor lang er angrefristen? Og kan jeg betale med delbetaling?\n\nMvh\nKari Nordmann"


def test_the_page_has_one_level_one_heading_and_a_hidden_paste_form(client):
    html = client.get("/").get_data(as_text=True)
    assert html.count("<h1") == 1 and '<h1 class="page-heading">Finn svaret til kunden</h1>' in html
    assert '<form class="assist-form" id="assist-form" action="/assist" method="post" hidden>' in html
    english = client.get("/?ui=en").get_data(as_text=True)
    assert '<h1 class="page-heading">Find the answer for the customer</h1>' in english


def test_assist_fragment_has_a_section_per_need_and_the_reply_with_values_filled(client):
    html = client.post("/assist-results", data={"text": MESSAGE, "channel": "email"}).get_data(as_text=True)
    assert html.count('<section class="need"') == 2
    assert "Spørsmål 1: <q lang=\"nb\">Hvor lang er angrefristen?</q>" in html
    assert 'data-article-id="retur/angrerett"' in html and 'data-article-id="betaling/delbetaling"' in html
    assert 'class="placeholder filled" data-name="kundenavn"' in html and 'value="Kari Nordmann"' in html
    assert '<h3 class="card-title">' in html and '<h2 class="card-title">' not in html


def test_assist_without_the_script_posts_the_form(client):
    html = client.post("/assist", data={"text": MESSAGE, "channel": "chat"}).get_data(as_text=True)
    assert '<form class="assist-form" id="assist-form" action="/assist" method="post">' in html
    assert "Hvor lang er angrefristen?" in html and html.count('<section class="need"') == 2
    assert 'figure class="reply combined" data-kind="combined" data-channel="chat"' in html


def test_assist_errors_are_shown_in_place_of_results(client):
    html = client.post("/assist-results", data={"text": "Mvh\nKari"}).get_data(as_text=True)
    assert html.strip() == ('<p class="error">the message has no question or request once greetings, signatures '
                            'and quoted mail are set aside</p>')
    escaped = client.post("/assist-results", data={"text": "<script>alert(1)</script> Hvor er pakken?"})
    assert "<script>alert" not in escaped.get_data(as_text=True)


def test_table_rows_become_a_table():
    assert passage_blocks("Frister for angrerett:\nHva | Frist\nGi beskjed | 14 dager\nSende varen | 14 dager til\n"
                          "Se også refusjon.") == [
        {"text": "Frister for angrerett:"},
        {"rows": [["Hva", "Frist"], ["Gi beskjed", "14 dager"], ["Sende varen", "14 dager til"]]},
        {"text": "Se også refusjon."},
    ]
    assert passage_blocks("a | b | c\nd | e") == [{"rows": [["a", "b", "c"], ["d", "e", ""]]}]


def test_a_table_passage_is_a_table_on_its_card(client):
    html = client.get("/results", query_string={"q": "angrerett frister hva frist"}).get_data(as_text=True)
    assert '<table class="passage-table">' in html and '<th scope="col">' in html
