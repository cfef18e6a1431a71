"""The rule-based sentence splitter and the corpus reader."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albertlite.data.corpus import read_documents
from albertlite.data.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        # abbreviations that precede a name or a number
        ("Dr. Smith met Mr. Jones. They talked.", ["Dr. Smith met Mr. Jones.", "They talked."]),
        ("See Fig. 3 and No. 5 in Vol. 2. Then stop.", ["See Fig. 3 and No. 5 in Vol. 2.", "Then stop."]),
        ("Apples vs. Oranges is old. Yes.", ["Apples vs. Oranges is old.", "Yes."]),
        # initials and dotted acronyms
        ("J. R. R. Tolkien wrote it. It sold.", ["J. R. R. Tolkien wrote it.", "It sold."]),
        ("He moved to the U.S. in May. She stayed.", ["He moved to the U.S. in May.", "She stayed."]),
        ("Use e.g. Python or i.e. Rust. Done.", ["Use e.g. Python or i.e. Rust.", "Done."]),
        # abbreviations that may end a sentence split before a capital only
        ("Buy milk, eggs, etc. and bread. Go.", ["Buy milk, eggs, etc. and bread.", "Go."]),
        ("Buy milk, eggs, etc. Then go.", ["Buy milk, eggs, etc.", "Then go."]),
        # decimals, versions, prices, URLs
        ("Pi is 3.14 and e is 2.72. Python 3.11.7 is out.", ["Pi is 3.14 and e is 2.72.", "Python 3.11.7 is out."]),
        ("It cost $4.50 at example.com today. Cheap.", ["It cost $4.50 at example.com today.", "Cheap."]),
        # quotes and brackets
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ('"Why?" she asked. "Because."', ['"Why?" she asked.', '"Because."']),
        ("It ended (finally.) Next came more.", ["It ended (finally.)", "Next came more."]),
        ("Done. (A new one.) Right.", ["Done.", "(A new one.)", "Right."]),
        ("He wrote: ‘Hi.’ ‘Bye.’", ["He wrote: ‘Hi.’", "‘Bye.’"]),
        # ellipses
        ("Wait... what was that? Nothing… Really.", ["Wait... what was that?", "Nothing…", "Really."]),
        ("And then... The end.", ["And then...", "The end."]),
        # a number starts a sentence; lower case never does
        ("It was 1999. 2000 came next. ok. fine", ["It was 1999.", "2000 came next. ok. fine"]),
        ("Really?! Yes!!", ["Really?!", "Yes!!"]),
        # whitespace and line breaks
        ("  A line\nwrapped here.\n\nNext   one.  ", ["A line wrapped here.", "Next one."]),
        ("", []),
        ("   \n ", []),
        ("No terminator at all", ["No terminator at all"]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_split_keeps_every_character():
    text = 'Mr. A. B. Smith (b. 1950) said "Hi." Then... nothing? Yes! Version 2.0 e.g. works. Ok.'
    assert "".join(split_sentences(text)).replace(" ", "") == text.replace(" ", "")


def test_read_documents_lines(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("One.\n  Two.  \n\n\n\nThree.\nFour.\n", encoding="utf-8")  # a run of blank lines
    second.write_text("Five.\n\nSix.", encoding="utf-8")  # the end of a file ends a document; no final newline
    assert list(read_documents([first, second])) == [["One.", "Two."], ["Three.", "Four."], ["Five."], ["Six."]]


def test_read_documents_paragraphs(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Dr. Who came. He left\nagain. Bye.\n\nA second paragraph.\n", encoding="utf-8")
    documents = list(read_documents([path], text_format="paragraphs"))
    assert documents == [["Dr. Who came.", "He left again.", "Bye."], ["A second paragraph."]]


def test_read_documents_streams_and_checks_the_format(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("".join(f"Sentence {i}.\n\n" for i in range(1000)), encoding="utf-8")
    documents = read_documents([path])
    assert next(documents) == ["Sentence 0."] and next(documents) == ["Sentence 1."]  # lazily, one at a time
    with pytest.raises(ValueError, match="text_format"):
        next(read_documents([path], text_format="json"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"Aa1 .!?…\"'()”’\n", "Mr", "U.S", "e.g", "..."]), max_size=60).map("".join))
def test_split_never_loses_or_invents_text(text):
    sentences = split_sentences(text)
    assert "".join(sentences).replace(" ", "") == "".join(text.split())
    assert all(sentence == sentence.strip() and sentence for sentence in sentences)
