"""The agent's web app: a search page, article pages and a JSON API over the live index."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from indexer.config import MAX_QUERY_CHARS, Settings
from indexer.feedback import FEEDBACK_DB, SQLiteFeedbackStore
from indexer.search import RELOAD_SECONDS, Searcher

from .limits import RateLimit


def settings_flag(name: str, default: bool) -> bool:
    """An on/off environment variable: 0, false, no and off mean off."""
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("0", "false", "no", "off")


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then KB_* environment variables, then `config`; nothing is loaded until first use."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.from_mapping(
        INDEX_DIR=str(settings.index_dir),
        MODEL=settings.model,
        WARM_UP=False,
        # How often each worker looks for a newly published index version, in seconds.
        RELOAD_SECONDS=RELOAD_SECONDS,
        # A question plus JSON framing; nothing the app accepts is larger.
        MAX_CONTENT_LENGTH=4 * MAX_QUERY_CHARS + 4096,
        JSON_SORT_KEYS=False,
        # The query log and feedback (indexer/feedback.py); FEEDBACK=False logs nothing.
        FEEDBACK=settings_flag("KB_FEEDBACK", True),
        FEEDBACK_DB=str(settings.feedback_db) if settings.feedback_db else None,
        RETENTION_DAYS=settings.retention_days,
        FEEDBACK_PER_MINUTE=30,
        EVENTS_PER_MINUTE=120,
        # Editors' reports at /reports need this token; without one they are switched off.
        EDITOR_TOKEN=os.environ.get("KB_EDITOR_TOKEN") or None,
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    searcher = Searcher(settings.with_overrides(index_dir=app.config["INDEX_DIR"], model=app.config["MODEL"]))
    searcher.reload_seconds = float(app.config["RELOAD_SECONDS"])
    app.extensions["kb.searcher"] = searcher
    feedback_db = app.config["FEEDBACK_DB"] or Path(app.config["INDEX_DIR"]) / FEEDBACK_DB
    app.extensions["kb.feedback"] = SQLiteFeedbackStore(Path(feedback_db)) if app.config["FEEDBACK"] else None
    app.extensions["kb.limits"] = {"feedback": RateLimit(app.config["FEEDBACK_PER_MINUTE"]),
                                   "events": RateLimit(app.config["EVENTS_PER_MINUTE"])}

    from . import api, errors, i18n, reports, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(reports.bp)
    errors.register(app)
    i18n.register(app)
    if app.config["WARM_UP"]:
        searcher.warm_up()
    return app
