"""``albertlite pretrain-data``: text files -> pretraining shards (sentence-order pairs, n-gram masking)."""

from __future__ import annotations

import argparse

from albertlite.data.corpus import TEXT_FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pretrain-data",
        help="Build pretraining shards from text files.",
        description="Build ALBERT pretraining instances from text and write them as memory-mapped shards "
        "(docs/data_format.md). The same seed gives the same bytes whatever --workers.",
    )
    parser.add_argument("--input", nargs="+", required=True, metavar="FILE", help="Text files, read in order.")
    parser.add_argument("--tokenizer", required=True, metavar="DIR", help="A tokenizer directory (spiece.model).")
    parser.add_argument("--output", required=True, metavar="DIR", help="The output directory.")
    parser.add_argument(
        "--format",
        choices=TEXT_FORMATS,
        default="lines",
        help="lines: one sentence per line, blank line between documents (default); "
        "paragraphs: each blank-line-separated paragraph is a document, split into sentences.",
    )
    parser.add_argument("--max-seq-length", type=int, default=512)
    parser.add_argument("--dupe-factor", type=int, default=40, help="Passes over the corpus, each masked anew.")
    parser.add_argument("--masked-lm-prob", type=float, default=0.15)
    parser.add_argument("--max-predictions-per-seq", type=int, default=20)
    parser.add_argument("--short-seq-prob", type=float, default=0.1)
    parser.add_argument("--ngram", type=int, default=3, help="Longest masked span, in words.")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--workers", type=int, default=1, help="Worker processes (the output does not depend on it).")
    parser.add_argument("--chunk-documents", type=int, default=256, help="Most documents per unit of work.")
    parser.add_argument("--chunk-chars", type=int, default=1 << 20, help="Most characters per unit of work.")
    parser.add_argument("--instances-per-shard", type=int, default=16384)
    parser.add_argument(
        "--dynamic-masking", action="store_true", help="Write unmasked instances; training masks anew each epoch."
    )
    parser.add_argument(
        "--random-next-sentence-fallback",
        action="store_true",
        help="Pair a one-sentence chunk with a random other document, as the original code does.",
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace pretraining data already in --output.")
    parser.add_argument("--no-progress", action="store_true", help="No progress bar (or, in a log, progress lines).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.data.shard_builder import write_pretraining_shards

    manifest = write_pretraining_shards(
        args.input,
        args.tokenizer,
        args.output,
        text_format=args.format,
        workers=args.workers,
        instances_per_shard=args.instances_per_shard,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        max_seq_length=args.max_seq_length,
        dupe_factor=args.dupe_factor,
        masked_lm_prob=args.masked_lm_prob,
        max_predictions_per_seq=args.max_predictions_per_seq,
        short_seq_prob=args.short_seq_prob,
        ngram=args.ngram,
        seed=args.seed,
        chunk_size=args.chunk_documents,
        chunk_chars=args.chunk_chars,
        mask=not args.dynamic_masking,
        random_next_sentence_fallback=args.random_next_sentence_fallback,
    )
    print(
        f"wrote {manifest['num_instances']:,} instances ({manifest['num_tokens']:,} tokens) "
        f"in {len(manifest['shards'])} shard(s) to {args.output}"
    )
    return 0
