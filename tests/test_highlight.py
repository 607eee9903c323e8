"""Marking the question's words in a passage: stems, not stopwords, and always escaped."""

from __future__ import annotations

from webapp.highlight import highlight


def test_inflections_are_marked_and_stopwords_are_not():
    marked = highlight("Kunden har angrerett i 14 dager.", "har kunden angreretten")
    assert str(marked) == "<mark>Kunden</mark> har <mark>angrerett</mark> i 14 dager."


def test_english_words_are_stemmed_too():
    assert str(highlight("The parcel was delivered.", "parcels delivered")) == (
        "The <mark>parcel</mark> was <mark>delivered</mark>."
    )


def test_html_in_passages_and_questions_is_escaped():
    marked = str(highlight("<b>faktura</b> & purring", "<script>faktura</script>"))
    assert marked == "&lt;b&gt;<mark>faktura</mark>&lt;/b&gt; &amp; purring"


def test_a_question_of_stopwords_marks_nothing():
    assert str(highlight("Hva er det?", "hva er det")) == "Hva er det?"
