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
        "rate_label": "Vurder treffet",
        "rate_helped": "Hjalp",
        "rate_wrong": "Feil svar",
        "rate_outdated": "Utdatert",
        "rate_comment": "Kommentar (valgfritt)",
        "rate_thanks": "Takk, redaktørene får beskjed.",
        "rate_failed": "Vurderingen ble ikke lagret.",
        "reports_title": "Rapport for redaktører",
        "editor_token": "Redaktørnøkkel",
        "sign_in": "Logg inn",
        "sign_out": "Logg ut",
        "wrong_token": "Feil nøkkel.",
        "report_days": "Siste dager",
        "report_summary": "%d søk, %d der et svar ble brukt, %d vurderinger.",
        "report_empty": "Loggen er tom for denne perioden: ingen har søkt eller vurdert ennå.",
        "report_gaps": "Innholdshull: spørsmål uten godt svar eller merket feil",
        "report_count": "Antall",
        "report_examples": "Eksempler",
        "report_wrong": "Merket feil",
        "report_last": "Sist",
        "report_none": "Ingen.",
        "report_charts": "Utvikling",
        "chart_searches": "Søk per dag",
        "chart_used": "Andel søk der et svar ble brukt",
        "chart_helpful": "Andel vurderinger som sa «hjalp», per kategori",
        "report_articles": "Artikler",
        "report_article": "Artikkel",
        "report_shown": "Vist",
        "report_used": "Brukt",
        "report_stale": "Utgått eller snart til gjennomgang",
        "report_overdue": "forfalt",
        "report_due": "snart",
        "report_never_shown": "Aldri vist i perioden",
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
        "rate_label": "Rate this result",
        "rate_helped": "Helped",
        "rate_wrong": "Wrong answer",
        "rate_outdated": "Outdated",
        "rate_comment": "Comment (optional)",
        "rate_thanks": "Thanks, the editors will hear of it.",
        "rate_failed": "The rating was not saved.",
        "reports_title": "Report for editors",
        "editor_token": "Editor token",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "wrong_token": "Wrong token.",
        "report_days": "Last days",
        "report_summary": "%d searches, %d with an answer used, %d ratings.",
        "report_empty": "The log is empty for this period: nobody has searched or rated yet.",
        "report_gaps": "Content gaps: questions with no good answer or marked wrong",
        "report_count": "Count",
        "report_examples": "Examples",
        "report_wrong": "Marked wrong",
        "report_last": "Last",
        "report_none": "None.",
        "report_charts": "Trends",
        "chart_searches": "Searches per day",
        "chart_used": "Share of searches with an answer used",
        "chart_helpful": "Share of ratings that said helped, by category",
        "report_articles": "Articles",
        "report_article": "Article",
        "report_shown": "Shown",
        "report_used": "Used",
        "report_stale": "Stale or due for review",
        "report_overdue": "overdue",
        "report_due": "due",
        "report_never_shown": "Never shown in the period",
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
