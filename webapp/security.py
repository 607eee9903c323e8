"""Headers every answer carries, and the proxy in front of the app when an operator says there is one."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# Only the app's own script and style, no framing by other sites, no plugins, forms only to this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The search page's URL holds the question: other sites never see it as a referrer.
    "Referrer-Policy": "same-origin",
}


def register(app: Flask) -> None:
    """Security headers on every response; ProxyFix when PROXY_HOPS trusted proxies stand in front."""

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    hops = app.extensions["kb.settings"].proxy_hops
    if hops > 0:
        # The client's address, scheme and host as the proxy saw them, so the editor cookie is Secure
        # behind a TLS-terminating proxy and rate limits count clients, not the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
