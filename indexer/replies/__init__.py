"""Replies an agent sends: the templates editors write under an article's reply headings and how placeholders are
filled (`templates`), the greeting and closing around a reply (`frame`), the public social-media variant
(`social`) and the suggester that picks the reply for a search and renders it for `/api/reply` (`suggest`).
"""
