"""``albertlite fill-mask``: the model's top guesses for each [MASK] in a text."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fill-mask",
        help="Print the top predictions for [MASK] tokens.",
        description="Run a masked-LM checkpoint on texts holding [MASK] and print the top-k tokens with scores.",
    )
    parser.add_argument("text", nargs="+", help="Texts, each with at least one [MASK].")
    parser.add_argument("--model", required=True, metavar="DIR_OR_HUB_ID", help="A masked-LM checkpoint.")
    parser.add_argument("--top-k", type=int, default=5, help="Predictions per mask (default 5).")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default cpu).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.devices import resolve_device
    from albertlite.inference import pipeline

    resolve_device(args.device)  # named as the flag, before the model loads
    fill = pipeline("fill-mask", model=args.model, device=args.device)
    for text, result in zip(args.text, fill(list(args.text), top_k=args.top_k)):
        print(text)
        for mask_index, candidates in enumerate(_per_mask(result)):
            guesses = ", ".join(f"{c['token_str'].strip() or c['token_str']!r} ({c['score']:.3f})" for c in candidates)
            print(f"  [MASK] {mask_index + 1}: {guesses}")
    return 0


def _per_mask(result: list) -> list[list[dict]]:
    return result if result and isinstance(result[0], list) else [result]
