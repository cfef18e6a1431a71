"""``albertlite tokenizer train``: train a SentencePiece vocabulary the way the ALBERT authors did."""

from __future__ import annotations

import argparse

from albertlite.tokenizer_training import CHARACTER_COVERAGE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tokenizer", help="Train an ALBERT SentencePiece vocabulary.")
    actions = parser.add_subparsers(dest="tokenizer_action", metavar="ACTION")
    train = actions.add_parser(
        "train",
        help="Train a unigram SentencePiece model on text files and save a tokenizer directory.",
        description="Train a unigram SentencePiece vocabulary with the ALBERT recipe (<pad>=0 <unk>=1 [CLS]=2 "
        '[SEP]=3 [MASK]=4, user-defined ( ) " - . – £ €, lower-cased text) and save spiece.model, tokenizer.json, '
        "tokenizer_config.json and special_tokens_map.json.",
    )
    train.add_argument(
        "--input", nargs="+", required=True, metavar="FILE", help="UTF-8 text files, one sentence a line."
    )
    train.add_argument("--vocab-size", type=int, default=30000, help="Number of pieces (default: 30000).")
    train.add_argument("--output", required=True, metavar="DIR", help="Directory to write the tokenizer to.")
    train.add_argument("--cased", action="store_true", help="Keep upper case (ALBERT lower-cases).")
    train.add_argument("--keep-accents", action="store_true", help="Keep accents (ALBERT strips them).")
    train.add_argument("--character-coverage", type=float, default=CHARACTER_COVERAGE, help="Default: %(default)s.")
    train.add_argument("--input-sentence-size", type=int, default=10_000_000, help="Sentences sampled for training.")
    train.add_argument("--threads", type=int, default=1, help="Trainer threads (1 is reproducible).")
    train.add_argument(
        "--soft-vocab-limit",
        action="store_true",
        help="Train as many pieces as the corpus gives, up to --vocab-size, instead of failing when it gives fewer.",
    )
    train.set_defaults(handler=run_train)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_train(args: argparse.Namespace) -> int:
    from albertlite.checkpoints.run_dir import check_apart
    from albertlite.tokenizer_training import train_tokenizer

    check_apart(args.output, "--output", {f"--input {path}": path for path in args.input})

    tokenizer = train_tokenizer(
        args.input,
        vocab_size=args.vocab_size,
        output_dir=args.output,
        do_lower_case=not args.cased,
        keep_accents=args.keep_accents,
        character_coverage=args.character_coverage,
        input_sentence_size=args.input_sentence_size,
        num_threads=args.threads,
        hard_vocab_limit=not args.soft_vocab_limit,
    )
    print(f"Saved a {tokenizer.vocab_size}-piece tokenizer to {args.output}")
    return 0
