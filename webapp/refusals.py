"""What gunicorn itself refuses (a request line or headers too large, broken HTTP) answered in the API's
JSON envelope, and logged without the client's address or the request line, which may hold a question."""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

# gunicorn's largest allowed request line (its limit_request_line may be at most 8190 bytes).
MAX_REQUEST_LINE = 8190

REFUSALS = (
    (errors.LimitRequestLine, 414, "URI Too Long",
     f"the request line is longer than {MAX_REQUEST_LINE:,} bytes; send long questions with POST"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "the request headers are too large"),
    (errors.UnsupportedTransferCoding, 501, "Not Implemented", "unsupported transfer coding"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden", "proxy requests are refused"),
    (errors.ExpectationFailed, 417, "Expectation Failed", "only 'Expect: 100-continue' is understood"),
)
# Raised by gunicorn when the application, not the client, got something wrong.
SERVER_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName, errors.ConfigurationProblem)


def refusal(exc: BaseException) -> tuple[int, str, str]:
    """Status, reason phrase and message for an error gunicorn hit while reading or answering a request."""
    for kind, status, reason, message in REFUSALS:
        if isinstance(exc, kind):
            return status, reason, message
    if isinstance(exc, errors.ParseException) and not isinstance(exc, SERVER_FAULTS):
        return 400, "Bad Request", "the request is not valid HTTP"
    return 500, "Internal Server Error", "internal error; the details are in the server log"


def envelope_bytes(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP response carrying the JSON error envelope."""
    body = json.dumps({"ok": False, "error": message, "status": status}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class EnvelopeWorker(ThreadWorker):
    """gunicorn's threaded worker, answering its own refusals as JSON envelopes."""

    def handle_error(self, req, client, addr, exc):
        """Log what went wrong without personal data, log the request, answer with the envelope."""
        status, reason, message = refusal(exc)
        path = getattr(req, "path", None) or "(request not read)"
        if status == 500:
            self.log.exception("error handling a request to %s", path)
        else:
            self.log.warning("refused a request to %s: %s %s", path, status, type(exc).__name__)
        try:
            util.write_nonblock(client, envelope_bytes(status, reason, message))
        except Exception:  # the client may be gone; nothing more to tell it
            self.log.debug("could not send the error response")
