"""``albertlite convert KIND ...``: turn checkpoints of other layouts into the Hub layout.

Each kind of source is one sub-command registered by a function in ``CONVERTERS``; add a variant by
writing a ``register_*`` function and listing it there.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="Convert a checkpoint into the Hub layout (config.json + model.safetensors)."
    )
    kinds = parser.add_subparsers(dest="convert_kind", metavar="KIND")
    for register_converter in CONVERTERS:
        register_converter(kinds)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def register_google_checkpoint(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser(
        "google-checkpoint",
        help="The authors' TF1 release (albert_config.json, model.ckpt-*, 30k-clean.model); needs TensorFlow.",
        description="Convert a directory of the authors' TF1 ALBERT release into a Hub-layout model directory.",
    )
    parser.add_argument(
        "src", help="Directory holding albert_config.json, model.ckpt-* and optionally 30k-clean.model."
    )
    parser.add_argument("dst", help="Output directory (created).")
    parser.add_argument(
        "--checkpoint",
        help="Checkpoint prefix inside SRC (e.g. model.ckpt-best); default: the only one, else the best or latest.",
    )
    parser.set_defaults(handler=run_google_checkpoint)


def run_google_checkpoint(args: argparse.Namespace) -> int:
    from albertlite.checkpoints.google import convert_google_checkpoint
    from albertlite.checkpoints.run_dir import check_apart, claim_output
    from albertlite.commands.info import summarize_model

    check_apart(args.dst, "DST", {"SRC": args.src})
    claim_output(args.dst, "a model", overwrite=False, flag=None)

    destination = convert_google_checkpoint(args.src, args.dst, checkpoint=args.checkpoint)
    print(summarize_model(str(destination)))
    return 0


#: Registration functions of the ``convert`` sub-commands, in the order ``--help`` lists them.
CONVERTERS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (register_google_checkpoint,)
