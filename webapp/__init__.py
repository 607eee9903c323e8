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
# The largest request body: a pasted message plus JSON framing (escaped letters take up to six bytes), which
# also holds a 4,000-character question written with the longest escapes (12 bytes for a character outside
# the BMP, as `\ud83d\ude00` or `%F0%9F%98%80`); nothing the app accepts is larger.
MAX_BODY_BYTES = 4 * MAX_MESSAGE_CHARS + 4096


def create_app(settings: Settings | None = None, config: dict | None = None) -> Flask:
    """The app over `settings` (by default the KB_* environment): index, model and backend, query log, editor
    token, proxies. `config` holds the web layer's own knobs (TESTING, WARM_UP, RELOAD_SECONDS, the rate
    limits); nothing is loaded until first use."""
    settings = Settings.from_env() if settings is None else settings
    app = Flask(__name__)
    app.json = BoundedJSONProvider(app)
    app.config.from_mapping(
        WARM_UP=False,
        # How often each worker looks for a newly published index version, in seconds.
        RELOAD_SECONDS=RELOAD_SECONDS,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        FEEDBACK_PER_MINUTE=30,
        EVENTS_PER_MINUTE=120,
        LOGINS_PER_MINUTE=10,
        # Hand-offs and the customer's own feedback: a busy agent notes a few a minute.
        HANDOFFS_PER_MINUTE=30,
        CONTACT_FEEDBACK_PER_MINUTE=30,
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    app.extensions["kb.settings"] = settings
    searcher = Searcher(settings)
    searcher.reload_seconds = float(app.config["RELOAD_SECONDS"])
    app.extensions["kb.searcher"] = searcher
    app.extensions["kb.assistant"] = Assistant(searcher)
    # The query log and feedback (indexer/querylog/); settings.feedback=False logs nothing.
    store = open_store(settings.feedback_target) if settings.feedback else None
    app.extensions["kb.feedback"] = store
    app.extensions["kb.limits"] = rate_limits(app.config, store)

    app.extensions["kb.signed_out"] = SignedOutSessions(Path(settings.index_dir) / SIGNED_OUT_DB)

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
