"""The serving worker: gunicorn's threaded worker with JSON refusals, ending without C++ exit handlers.

The model's onnxruntime session is made before gunicorn forks (see load_before_fork), so its thread pools
belong to the parent. A forked worker that leaves through the interpreter's normal exit runs their C++
destructors, which join threads the child never had and abort ("terminate called after throwing
std::system_error"), so gunicorn logs every graceful stop as a crash. Once the worker has finished its last
request it closes what it opened, flushes its logs and leaves with os._exit, which runs no such destructors.
"""

from __future__ import annotations

import logging
import os
import sys

from .refusals import EnvelopeWorker


class ServingWorker(EnvelopeWorker):
    """The worker `kb serve` runs: EnvelopeWorker's requests, a clean exit."""

    def run(self):
        """Serve until told to stop (gunicorn finishes in-flight requests first), then end the process."""
        super().run()
        self.log.info("Worker exiting (pid: %s)", self.pid)
        store = getattr(self.wsgi, "extensions", {}).get("kb.feedback")
        try:
            if store is not None:
                store.close()
        except Exception:  # the process ends either way; say why the log may have lost its connection
            self.log.exception("could not close the query log")
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)
