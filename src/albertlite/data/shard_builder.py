"""Text files -> pretraining shards, in bounded memory, on several processes, reproducibly.

The main process streams documents from the files, groups them into chunks (at most ``chunk_size`` documents
and ``chunk_chars`` characters) and hands each chunk to a worker; workers tokenize and build instances
(:class:`InstanceBuilder`) and send back compact columns; the main process writes them in chunk order. At most
``2 × workers`` chunks are in flight, so memory does not grow with the corpus (it grows with ``chunk_chars ×
dupe_factor``: lower ``chunk_chars`` for large dupe factors), and since every document's draws come from its own
seed the bytes written do not depend on the number of workers.

Workers are started with "spawn", so a script that calls :func:`write_pretraining_shards` with ``workers > 1``
needs the usual ``if __name__ == "__main__":`` guard. A worker ends by itself when the main process dies.

The dataset is written into a hidden sibling of ``output_dir`` and takes its place in one rename when complete:
an interrupted run leaves the previous dataset (or nothing) in ``output_dir``, never a mix of old and new shards,
and the next run deletes the interrupted one's files.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albertlite.checkpoints.files import staged_directory
from albertlite.checkpoints.run_dir import OutputLock, check_apart, claim_output, option
from albertlite.data.corpus import read_documents
from albertlite.data.pretraining import InstanceBuilder, InstanceSettings, chunk_documents
from albertlite.data.shards import MANIFEST, InstanceBatch, ShardWriter, token_dtype_for, vocab_hash
from albertlite.progress import Progress
from albertlite.tokenization_auto import load_tokenizer

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

logger = logging.getLogger(__name__)


def write_pretraining_shards(
    input_files: Sequence[str | os.PathLike],
    tokenizer: Tokenizer | str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    text_format: str = "lines",
    workers: int = 1,
    instances_per_shard: int = 16384,
    overwrite: bool = False,
    progress: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    """Build pretraining instances from text files and write them as shards (docs/data_format.md).

    Args:
        input_files: text files, read in order (:func:`~albertlite.data.corpus.read_documents`).
        tokenizer: a tokenizer directory (loaded with :func:`albertlite.tokenization_auto.load_tokenizer` in every
            process) or a picklable tokenizer object.
        output_dir: where the shards and manifest go.
        text_format: "lines" (one sentence per line, blank line between documents) or "paragraphs".
        workers: worker processes; 1 builds in this process. The output does not depend on it.
        instances_per_shard: the most instances per shard.
        overwrite: replace a dataset already in ``output_dir``.
        progress: show the chunks written and instances built so far (:mod:`albertlite.progress`: a bar on a
            terminal, a line every few seconds in a log).
        **settings: fields of :class:`~albertlite.data.pretraining.InstanceSettings` (max_seq_length,
            dupe_factor, masked_lm_prob, max_predictions_per_seq, short_seq_prob, ngram, seed, mask, ...).

    Returns:
        The manifest written.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    missing = [str(path) for path in input_files if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"input file not found: {missing[0]}")
    for path in input_files:
        check_text_file(path)
    tokenizer_path = tokenizer if isinstance(tokenizer, (str, os.PathLike)) else None
    inputs = {"--tokenizer": tokenizer_path, **{f"--input {path}": path for path in input_files}}
    check_apart(output_dir, "--output", inputs)
    instance_settings = InstanceSettings(**settings)
    builder = InstanceBuilder(load_tokenizer(tokenizer), instance_settings)
    with OutputLock(output_dir, "albertlite pretrain-data"):
        cleared = claim_output(output_dir, "pretraining data", overwrite=overwrite)
        if (Path(output_dir) / MANIFEST).exists() and not (overwrite or cleared):
            raise ValueError(f"{output_dir} already holds pretraining data (manifest.json); pass "
                             f"{option('--overwrite', 'overwrite=True')} to replace it")  # fmt: skip
        # the old dataset's files (and any an interrupted run left) are replaced; other files stay
        shown = Progress(None, desc="pretrain-data", unit="chunk", enabled=progress)
        with staged_directory(output_dir, replaces=_DATASET_FILES) as staging, shown:
            return _write(builder, tokenizer, input_files, staging, text_format, workers, instances_per_shard, shown)


SNIFF_BYTES = 1 << 16  # enough of a file to tell text from binary without reading a whole corpus


def check_text_file(path: str | os.PathLike) -> None:
    """Refuse an input that is empty or not UTF-8 text, before any work (both used to write an empty dataset)."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        more = bool(handle.read(1))
    if not head.strip() and not more:
        raise ValueError(f"--input {path} holds no text (it is empty); give a text file with one sentence per line.")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the sniffed block's end
            byte = head[error.start : error.start + 1]
            raise ValueError(f"--input {path} is not UTF-8 text (byte {error.start}: {byte!r}); give a text file "
                             "(convert it with iconv if it is another encoding).") from None  # fmt: skip
        text = head[: error.start].decode("utf-8")
    if "\x00" in text:
        raise ValueError(f"--input {path} looks binary (it holds NUL bytes); give a text file.")


_DATASET_FILES = (MANIFEST, "word_start.npy", "shard-*", ".shard-*", ".word_start.npy.*", f".{MANIFEST}.*")


def _write(
    builder: InstanceBuilder,
    tokenizer: Tokenizer | str | os.PathLike,
    input_files: Sequence[str | os.PathLike],
    directory: Path,
    text_format: str,
    workers: int,
    instances_per_shard: int,
    progress: Progress,
) -> dict[str, Any]:
    instance_settings = builder.settings
    token_dtype = token_dtype_for(builder.tokenizer.vocab_size)
    writer = ShardWriter(
        directory,
        token_dtype=token_dtype,
        word_start=builder.masker.word_start,
        metadata=_metadata(builder, input_files, text_format),
        instances_per_shard=instances_per_shard,
    )
    documents = read_documents(input_files, text_format=text_format)
    chunks = chunk_documents(documents, instance_settings.chunk_size, instance_settings.chunk_chars)
    try:
        batches = (
            _serial(builder, chunks, token_dtype)
            if workers == 1
            else _parallel(tokenizer, instance_settings, chunks, token_dtype, workers)
        )
        instances = 0
        for number, batch in enumerate(batches, 1):
            writer.write(batch)
            instances += len(batch)
            progress.update(1, instances=f"{instances:,}")
            logger.info("chunk %d: %d instances", number, len(batch))
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def _metadata(builder: InstanceBuilder, input_files: Sequence[str | os.PathLike], text_format: str) -> dict[str, Any]:
    tokenizer = builder.tokenizer
    return {
        "tokenizer": {
            "class": type(tokenizer).__name__,  # the fast one splits user-defined pieces out (docs/tokenizers.md)
            "vocab_size": int(tokenizer.vocab_size),
            "vocab_sha256": vocab_hash(tokenizer.get_vocab()),
            "pad_token_id": int(tokenizer.pad_token_id),
            "cls_token_id": int(tokenizer.cls_token_id),
            "sep_token_id": int(tokenizer.sep_token_id),
            "mask_token_id": int(tokenizer.mask_token_id),
            "all_special_ids": sorted(int(i) for i in tokenizer.all_special_ids),
        },
        "settings": dataclasses.asdict(builder.settings),
        "input": {"files": [Path(path).name for path in input_files], "text_format": text_format},
    }


def _serial(builder: InstanceBuilder, chunks: Iterator[tuple[int, list]], token_dtype: str) -> Iterator[InstanceBatch]:
    for first_index, documents in chunks:
        yield InstanceBatch.from_instances(builder.chunk_instances(first_index, documents), token_dtype)


_WORKER: dict[str, Any] = {}


def _init_worker(
    tokenizer: Tokenizer | str | os.PathLike, settings: InstanceSettings, token_dtype: str, parent: int
) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    _WORKER["builder"] = InstanceBuilder(load_tokenizer(tokenizer), settings)
    _WORKER["token_dtype"] = token_dtype


def _exit_with_parent(parent: int, interval: float = 0.2) -> None:
    """End this worker once the main process is gone (killed without a chance to stop its pool)."""
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def _build_chunk(first_index: int, documents: list) -> InstanceBatch:
    builder = _WORKER["builder"]
    return InstanceBatch.from_instances(builder.chunk_instances(first_index, documents), _WORKER["token_dtype"])


def _parallel(
    tokenizer: Tokenizer | str | os.PathLike,
    settings: InstanceSettings,
    chunks: Iterator[tuple[int, list]],
    token_dtype: str,
    workers: int,
) -> Iterator[InstanceBatch]:
    # spawn, not fork: the parent may hold threads (tokenizers, BLAS) that fork would copy mid-lock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(tokenizer, settings, token_dtype, os.getpid())) as pool:  # fmt: skip
        pending: collections.deque[Future] = collections.deque()
        for first_index, documents in chunks:
            pending.append(pool.submit(_build_chunk, first_index, documents))
            if len(pending) >= 2 * workers:  # bounded read-ahead keeps memory flat
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
