"""Knowledge-base assistant: index Markdown articles and search them by meaning."""

__version__ = "0.1.0"
