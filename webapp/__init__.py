"""The agent's web app: a search page, article pages and a JSON API over the live index."""

from __future__ import annotations

from flask import Flask

from indexer.config import MAX_QUERY_CHARS, Settings
from indexer.search import RELOAD_SECONDS, Searcher


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
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    searcher = Searcher(settings.with_overrides(index_dir=app.config["INDEX_DIR"], model=app.config["MODEL"]))
    searcher.reload_seconds = float(app.config["RELOAD_SECONDS"])
    app.extensions["kb.searcher"] = searcher

    from . import api, errors, i18n, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    errors.register(app)
    i18n.register(app)
    if app.config["WARM_UP"]:
        searcher.warm_up()
    return app
