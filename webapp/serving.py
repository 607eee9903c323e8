"""Run the web app under gunicorn from inside the `kb serve` command."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from indexer.config import SERVING, Settings
from indexer.embedding import load_before_fork

from .accesslog import DEFAULT_ACCESS_LOG, gunicorn_options
from .refusals import MAX_REQUEST_LINE
from .worker import ServingWorker


class _KBServer(BaseApplication):
    def __init__(self, settings: Settings, app_config: dict, options: dict):
        self.settings = settings
        self.app_config = app_config
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from webapp import create_app

        return create_app(self.settings, self.app_config)


def run_server(settings: Settings, app_config: dict, host: str, port: int, workers: int = SERVING.workers,
               threads: int = SERVING.threads, access_log: str = DEFAULT_ACCESS_LOG) -> None:
    """Serve until interrupted. The model is loaded here, before gunicorn forks, when its workers can run it
    (see load_before_fork), so they share its memory; each worker builds its own app after the fork, since
    open databases and threads do not survive one."""
    load_before_fork(settings)
    options = {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": ServingWorker,
        "threads": max(1, threads),
        # Loading the model (when it is not loaded before the fork) takes several seconds per worker.
        "timeout": 120,
        "preload_app": False,
        # As long as gunicorn allows; longer questions go in a POST body (see /api/search and /results).
        "limit_request_line": MAX_REQUEST_LINE,
        **gunicorn_options(access_log),
    }
    _KBServer(settings, app_config, options).run()
