"""gunicorn's request log without personal data: paths and statuses by default, masked details on request.

gunicorn's own access log writes the client address and the whole request line, and so every question
asked through `/api/search?q=...`, unmasked, to standard output, where no retention period reaches it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gunicorn.glogging import Logger

from indexer.errors import KBError
from indexer.text.privacy import mask_address, mask_query_string

# off: no request log; paths: time, method, path, status, size and duration; full: also the query string,
# the referring page's path and query, the user agent and the client's network (all masked).
ACCESS_LOG_MODES = ("off", "paths", "full")
DEFAULT_ACCESS_LOG = "paths"
FORMATS = {
    "paths": '%(t)s "%(r)s" %(s)s %(b)s %(M)sms',
    "full": '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"',
}


def check_mode(mode: str) -> str:
    """The access-log mode, or KBError naming the choices."""
    if mode not in ACCESS_LOG_MODES:
        raise KBError(f"access log must be one of {', '.join(ACCESS_LOG_MODES)}, not {mode!r}")
    return mode


class PrivateAccessLogger(Logger):
    """Writes the request line as method and path only; with `full`, adds the masked query and address."""

    full = False

    def atoms(self, resp, req, environ, request_time):
        """gunicorn's log fields with everything personal removed or masked."""
        atoms = super().atoms(resp, req, environ, request_time)
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "")
        if self.full and query:
            target += "?" + mask_query_string(query)
        atoms.update({
            "r": f"{environ.get('REQUEST_METHOD', '-')} {target} {environ.get('SERVER_PROTOCOL', '-')}",
            "q": mask_query_string(query) if self.full else "",
            "h": mask_address(environ.get("REMOTE_ADDR")) if self.full else "-",
            "f": _masked_referer(environ.get("HTTP_REFERER")) if self.full else "-",
        })
        # Request and response headers and the WSGI environment carry cookies, tokens and the raw URI.
        return {key: value for key, value in atoms.items() if not key.startswith("{")}


class FullAccessLogger(PrivateAccessLogger):
    """The `full` mode."""

    full = True


def _masked_referer(referer: str | None) -> str:
    if not referer:
        return "-"
    parts = urlsplit(referer)
    return parts.path + ("?" + mask_query_string(parts.query) if parts.query else "")


def gunicorn_options(mode: str) -> dict:
    """The gunicorn settings for an access-log mode."""
    if check_mode(mode) == "off":
        return {"accesslog": None}
    return {"accesslog": "-", "access_log_format": FORMATS[mode],
            "logger_class": FullAccessLogger if mode == "full" else PrivateAccessLogger}
