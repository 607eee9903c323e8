"""What the query log tells people, read-only: the editors' report of content gaps, article records and stale
articles (`editors`), and why customers contact the company per category, product and department (`reasons`).
Each returns one plain dict that the CLI and the web app only format.
"""
