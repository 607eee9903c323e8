"""The editors' report page, behind the editor token: content gaps, articles, staleness, contact reasons,
charts, CSV."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from indexer.reports.editors import as_csv, build_report, check_section
from indexer.reports.period import DEFAULT_DAYS, period_start
from indexer.reports.reasons import build_reasons, reasons_csv
from indexer.vocabulary import EDITOR_SECTIONS, REASON_SECTIONS

from . import querylog
from .charts import bar_chart, column_chart

bp = Blueprint("reports", __name__)

COOKIE = "kb_editor"
# How long a sign-in lasts; the expiry is inside the signed cookie, so a copied cookie stops working too.
SIGN_IN_SECONDS = 12 * 3600
MAX_TOKEN_CHARS = 200
# A cookie as this server writes it: expiry in Unix seconds (ASCII digits: int() would also take '²'),
# the sign-in's session id, and the proof.
COOKIE_VALUE = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{16})\.[0-9a-f]{64}")
DAYS = re.compile(r"[0-9]{1,4}")


def _token() -> str:
    token = current_app.extensions["kb.settings"].editor_token
    if not token:
        abort(403, description="reports are switched off on this server: set KB_EDITOR_TOKEN to turn them on")
    return token


def _cookie_value(token: str, expires: int, session: str) -> str:
    """What the login cookie holds: its expiry, a session id to sign out, and proof of the token for both,
    never the token itself."""
    message = f"kb-assistant reports until {expires} for session {session}".encode()
    proof = hmac.new(token.encode(), message, hashlib.sha256).hexdigest()
    return f"{expires}.{session}.{proof}"


def _valid_session(token: str) -> tuple[str, int] | None:
    """The session id and expiry of the request's cookie when it is unexpired and genuine, else None."""
    cookie = request.cookies.get(COOKIE, "")
    match = COOKIE_VALUE.fullmatch(cookie)
    if not match or int(match.group(1)) < time.time():
        return None
    expires, session = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(cookie.encode(), _cookie_value(token, expires, session).encode()):
        return None
    return session, expires


def _same_site_only() -> None:
    """403 for a sign-in or sign-out posted by another site's page (a cross-site form could sign an editor
    out, or into a session of the attacker's choosing)."""
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site") or (
            origin is not None and origin != request.host_url.rstrip("/")):
        abort(403, description="signing in and out is accepted only from this site's own pages")


def count_sign_in_attempt() -> None:
    """A 429 once this client has tried the token too often in a minute (form and Bearer header together)."""
    if not current_app.extensions["kb.limits"]["login"].allow(querylog.client_key()):
        abort(429, description="too many sign-in attempts from this client; try again in a minute")


def signed_in() -> bool:
    """Whether the request carries the editor token (Bearer header) or an unexpired cookie from the login form.

    Every request with a Bearer header is a sign-in attempt and counts against the same limit as the form.
    """
    token = _token()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        count_sign_in_attempt()
        if hmac.compare_digest(header[7:].encode(), token.encode()):
            return True
    session = _valid_session(token)
    return session is not None and not current_app.extensions["kb.signed_out"].is_signed_out(session[0])


def require_editor() -> None:
    """A 401 for scripts and downloads without the editor token or cookie."""
    if not signed_in():
        abort(401, description="sign in at /reports or send the editor token as a Bearer header")


def _since() -> tuple[int, dt.datetime]:
    raw = request.args.get("days", str(DEFAULT_DAYS))
    days = int(raw) if DAYS.fullmatch(raw) else 0
    return days, period_start(days)


def _report(since: dt.datetime) -> dict:
    searcher = current_app.extensions["kb.searcher"]
    return build_report(querylog.required_store(), searcher.version, searcher.embedder, since)


def _reasons(since: dt.datetime) -> dict:
    return build_reasons(querylog.required_store(), current_app.extensions["kb.searcher"].version, since)


def _reason_charts(reasons: dict) -> dict:
    """Escalations per department, and searches per week by category (the latest week's categories)."""
    escalated = [(row["value"], row["escalations"]) for row in reasons["reasons"]
                 if row["dimension"] == "department" and row["escalations"]]
    per_department: dict[str, int] = {}
    for department, count in escalated:
        per_department[department] = per_department.get(department, 0) + count
    weeks: dict[str, int] = {}
    for row in reasons["reasons"]:
        if row["dimension"] == "category":
            weeks[row["week"]] = weeks.get(row["week"], 0) + row["searches"]
    return {
        "escalations": bar_chart([(name, count, "") for name, count in sorted(per_department.items())],
                                 "escalations per department", percent=False),
        "weeks": column_chart(sorted(weeks.items()), "searches per week"),
    }


@bp.get("/reports")
def reports_page():
    """The report, or the sign-in form for editors."""
    if not signed_in():
        return render_template("login.html", failed=False), 401
    days, since = _since()
    report = _report(since)
    charts = {
        "searches": column_chart([(d["day"], d["searches"]) for d in report["days"]], "searches per day"),
        "used": column_chart([(d["day"], d["used_share"]) for d in report["days"]],
                             "share of searches with an answer used", percent=True),
        "helpful": bar_chart([(c["category"], c["helped_share"], f"({c['ratings']})") for c in report["categories"]],
                             "share of ratings that said helped, by category"),
    }
    reasons = _reasons(since)
    return render_template("reports.html", report=report, charts=charts, days=days, sections=EDITOR_SECTIONS,
                           reasons=reasons, reason_charts=_reason_charts(reasons), reason_sections=REASON_SECTIONS)


@bp.get("/reports.csv")
def reports_csv():
    """One section of the report as CSV (`section`, default articles)."""
    require_editor()
    section = check_section(request.args.get("section", "articles"))
    _, since = _since()
    text = reasons_csv(_reasons(since), section) if section in REASON_SECTIONS else as_csv(_report(since), section)
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="kb-report-{section}.csv"'})


@bp.get("/reports.json")
def reports_json():
    """The whole report, and the contact reasons under `reasons`, as JSON for scripts holding the editor token."""
    require_editor()
    _, since = _since()
    return jsonify({"ok": True, **_report(since), "reasons": _reasons(since)})


@bp.post("/reports/login")
def login():
    """Check the token from the form and remember the editor with a cookie; guesses are rate limited."""
    token = _token()
    _same_site_only()
    count_sign_in_attempt()
    typed = request.form.get("token", "")[:MAX_TOKEN_CHARS]
    if not hmac.compare_digest(typed.encode(), token.encode()):
        return render_template("login.html", failed=True), 401
    response = redirect(url_for("reports.reports_page"))
    expires = int(time.time()) + SIGN_IN_SECONDS
    response.set_cookie(COOKIE, _cookie_value(token, expires, secrets.token_urlsafe(12)), max_age=SIGN_IN_SECONDS,
                        httponly=True, samesite="Strict", secure=_secure())
    return response


def _secure() -> bool:
    """Whether the cookie is marked Secure: on HTTPS (as a trusted proxy reports it too), or always if configured."""
    return request.is_secure or current_app.extensions["kb.settings"].secure_cookies


@bp.post("/reports/logout")
def logout():
    """Sign the editor out: the cookie's session is refused from now on, wherever a copy of it is."""
    _same_site_only()
    token = current_app.extensions["kb.settings"].editor_token
    session = _valid_session(token) if token else None
    if session is not None:
        current_app.extensions["kb.signed_out"].sign_out(*session)
    response = redirect(url_for("pages.search_page"))
    response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=_secure())
    return response
