"""Turning a KB folder into a live index version: the incremental build that reuses the vectors of unchanged
articles and switches atomically (`builder`), the watcher that rebuilds on change (`watch`) and `kb check`,
which finds what an editor must fix before publishing (`checks`).
"""
