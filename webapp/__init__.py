"""The agent's web app: a search page, article pages and a JSON API over the live index."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from indexer.assist import Assistant
from indexer.assist.request import MAX_MESSAGE_CHARS
from indexer.config import Settings
from indexer.querylog import open_store
from indexer.retrieval.search import RELOAD_SECONDS, Searcher
from webapp.sessions import SignedOutSessions

from .jsonbody import BoundedJSONProvider
from .limits import rate_limits

# Editor sign-ins signed out before they expired, beside the index versions.
SIGNED_OUT_DB = "signed-out.sqlite"


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then KB_* environment variables, then `config`; nothing is loaded until first use."""
    app = Flask(__name__)
    app.json = BoundedJSONProvider(app)
    settings = Settings.from_env()
    app.config.from_mapping(
        INDEX_DIR=str(settings.index_dir),
        MODEL=settings.model,
        WARM_UP=False,
        # How often each worker looks for a newly published index version, in seconds.
        RELOAD_SECONDS=RELOAD_SECONDS,
        # A pasted message plus JSON framing (escaped letters take up to six bytes), which also holds a
        # 4,000-character question written with the longest escapes (12 bytes for a character outside the
        # BMP, as `\ud83d\ude00` or `%F0%9F%98%80`); nothing the app accepts is larger.
        MAX_CONTENT_LENGTH=4 * MAX_MESSAGE_CHARS + 4096,
        JSON_SORT_KEYS=False,
        # The query log and feedback (indexer/querylog/); FEEDBACK=False logs nothing.
        FEEDBACK=settings.feedback,
        FEEDBACK_DB=settings.feedback_db,
        FEEDBACK_PER_MINUTE=30,
        EVENTS_PER_MINUTE=120,
        LOGINS_PER_MINUTE=10,
        # Hand-offs and the customer's own feedback: a busy agent notes a few a minute.
        HANDOFFS_PER_MINUTE=30,
        CONTACT_FEEDBACK_PER_MINUTE=30,
        # Editors' reports at /reports need this token; without one they are switched off.
        EDITOR_TOKEN=settings.editor_token,
        PROXY_HOPS=settings.proxy_hops,
        SECURE_COOKIES=settings.secure_cookies,
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    settings = settings.with_overrides(index_dir=app.config["INDEX_DIR"], model=app.config["MODEL"],
                                       feedback_db=app.config["FEEDBACK_DB"])
    searcher = Searcher(settings)
    searcher.reload_seconds = float(app.config["RELOAD_SECONDS"])
    app.extensions["kb.searcher"] = searcher
    app.extensions["kb.assistant"] = Assistant(searcher)
    store = open_store(settings.feedback_target) if app.config["FEEDBACK"] else None
    app.extensions["kb.feedback"] = store
    app.extensions["kb.limits"] = rate_limits(app.config, store)

    app.extensions["kb.signed_out"] = SignedOutSessions(Path(app.config["INDEX_DIR"]) / SIGNED_OUT_DB)

    from . import api, errors, i18n, reports, security, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(reports.bp)
    errors.register(app)
    security.register(app)
    i18n.register(app)
    if app.config["WARM_UP"]:
        searcher.warm_up()
    return app
