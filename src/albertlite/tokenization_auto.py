"""One rule for which tokenizer a directory gets, used everywhere one is loaded.

The fast tokenizer (``tokenizers``) when the directory has a ``tokenizer.json`` (or a ``spiece.model`` it can
convert) and the library is installed, else the SentencePiece one. Both give the same ids; the fast one is
quicker and gives character offsets, which question answering and entity spans need.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any


def fast_tokenizer_available() -> bool:
    """Whether the ``tokenizers`` library is installed."""
    return importlib.util.find_spec("tokenizers") is not None


def load_tokenizer(tokenizer: str | os.PathLike | Any) -> Any:
    """The tokenizer of a model directory or Hub id (fast when it can be), or ``tokenizer`` itself if it is one.

    Example:
        >>> tokenizer = load_tokenizer("albert/albert-base-v2")  # doctest: +SKIP
    """
    if not isinstance(tokenizer, (str, os.PathLike)):
        return tokenizer
    if fast_tokenizer_available():
        from albertlite.tokenization_fast import AlbertTokenizerFast

        return AlbertTokenizerFast.from_pretrained(tokenizer)
    from albertlite.tokenization import AlbertTokenizer

    return AlbertTokenizer.from_pretrained(tokenizer)
