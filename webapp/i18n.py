"""The page's own words in bokmål and English, chosen by ?ui=, a cookie, or the browser's languages."""

from __future__ import annotations

from flask import Flask, g, request

UI_LANGUAGES = ("nb", "en")
DEFAULT_UI = "nb"

STRINGS = {
    "nb": {
        "app_title": "Kunnskapsbase",
        "search_label": "Kundens spørsmål",
        "search_placeholder": "Skriv eller lim inn det kunden spør om …",
        "search_button": "Søk",
        "no_results": "Ingen treff. Prøv andre ord, et produktnavn eller en feilkode.",
        "results_for": "Treff for",
        "open_article": "Åpne artikkelen",
        "more_from_article": "Flere avsnitt fra artikkelen",
        "owner": "Eier",
        "updated": "Oppdatert",
        "internal": "Internt – ikke del med kunden",
        "score": "Treffverdi",
        "index_version": "Indeksversjon",
        "indexed_at": "indeksert",
        "back_to_search": "Tilbake til søket",
        "error_title": "Noe gikk galt",
        "language_switch": "English",
        "hint": "Trykk / for å søke, ↑ ↓ for å velge treff og c for å kopiere svaret",
        "lang_nb": "norsk",
        "lang_en": "engelsk",
        "filter_lang": "Språk",
        "filter_category": "Kategori",
        "filter_product": "Produkt",
        "filter_audience": "Målgruppe",
        "filter_all": "Alle",
        "value_nb": "Norsk",
        "value_en": "Engelsk",
        "value_customer": "Kunde",
        "value_internal": "Intern",
        "channel_label": "Svar via",
        "channel_chat": "Chat",
        "channel_email": "E-post",
        "channel_phone": "Telefon",
        "reply_template": "Svarmal",
        "reply_extract": "Utdrag fra artikkelen",
        "source": "Kilde",
        "copy": "Kopier svaret",
        "copied": "Kopiert",
        "fill_in": "Fyll inn",
        "copy_failed": "Kunne ikke kopiere; merk teksten og kopier selv",
        "no_replies_internal": "Intern artikkel: ingen svarforslag til kunden.",
    },
    "en": {
        "app_title": "Knowledge base",
        "search_label": "The customer's question",
        "search_placeholder": "Type or paste what the customer asks …",
        "search_button": "Search",
        "no_results": "No results. Try other words, a product name or an error code.",
        "results_for": "Results for",
        "open_article": "Open the article",
        "more_from_article": "More passages from the article",
        "owner": "Owner",
        "updated": "Updated",
        "internal": "Internal – do not share with the customer",
        "score": "Score",
        "index_version": "Index version",
        "indexed_at": "indexed",
        "back_to_search": "Back to search",
        "error_title": "Something went wrong",
        "language_switch": "Norsk",
        "hint": "Press / to search, ↑ ↓ to pick a result and c to copy its reply",
        "lang_nb": "Norwegian",
        "lang_en": "English",
        "filter_lang": "Language",
        "filter_category": "Category",
        "filter_product": "Product",
        "filter_audience": "Audience",
        "filter_all": "All",
        "value_nb": "Norwegian",
        "value_en": "English",
        "value_customer": "Customer",
        "value_internal": "Internal",
        "channel_label": "Reply by",
        "channel_chat": "Chat",
        "channel_email": "E-mail",
        "channel_phone": "Phone",
        "reply_template": "Reply template",
        "reply_extract": "Extract from the article",
        "source": "Source",
        "copy": "Copy reply",
        "copied": "Copied",
        "fill_in": "Fill in",
        "copy_failed": "Could not copy; select the text and copy it yourself",
        "no_replies_internal": "Internal article: no replies for the customer.",
    },
}


def choose_language() -> str:
    """?ui= first, then the cookie the switch sets, then Accept-Language (Norwegian tags count as nb)."""
    for candidate in (request.args.get("ui"), request.cookies.get("ui")):
        if candidate in UI_LANGUAGES:
            return candidate
    best = request.accept_languages.best_match(["nb", "no", "nn", "en"], default=DEFAULT_UI)
    return "en" if best == "en" else "nb"


def translate(key: str) -> str:
    """The UI string for `key` in the request's language."""
    return STRINGS[g.get("ui", DEFAULT_UI)].get(key, key)


def register(app: Flask) -> None:
    """Pick the language per request, remember an explicit choice, and give templates `t` and `ui`."""

    @app.before_request
    def set_language():
        g.ui = choose_language()

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("ui")
        if chosen in UI_LANGUAGES:
            response.set_cookie("ui", chosen, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    @app.context_processor
    def inject():
        return {"t": translate, "ui": g.get("ui", DEFAULT_UI), "other_ui": "en" if g.get("ui") == "nb" else "nb"}
