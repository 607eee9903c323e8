"""The editors' report page, behind the editor token: content gaps, articles, staleness, charts, CSV."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from indexer.feedback import now
from indexer.reports import SECTIONS, as_csv, build_report

from . import querylog
from .charts import bar_chart, column_chart

bp = Blueprint("reports", __name__)

COOKIE = "kb_editor"
MAX_TOKEN_CHARS = 200
DEFAULT_DAYS = 30
MAX_DAYS = 3650


def _token() -> str:
    token = current_app.config["EDITOR_TOKEN"]
    if not token:
        abort(403, description="reports are switched off on this server: set KB_EDITOR_TOKEN to turn them on")
    return token


def _cookie_value(token: str) -> str:
    """What the login cookie holds: proof of the token, never the token itself."""
    return hmac.new(token.encode(), b"kb-assistant reports", hashlib.sha256).hexdigest()


def signed_in() -> bool:
    """Whether the request carries the editor token (Bearer header) or the cookie the login form set."""
    token = _token()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    return hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), _cookie_value(token).encode())


def _since() -> tuple[int, dt.datetime]:
    raw = request.args.get("days", str(DEFAULT_DAYS))
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        abort(400, description=f"days must be a whole number from 1 to {MAX_DAYS}")
    return days, now() - dt.timedelta(days=days)


def _report(since: dt.datetime) -> dict:
    store = querylog.store()
    if store is None:
        abort(503, description="the query log is switched off on this server (KB_FEEDBACK=0)")
    searcher = current_app.extensions["kb.searcher"]
    return build_report(store, searcher.version, searcher.embedder, since)


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
    return render_template("reports.html", report=report, charts=charts, days=days, sections=SECTIONS)


@bp.get("/reports.csv")
def reports_csv():
    """One section of the report as CSV (`section`, default articles)."""
    if not signed_in():
        abort(401, description="sign in at /reports or send the editor token as a Bearer header")
    section = request.args.get("section", "articles")
    if section not in SECTIONS:
        abort(400, description=f"section must be one of {', '.join(SECTIONS)}")
    _, since = _since()
    return Response(as_csv(_report(since), section), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="kb-report-{section}.csv"'})


@bp.get("/reports.json")
def reports_json():
    """The whole report as JSON, for scripts holding the editor token."""
    if not signed_in():
        abort(401, description="sign in at /reports or send the editor token as a Bearer header")
    _, since = _since()
    return jsonify({"ok": True, **_report(since)})


@bp.post("/reports/login")
def login():
    """Check the token from the form and remember the editor with a cookie."""
    token = _token()
    typed = request.form.get("token", "")[:MAX_TOKEN_CHARS]
    if not hmac.compare_digest(typed.encode(), token.encode()):
        return render_template("login.html", failed=True), 401
    response = redirect(url_for("reports.reports_page"))
    response.set_cookie(COOKIE, _cookie_value(token), max_age=12 * 3600, httponly=True, samesite="Strict",
                        secure=request.is_secure)
    return response


@bp.post("/reports/logout")
def logout():
    """Forget the editor's cookie."""
    response = redirect(url_for("pages.search_page"))
    response.delete_cookie(COOKIE)
    return response
