"""Headers every answer carries, the editor cookie behind a TLS-terminating proxy, and signing out."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.reports import COOKIE

TOKEN = "redaktør-nøkkel-123"


@pytest.fixture
def make_app(sample_index, tmp_path):
    def make(**changes):
        return create_app(sample_index.with_overrides(feedback_db=str(tmp_path / "f.sqlite"), editor_token=TOKEN,
                                                      **changes),

                          {"TESTING": True})
    return make


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/nothing", "/static/app.js", "/articles/retur/angrerett",
                                  "/reports"])
def test_every_answer_carries_the_security_headers(make_app, path):
    headers = make_app().test_client().get(path).headers
    assert headers["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def sign_in(client, **headers):
    return client.post("/reports/login", data={"token": TOKEN}, headers=headers)


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "kb.example"}
    plain = sign_in(make_app().test_client(), **forwarded).headers["Set-Cookie"]
    assert "Secure" not in plain, "without PROXY_HOPS the forwarded scheme is not believed"
    proxied = sign_in(make_app(proxy_hops=1).test_client(), Origin="https://kb.example", **forwarded)
    assert proxied.status_code == 302 and "; Secure" in proxied.headers["Set-Cookie"]
    forced = sign_in(make_app(secure_cookies=True).test_client()).headers["Set-Cookie"]
    assert "; Secure" in forced


def test_signing_out_revokes_the_cookie_everywhere(make_app):
    app = make_app()
    client = app.test_client()
    sign_in(client)
    cookie = client.get_cookie(COOKIE).value
    assert client.get("/reports.json").status_code == 200
    assert client.post("/reports/logout").status_code == 302
    copy = app.test_client()
    copy.set_cookie(COOKIE, cookie)
    assert copy.get("/reports.json").status_code == 401
    # A worker started later reads the same sign-out list.
    later = make_app().test_client()
    later.set_cookie(COOKIE, cookie)
    assert later.get("/reports.json").status_code == 401
    sign_in(client)
    assert client.get("/reports.json").status_code == 200


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}])
def test_another_site_cannot_sign_an_editor_in_or_out(make_app, headers):
    client = make_app().test_client()
    sign_in(client)
    response = client.post("/reports/logout", headers=headers)
    assert response.status_code == 403
    assert client.get("/reports.json").status_code == 200
    assert sign_in(make_app().test_client(), **headers).status_code == 403


def test_the_own_page_may_sign_out(make_app):
    client = make_app().test_client()
    sign_in(client)
    response = client.post("/reports/logout", headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 302
    assert client.get("/reports.json").status_code == 401


def test_proxy_settings_come_from_the_environment():
    from indexer.config import Settings
    from indexer.errors import KBError

    settings = Settings.from_env({"KB_PROXY_HOPS": "2", "KB_SECURE_COOKIES": "1"})
    assert (settings.proxy_hops, settings.secure_cookies) == (2, True)
    assert Settings.from_env({}).proxy_hops == 0
    with pytest.raises(KBError, match=r"^KB_PROXY_HOPS must be a whole number of at least 0, not '٣'$"):
        Settings.from_env({"KB_PROXY_HOPS": "٣"})
