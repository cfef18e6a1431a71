"""Reading a text corpus as documents (lists of sentences), streaming: one document in memory at a time.

Two layouts:

- ``"lines"`` (the original's): one sentence per line, a blank line between documents.
- ``"paragraphs"``: plain text; a blank line ends a paragraph and each paragraph is one document. Its lines are
  joined with spaces and split into sentences by :func:`~albertlite.data.sentences.split_sentences`.

In both, the end of a file ends a document (the original lets a document run on into the next file), lines
are stripped, and empty documents are skipped. Files are read as UTF-8, undecodable bytes replaced.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from albertlite.data.sentences import split_sentences

TEXT_FORMATS = ("lines", "paragraphs")


def read_documents(paths: Iterable[str | os.PathLike], *, text_format: str = "lines") -> Iterator[list[str]]:
    """Yield the documents of the files, in order.

    Args:
        paths: text files.
        text_format: "lines" or "paragraphs" (see the module docstring).

    Returns:
        An iterator of documents, each a non-empty list of sentence strings.
    """
    if text_format not in TEXT_FORMATS:
        raise ValueError(f"text_format must be one of {TEXT_FORMATS}, got {text_format!r}")
    for path in paths:
        for block in _blocks(path):
            document = block if text_format == "lines" else split_sentences(" ".join(block))
            if document:
                yield document


def _blocks(path: str | os.PathLike) -> Iterator[list[str]]:
    """Runs of non-blank stripped lines, split at blank lines and at the end of the file."""
    block: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if line:
                block.append(line)
            elif block:
                yield block
                block = []
    if block:
        yield block
