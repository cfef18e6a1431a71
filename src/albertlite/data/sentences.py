"""A small rule-based sentence splitter for plain paragraphs.

The rules, in order (whitespace runs count as one space):

1. A boundary candidate is a run of terminators ``.``, ``!``, ``?`` or ``…`` (so ``...`` is one run), then any
   closing quotes or brackets (``" ' ” ’ ) ]``), then whitespace. Terminators not followed by whitespace
   never split, so decimals (``3.14``), versions (``v1.2``), URLs and ``e.g.,`` stay whole.
2. The text after the whitespace must start a sentence: an upper-case letter or a digit, possibly after
   opening quotes or brackets (``" ' “ ‘ ( [``). A lower-case continuation never splits, which keeps
   ``etc. and``, ``e.g. this`` and ``wait... what`` together.
3. After a single ``.``, the word before it must not be an abbreviation that does not end sentences: a title
   or reference word of :data:`NON_FINAL_ABBREVIATIONS` (``Mr.``, ``Dr.``, ``Fig.``, ``No.``, ``vs.``, ...,
   case-insensitive), a single capital letter (an initial, as in ``J. R. R. Tolkien``) or a dotted acronym
   (``U.S.``, ``e.g.``). Abbreviations that often do end sentences (``etc.``, ``Inc.``, ``Ltd.``) follow
   rule 2 alone.

Example:
    >>> split_sentences('Dr. Smith paid $3.50 for it. "Why?" she asked... Then she left.')
    ['Dr. Smith paid $3.50 for it.', '"Why?" she asked...', 'Then she left.']
"""

from __future__ import annotations

import re

# Titles and reference words that precede a name or number rather than end a sentence.
NON_FINAL_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "rev", "sr", "jr", "st", "mt", "gen", "col", "capt", "lt", "sgt", "hon",
    "gov", "sen", "rep", "pres", "fr", "vs", "cf", "eg", "ie", "fig", "figs", "no", "nos", "vol", "vols", "pp",
    "p", "eq", "eqs", "sec", "ch", "art", "approx", "ca", "al", "dept", "est",
})  # fmt: skip

_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’)\]]*)\s+")
_SENTENCE_START = re.compile(r"[\"'“‘(\[]*[A-Z0-9À-ÖØ-Þ]")
_LAST_WORD = re.compile(r"(\S+)$")
_INITIAL = re.compile(r"^[(\"'“‘\[]*[A-Z]$")
_DOTTED_ACRONYM = re.compile(r"^[(\"'“‘\[]*(?:[A-Za-z]\.)+[A-Za-z]$")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences by the rules of this module's docstring.

    Args:
        text: a paragraph of plain text (line breaks are treated as spaces).

    Returns:
        The sentences, stripped, in order; none when the text is blank.
    """
    text = " ".join(text.split())
    sentences = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_boundary(text, match):
            sentences.append(text[start : match.end(2)])
            start = match.end()
    sentences.append(text[start:])
    return [sentence for sentence in sentences if sentence]


def _is_boundary(text: str, match: re.Match) -> bool:
    if not _SENTENCE_START.match(text, match.end()):
        return False
    if match.group(1) != "." or match.group(2):
        return True  # "!", "?", "...", or a period inside closing quotes: always a boundary before a capital
    last_word = _LAST_WORD.search(text, 0, match.start())
    word = last_word.group(1) if last_word else ""
    if _INITIAL.match(word) or _DOTTED_ACRONYM.match(word):
        return False
    return word.strip("(\"'“‘[").lower().replace(".", "") not in NON_FINAL_ABBREVIATIONS
