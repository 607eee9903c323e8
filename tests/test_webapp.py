"""The Flask app through its test client: JSON API, error envelopes, the agent page and article pages."""

from __future__ import annotations

import pytest

API_KEYS = {"rank", "score", "article_id", "title", "section", "anchor", "lang", "path", "text", "metadata", "more"}


def test_search_api_shape(client):
    response = client.get("/api/search", query_string={"q": "pakken har ikke kommet", "k": 4})
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["ok"] is True
    assert payload["query"] == "pakken har ikke kommet"
    assert len(payload["results"]) == 4
    assert all(set(result) >= API_KEYS for result in payload["results"])
    scores = [result["score"] for result in payload["results"]]
    assert scores == sorted(scores, reverse=True)
    assert len({result["article_id"] for result in payload["results"]}) == 4


def test_api_and_cli_return_the_same_results(client, sample_index):
    from indexer.retrieval.search import Searcher

    direct = Searcher(sample_index).search("faktura purregebyr", k=5).as_dict()
    via_api = client.get("/api/search?q=faktura purregebyr&k=5&replies=0").get_json()
    assert isinstance(via_api.pop("search_id"), str)
    assert via_api == {"ok": True, **direct}


def test_health(client):
    payload = client.get("/api/health").get_json()
    assert payload["ok"] is True
    index = payload["index"]
    assert index["articles"] == 45
    assert index["passages"] > 300
    assert index["model"] == "multilingual-e5-small"
    assert index["dimension"] == 384


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("/api/search?q=", 400, "the question is empty"),
        ("/api/search?q=%20%20", 400, "the question is empty"),
        ("/api/search?q=" + "a" * 4001, 400, "the question is 4,001 characters long; the limit is 4,000"),
        ("/api/search?q=x&k=0", 400, "k must be between 1 and 50"),
        ("/api/search?q=x&k=51", 400, "k must be between 1 and 50"),
        ("/api/search?q=x&k=ten", 400, "k must be a whole number, not 'ten'"),
    ],
)
def test_bad_api_requests_get_a_400_envelope(client, url, status, error):
    response = client.get(url)
    assert response.status_code == status
    assert response.get_json() == {"ok": False, "error": error, "status": status}


@pytest.mark.parametrize(("method", "url", "status"), [("get", "/api/nothing", 404), ("delete", "/api/search", 405)])
def test_every_api_error_is_an_envelope(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    payload = response.get_json()
    assert payload["ok"] is False
    assert payload["status"] == status
    assert payload["error"]


def test_a_405_says_what_is_allowed(client):
    response = client.delete("/api/search")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert client.get("/api/feedback").headers["Allow"] in ("POST, OPTIONS", "OPTIONS, POST")
    page = client.put("/results")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_missing_index_is_a_503_envelope(tmp_path):
    from indexer.config import Settings
    from webapp import create_app

    client = create_app(Settings(index_dir=tmp_path / "none"), {"TESTING": True}).test_client()
    response = client.get("/api/search?q=angrerett")
    assert response.status_code == 503
    assert response.get_json()["error"].startswith("no index in ")
    page = client.get("/?q=angrerett")
    assert page.status_code == 503
    assert "Noe gikk galt" in page.get_data(as_text=True)


def test_page_has_focused_search_box(client):
    html = client.get("/").get_data(as_text=True)
    assert '<input id="q" name="q" type="search"' in html
    assert "autofocus" in html
    assert 'lang="nb"' in html
    assert "Kundens spørsmål" in html


def test_page_in_english(client):
    html = client.get("/?ui=en", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert "The customer&#39;s question" in html
    assert 'lang="en"' in html


def test_page_language_follows_the_browser(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Type or paste what the customer asks" in html


def test_result_cards(client):
    html = client.get("/?q=angrerett 14 dager").get_data(as_text=True)
    assert '<ol class="results" data-search-id="' in html
    assert '<a href="/articles/retur/angrerett?from=' in html
    assert "<mark>angrerett</mark>" in html.lower()
    assert "Eier: Kundeservice" in html
    assert "Oppdatert 2026-" in html


def test_results_fragment_for_the_script(client):
    html = client.get("/results?q=robotstøvsuger kobler ikke til wifi").get_data(as_text=True)
    assert html.lstrip().startswith("<ol class=\"results\" data-search-id=")
    assert "<html" not in html
    assert "/articles/produkter/rs-300-robotstovsuger" in html


def test_query_is_escaped_on_the_page(client):
    html = client.get("/?q=<script>alert(1)</script> faktura").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_internal_articles_are_marked(client):
    html = client.get("/?q=hvordan eskalerer jeg til vakthavende teamleder").get_data(as_text=True)
    assert "Internt – ikke del med kunden" in html


def test_article_page(client):
    response = client.get("/articles/retur/angrerett")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1 id=" in html
    assert "Angrerett ved kjøp på nett, telefon og chat" in html
    assert "<script>" not in html.split("<main>")[1].split("</main>")[0]


def test_unknown_article_is_a_friendly_404(client):
    response = client.get("/articles/finnes/ikke")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Noe gikk galt (404)" in html
    assert "no article &#39;finnes/ikke&#39; in the index" in html


def test_footer_shows_index_version(client):
    health = client.get("/api/health").get_json()["index"]
    html = client.get("/").get_data(as_text=True)
    assert health["version"] in html


def test_filters_narrow_the_results(client):
    payload = client.get("/api/search?q=return the goods&lang=en&k=10").get_json()
    assert payload["filters"] == {"lang": "en"}
    assert payload["results"]
    assert {result["lang"] for result in payload["results"]} == {"en"}

    internal = client.get("/api/search?q=eskalering&audience=internal&k=10").get_json()["results"]
    assert internal and {r["metadata"]["audience"] for r in internal} == {"internal"}

    product = client.get("/api/search?q=feilkode&product=KM-700&k=10").get_json()["results"]
    assert product and all("KM-700" in r["metadata"]["products"] for r in product)

    category = client.get("/api/search?q=penger&category=betaling&k=10").get_json()["results"]
    assert category and {r["metadata"]["category"] for r in category} == {"betaling"}


def test_a_filter_nothing_matches_gives_an_empty_list(client):
    payload = client.get("/api/search?q=angrerett&product=NO-SUCH").get_json()
    assert (payload["ok"], payload["results"]) == (True, [])


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("/api/search?q=x&mode=magic", "mode must be one of hybrid, dense, lexical"),
        ("/api/search?q=x&audience=everyone", "audience must be one of customer, internal"),
        ("/api/search?q=x&product=" + "p" * 101, "filter product must be text of at most 100 characters"),
    ],
)
def test_bad_filters_are_400(client, url, error):
    response = client.get(url)
    assert response.status_code == 400
    assert response.get_json()["error"] == error


@pytest.mark.parametrize(
    "question",
    ["og i på", "?!?", '"angrerett" OR NEAR(x*) : --', "x" * 2000, "angrerett " * 200,
     "kunden wants a refund på faktura"],
)
def test_awkward_questions_never_fail(client, question):
    response = client.get("/api/search", query_string={"q": question})
    assert response.status_code == 200
    assert response.get_json()["ok"] is True


def test_modes_and_side_scores(client):
    for mode in ("dense", "lexical", "hybrid"):
        payload = client.get(f"/api/search?q=right of withdrawal 14 days&mode={mode}").get_json()
        assert payload["lang"] == "en"
        assert "retur/right-of-withdrawal" in [result["article_id"] for result in payload["results"][:3]]
        scores = payload["results"][0]["scores"]
        assert (scores["dense"] is not None) == (mode != "lexical")
        assert (scores["lexical"] is not None) == (mode != "dense")


def test_bokmål_question_without_known_words_is_filled_by_meaning(client):
    payload = client.get("/api/search?q=hvordan kan jeg qwertyuiop zxcvb&k=3").get_json()
    assert payload["lang"] == "nb"
    assert len(payload["results"]) == 3
    assert all(result["scores"]["lexical"] is None for result in payload["results"])
    assert all(result["scores"]["dense"] is not None for result in payload["results"])


def test_page_filters_are_selectable(client):
    html = client.get("/?q=faktura&lang=nb&category=betaling").get_data(as_text=True)
    assert '<select name="category">' in html
    assert '<option value="betaling" selected>' in html
    assert '<option value="nb" selected>Norsk</option>' in html


def test_health_lists_facets(client):
    facets = client.get("/api/health").get_json()["facets"]
    assert facets["lang"] == ["en", "nb"]
    assert "AU55-Q4" in facets["product"]
    assert facets["audience"] == ["customer", "internal"]
