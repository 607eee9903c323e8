"""The agent page in a real browser: Debian's chromium, driven by Playwright, against a real `kb serve`.

`make test` installs chromium when it is missing; without it these tests skip, unless KB_REQUIRE_BROWSER
is set (as CI does), when they fail instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("KB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags chromium keeps dialling Google's hosts, which a closed network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"no chromium at {CHROMIUM}; 'make test' installs Debian's chromium"
        if os.environ.get("KB_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def open_page(browser, live_server, **options):
    context = browser.new_context(locale="nb-NO", base_url=live_server, **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server):
    context, opened = open_page(browser, live_server)
    yield opened
    context.close()


@pytest.fixture
def axe_page(browser, live_server):
    """A page axe-core can be injected into: the app's Content-Security-Policy runs only the app's own script."""
    context, opened = open_page(browser, live_server, bypass_csp=True)
    yield opened
    context.close()


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def search(page, question: str):
    page.fill("#q", question)
    page.wait_for_function(
        "q => new URL(location.href).searchParams.get('q') === q && document.querySelector('li.card .reply')",
        arg=question,
    )
    return page.locator("li.card").first


def test_a_template_is_copied_only_when_its_fields_are_filled(page):
    page.goto("/")
    page.evaluate("navigator.clipboard.writeText('unchanged')")
    card = search(page, "kunden vil kansellere bestillingen")
    reply = card.locator(".reply").first
    assert reply.get_attribute("data-kind") == "template"
    field = reply.locator('input[data-name="ordrenummer"]')

    reply.locator("button.copy").click()
    page.wait_for_function("() => document.querySelector('.reply .copy-status').textContent === 'Fyll inn'")
    assert "missing" in field.get_attribute("class")
    assert page.evaluate("document.activeElement.dataset.name") == "ordrenummer"
    assert clipboard(page) == "unchanged"

    field.fill("FH-1234567")
    reply.locator("button.copy").click()
    page.wait_for_function("() => document.querySelector('.reply .copy-status').textContent === 'Kopiert'")
    copied = clipboard(page)
    assert copied.startswith("Du kan kansellere ordre FH-1234567 gratis i Min side")
    assert "{" not in copied


def test_channel_selector_gives_the_email_with_fallbacks(page):
    page.goto("/")
    search(page, "kunden vil kansellere bestillingen")
    page.select_option("#channel", "email")
    page.wait_for_selector('li.card .reply[data-channel="email"]')
    assert "channel=email" in page.url
    reply = page.locator("li.card").first.locator(".reply").first
    reply.locator('input[data-name="ordrenummer"]').fill("FH-1")
    reply.locator("button.copy").click()
    page.wait_for_selector(".reply[data-copied=yes]")
    copied = clipboard(page)
    assert copied.startswith("Hei,\n\nTakk for at du tok kontakt om ordre FH-1.")
    assert copied.endswith("Med vennlig hilsen\nKundeservice hos Fjordhjem Elektro")


def test_keyboard_only_search_select_and_copy(page):
    page.goto("/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("oppvaskmaskinen viser feilkode E24")
    page.wait_for_function("() => document.querySelector('li.card .reply')")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.classList.contains('selected')") is True
    assert page.evaluate("document.activeElement.dataset.rank") == "1"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.rank") == "2"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("c")
    page.wait_for_selector("li.card.selected .reply[data-copied=yes]")
    copied = clipboard(page)
    assert copied.startswith("Hei! ") and "E24" in copied and copied.endswith("Er det noe mer jeg kan hjelpe deg med?")


def test_internal_results_are_marked_and_offer_nothing_to_copy(page):
    page.goto("/?q=eskalering+reklamasjon&audience=internal")
    cards = page.locator("li.card")
    assert cards.count() > 0
    assert page.locator("li.card.internal").count() == cards.count()
    assert page.locator("li.card .reply").count() == 0
    assert cards.first.locator(".no-replies").inner_text() == "Intern artikkel: ingen svarforslag til kunden."


def test_copy_falls_back_without_the_clipboard_api(page):
    page.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
        "document.addEventListener('copy', e => { window.copiedText = e.target.value; });"
    )
    page.goto("/?q=oppvaskmaskinen+viser+feilkode+E24")
    page.locator("li.card .reply button.copy").first.click()
    page.wait_for_selector(".reply[data-copied]")
    assert "E24" in page.evaluate("window.copiedText")


def test_the_page_speaks_english(page):
    page.goto("/?ui=en&q=customer+wants+to+cancel+an+order&channel=phone")
    assert page.locator("label:has(#channel)").inner_text().startswith("Reply by")
    reply = page.locator("li.card .reply").first
    assert reply.locator("button.copy").inner_text() == "Copy reply"
    assert reply.get_attribute("data-channel") == "phone" and reply.get_attribute("lang") == "en"


def test_rating_a_result(page):
    page.goto("/")
    card = search(page, "hvor lenge er angreretten")
    card.locator(".rate-comment").fill("fristen står feil for medlemmer")
    card.locator('button.rating[data-rating="outdated"]').click()
    page.wait_for_selector('li.card .rate[data-rated="outdated"]')
    assert card.locator(".rate-status").inner_text() == "Takk, redaktørene får beskjed."


def test_reports_page_behind_the_editor_token(page):
    from .conftest import EDITOR_TOKEN

    page.goto("/")
    search(page, "har dere vinterdekk til elbil")
    response = page.goto("/reports")
    assert response.status == 401
    page.fill("#token", "feil-nøkkel")
    page.click("form.login button[type=submit]")
    assert page.locator("form.login .error").inner_text() == "Feil nøkkel."
    page.fill("#token", EDITOR_TOKEN)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("#gaps")
    assert page.locator("h1").inner_text() == "Rapport for redaktører"
    assert "har dere vinterdekk til elbil" in page.locator("#gaps").inner_text()
    assert page.locator("#charts svg").count() >= 2
    # The period applies on change through the page's own script, which the Content-Security-Policy allows.
    page.select_option("select[name=days]", "7")
    page.wait_for_url("**/reports?days=7")
    page.goto("/reports?ui=en")
    assert page.locator("h1").inner_text() == "Report for editors"


def test_escalate_with_the_keyboard_gives_a_masked_note_to_copy(page):
    page.goto("/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    page.keyboard.type("kunden har klaget til Forbrukerrådet om FH-1234567, ring 912 34 567")
    page.wait_for_selector("li.card .route")
    assert page.locator(".urgent-banner").inner_text().startswith(
        "Haster: Klage sendt til Forbrukerrådet eller Forbrukertilsynet → Reklamasjon")
    page.keyboard.press("ArrowDown")
    route = page.locator("li.card.selected .route")
    assert route.get_attribute("data-department") == "Reklamasjon"
    assert "urgent" in route.get_attribute("class")
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.classList.contains('handoff-added')") is True
    page.keyboard.type("Kunden ringer fra 41555555")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.activeElement.classList.contains('handoff-copy')")
    note = route.locator(".handoff-note").input_value()
    assert note.startswith("Til: Reklamasjon (CRM-kø Reklamasjon, e-post reklamasjon@fjordhjem.example)\n"
                           "HASTER: Klage sendt til Forbrukerrådet eller Forbrukertilsynet\nHvor raskt: Samme dag\n")
    assert "- Ordrenummer: FH-1234567" in note
    assert "ring [phone]" in note and "Kunden ringer fra [phone]" in note
    assert "912 34 567" not in note and "41555555" not in note
    page.keyboard.press("Enter")
    page.wait_for_selector("li.card.selected .route[data-copied=yes]")
    assert clipboard(page) == note
    assert route.locator(".handoff-status").inner_text() == (
        "Notatet er kopiert. Lim det inn i saken i CRM eller i e-posten.")


def test_escalate_by_clicking_in_english(page):
    page.goto("/?ui=en")
    card = search(page, "the parcel is lost, the carrier says it was delivered")
    card.locator("button.escalate").click()
    card.locator("button.handoff-write").click()
    page.wait_for_selector("li.card .handoff-copy:not([hidden])")
    note = card.locator(".handoff-note").input_value()
    assert note.startswith("Til: Logistikk (CRM-kø Logistikk)\n")
    assert card.locator("button.escalate").inner_text() == "Escalate"


def test_customer_feedback_in_two_clicks(page):
    page.goto("/")
    search(page, "Aura 55 har svart skjerm etter oppdatering")
    page.click('button.contact-kind[data-kind="complaint"]')
    assert page.locator(".contact-product").input_value() == "AU55-Q4"
    page.fill(".contact-comment", "Tredje gang på en måned, ring 912 34 567")
    page.click("button.contact-save")
    page.wait_for_selector('.contact-feedback[data-saved="complaint"]')
    assert page.locator(".contact-status").inner_text() == "Lagret. Takk!"


def test_a_3499_character_question_gets_results_as_typed(page):
    page.goto("/")
    question = ("Kunden skriver at hun vil bruke angreretten på vaskemaskinen hun kjøpte. " * 60)[:3499]
    page.fill("#q", question)
    page.wait_for_function("() => document.querySelector('#results li.card')")
    assert page.locator("#results").inner_text().count("URI Too Long") == 0
    assert page.locator("li.card").count() > 0
    # The address bar keeps the page's other settings, not a question longer than servers accept.
    assert len(page.url) < 2100


PASTED = ("Hei!\n\nJeg bestilte en vare for to uker siden (ordre FH-2345678), men pakken har ikke kommet. "
          "Hvordan sporer jeg pakken?\nOg hvor lang er angrefristen hvis jeg vil returnere varen?\n\n"
          "Med vennlig hilsen\nKari Nordmann")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (where "the page has a level-one heading" lives).
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def paste_into_search_box(page, text: str) -> None:
    page.evaluate("""text => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        document.getElementById('q').dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                                                cancelable: true}));
    }""", text)


def test_pasting_a_message_opens_paste_mode_with_a_result_list_per_need(page):
    page.goto("/?channel=email")
    assert page.locator("#assist-form").is_hidden()
    paste_into_search_box(page, PASTED)
    page.wait_for_selector("section.need >> nth=1")
    assert page.locator("#assist-form").is_visible()
    assert page.input_value("#message") == PASTED
    assert page.input_value("#q") == ""
    headings = page.locator("section.need h2").all_inner_texts()
    assert headings == [
        "Spørsmål 1: Jeg bestilte en vare for to uker siden (ordre FH-2345678), men pakken har ikke kommet. "
        "Hvordan sporer jeg pakken?",
        "Spørsmål 2: Og hvor lang er angrefristen hvis jeg vil returnere varen?",
    ]
    assert page.locator("section.need").nth(1).locator("li.card").first.get_attribute("data-article-id") == \
        "retur/angrerett"
    combined = page.locator("figure.reply.combined")
    assert combined.get_attribute("data-channel") == "email"
    assert combined.locator('input[data-name="kundenavn"]').input_value() == "Kari Nordmann"
    combined.locator('input[data-name="kundenavn"]').fill("Kari")
    combined.locator("button.copy").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("figure.reply.combined[data-copied=yes]")
    copied = clipboard(page)
    assert copied.startswith("Hei Kari,\n\n")
    assert copied.endswith("Med vennlig hilsen\nKundeservice hos Fjordhjem Elektro")
    assert copied.count("Med vennlig hilsen") == 1 and "{" not in copied


def test_paste_mode_by_keyboard_alone_in_english(page):
    page.goto("/?ui=en&channel=chat")
    page.locator("#paste-toggle").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "message"
    page.keyboard.insert_text("hi\nI want to cancel my order FH-1112223\nalso how do I reset my password? thanks, John")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("section.need >> nth=1")
    assert page.locator("section.need h2").first.inner_text() == "Question 1: I want to cancel my order FH-1112223"
    assert page.locator("#combined-heading").inner_text() == "Reply to the whole message"
    values = page.locator("dl.values").inner_text()
    assert "FH-1112223" in values and "John" in values
    page.keyboard.press("Escape")
    assert page.locator("#assist-form").is_hidden()
    assert page.evaluate("document.activeElement.id") == "q"


def test_a_passage_cut_from_a_table_is_a_table_on_its_card(page):
    page.goto("/?q=angrerett+frister+hva+frist")
    table = page.locator("li.card .passage table.passage-table").first
    assert table.locator("th").all_inner_texts()[:2] == ["Hva", "Frist"]
    assert "|" not in page.locator("li.card .passage").first.inner_text()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                         ".then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)})))",
                         AXE_RULES)


def test_the_axe_check_finds_a_missing_heading(axe_page):
    page = axe_page
    page.goto("/")
    page.evaluate("document.querySelector('h1').remove()")
    assert [violation["id"] for violation in axe_violations(page)] == ["page-has-heading-one"]


@pytest.mark.parametrize("ui", ["nb", "en"])
def test_axe_finds_no_wcag_21_aa_violations_on_search_and_paste_mode(axe_page, ui):
    page = axe_page
    page.goto(f"/?ui={ui}")
    assert axe_violations(page) == []
    page.goto(f"/?ui={ui}&q=angrerett+frister")
    page.wait_for_selector("li.card")
    assert axe_violations(page) == []
    paste_into_search_box(page, PASTED)
    page.wait_for_selector("section.need")
    assert axe_violations(page) == []
