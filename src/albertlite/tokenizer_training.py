"""Train a SentencePiece vocabulary the way the ALBERT authors trained ``30k-clean.model``.

Their recipe (google-research/albert README): a unigram model, ``<pad>``=0 and ``<unk>``=1, no BOS/EOS,
control symbols ``[CLS] [SEP] [MASK]`` (ids 2, 3, 4), user-defined symbols ``( ) " - . – £ €`` that are always
split out as their own pieces, character coverage 0.99995 and SentencePiece's default ``nmt_nfkc``
normalisation, on lower-cased text. The text is preprocessed exactly as the tokenizers preprocess it at
encoding time, so that the vocabulary covers what the tokenizers will look up.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import sentencepiece as spm

from albertlite.tokenization import AlbertTokenizer, preprocess_text
from albertlite.validation import check_number

logger = logging.getLogger(__name__)

CONTROL_SYMBOLS = ("[CLS]", "[SEP]", "[MASK]")
USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "–", "£", "€")
CHARACTER_COVERAGE = 0.99995
MIN_CHARACTER_COVERAGE = 0.98  # SentencePiece refuses less (trainer_interface.cc)


def train_tokenizer(
    files: Sequence[str | os.PathLike] | str | os.PathLike,
    vocab_size: int = 30000,
    output_dir: str | os.PathLike | None = None,
    *,
    do_lower_case: bool = True,
    keep_accents: bool = False,
    character_coverage: float = CHARACTER_COVERAGE,
    user_defined_symbols: Sequence[str] = USER_DEFINED_SYMBOLS,
    input_sentence_size: int = 10_000_000,
    max_sentence_length: int = 4192,
    num_threads: int = 1,
    seed: int = 0,
    model_max_length: int = 512,
    hard_vocab_limit: bool = True,
) -> AlbertTokenizer:
    """Train a unigram SentencePiece model on text files and return an ``AlbertTokenizer`` on it.

    Each non-empty line of each file is one training sentence.

    Args:
        files: One or more UTF-8 text files.
        vocab_size: Number of pieces, the five special pieces included (ALBERT used 30000).
        output_dir: When given, the tokenizer is saved there (spiece.model, tokenizer.json,
            tokenizer_config.json, special_tokens_map.json), loadable by both tokenizer classes.
        do_lower_case: Lower-case the text before training (and when encoding), as ALBERT does.
        keep_accents: Keep accents instead of stripping them (NFKD + dropping combining marks).
        character_coverage: Fraction of characters the vocabulary must cover; rarer ones become ``<unk>``.
        user_defined_symbols: Pieces that are always split out (ids from 5 on, in this order).
        input_sentence_size: Sentences sampled for training (SentencePiece shuffles when it samples).
        max_sentence_length: Longer lines (in bytes) are skipped by SentencePiece.
        num_threads: Trainer threads; 1 gives a reproducible model.
        seed: Seed of SentencePiece's random generator, for reproducible sampling.
        model_max_length: Longest sequence the tokenizer will produce when truncating without max_length.
        hard_vocab_limit: Fail when the corpus gives fewer than ``vocab_size`` pieces (the error names the most it
            gives); False trains as many as it gives, up to ``vocab_size`` (SentencePiece's soft limit).

    Returns:
        The trained tokenizer (its ``sp_model`` holds the model in memory).

    Example:
        >>> tok = train_tokenizer(["corpus.txt"], vocab_size=8000, output_dir="my-tokenizer")  # doctest: +SKIP
    """
    paths = _input_files(files)
    _check_settings(vocab_size, len(user_defined_symbols), character_coverage, num_threads, input_sentence_size)
    sentences = _sentences(paths, do_lower_case=do_lower_case, keep_accents=keep_accents)
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=sentences,
            model_writer=model,
            vocab_size=vocab_size,
            model_type="unigram",
            pad_id=0,
            unk_id=1,
            bos_id=-1,
            eos_id=-1,
            pad_piece="<pad>",
            unk_piece="<unk>",
            control_symbols=list(CONTROL_SYMBOLS),
            user_defined_symbols=list(user_defined_symbols),
            character_coverage=character_coverage,
            shuffle_input_sentence=True,
            input_sentence_size=input_sentence_size,
            max_sentence_length=max_sentence_length,
            num_threads=num_threads,
            hard_vocab_limit=hard_vocab_limit,
            minloglevel=2,
        )
    except RuntimeError as error:
        raise _training_error(error, vocab_size, paths) from None
    tokenizer = AlbertTokenizer(
        model_proto=model.getvalue(),
        do_lower_case=do_lower_case,
        keep_accents=keep_accents,
        model_max_length=model_max_length,
    )
    if tokenizer.vocab_size < vocab_size:
        logger.warning("The corpus gave %d pieces of the %d asked for (soft limit).", tokenizer.vocab_size, vocab_size)
    if output_dir is not None:
        tokenizer.save_pretrained(output_dir)
        _save_fast_files(tokenizer, output_dir)
        logger.info("Saved a %d-piece tokenizer to %s", tokenizer.vocab_size, output_dir)
    return tokenizer


def _input_files(files: Sequence[str | os.PathLike] | str | os.PathLike) -> list[Path]:
    """The training files, each refused before training when missing, empty or not UTF-8 text."""
    from albertlite.data.shard_builder import check_text_file  # the check pretrain-data makes of its --input

    paths = [Path(files)] if isinstance(files, (str, os.PathLike)) else [Path(f) for f in files]
    if not paths:
        raise ValueError("train_tokenizer needs at least one input file.")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"Training file {path} does not exist.")
        check_text_file(path)
    return paths


def _check_settings(
    vocab_size: int, user_symbols: int, character_coverage: float, num_threads: int, input_sentence_size: int
) -> None:
    """Refuse, before SentencePiece runs, the settings it would refuse or misread (named as the CLI flags too)."""
    for name, value, minimum in (
        ("vocab_size (--vocab-size)", vocab_size, 1),
        ("num_threads (--threads)", num_threads, 1),
        ("input_sentence_size (--input-sentence-size)", input_sentence_size, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}.")
        check_number(name, value, minimum=minimum)
    if vocab_size <= len(CONTROL_SYMBOLS) + 2 + user_symbols:
        raise ValueError(f"vocab_size={vocab_size} leaves no room beyond the special and user-defined symbols.")
    check_number(
        "character_coverage (--character-coverage)", character_coverage, minimum=MIN_CHARACTER_COVERAGE, maximum=1
    )


def _training_error(error: RuntimeError, vocab_size: int, paths: Sequence[Path]) -> ValueError:
    """SentencePiece's RuntimeError as one line for the user: for a vocabulary too large, the most that works."""
    message = str(error)
    too_high = re.search(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)", message)
    if too_high:
        most = int(too_high.group(2))
        return ValueError(
            f"vocab_size (--vocab-size) {vocab_size} is more than this corpus gives: at most {most} pieces; use "
            f"--vocab-size {most} or less, more text, or --soft-vocab-limit (hard_vocab_limit=False) to train "
            f"up to {vocab_size}."
        )
    too_low = re.search(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)", message)
    if too_low:
        least = int(too_low.group(2))
        return ValueError(
            f"vocab_size (--vocab-size) {vocab_size} is less than the {least} pieces the corpus's characters need; "
            f"use --vocab-size {least} or more, or a lower --character-coverage (at least {MIN_CHARACTER_COVERAGE})."
        )
    # "INTERNAL: src/x.cc(467) [condition] text": the condition and text say what failed
    detail = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return ValueError(f"SentencePiece could not train on {', '.join(map(str, paths))}: {detail}")


def _sentences(paths: Iterable[Path], *, do_lower_case: bool, keep_accents: bool) -> Iterator[str]:
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                text = preprocess_text(line, do_lower_case=do_lower_case, remove_space=True, keep_accents=keep_accents)
                if text:
                    yield text


def _save_fast_files(tokenizer: AlbertTokenizer, output_dir: str | os.PathLike) -> None:
    """Add tokenizer.json when the ``tokenizers`` library is installed (the slow files suffice otherwise)."""
    try:
        from albertlite.tokenization_fast import AlbertTokenizerFast
    except ImportError:
        logger.info("tokenizers is not installed: %s gets no tokenizer.json", output_dir)
        return
    AlbertTokenizerFast.from_slow(tokenizer).save_pretrained(output_dir)
