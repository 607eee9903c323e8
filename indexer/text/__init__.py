"""Text analysis every layer shares: which language a text is in (`language`), the keyword analyzer and its BM25
index (`lexical`), and the masking of personal data before anything is stored or logged (`privacy`); nothing
here knows about articles, indexes or the web.
"""
