"""Sub-commands of the ``albertlite`` command line; each module defines ``register(subparsers)``.

A command's handler receives the parsed arguments and returns an exit code. Handlers stay thin:
each calls a public function of the library.
"""

# Modules listed here are the CLI's sub-commands, in the order ``--help`` shows them.
COMMAND_MODULES = (
    "albertlite.commands.info",
    "albertlite.commands.convert",
    "albertlite.commands.pretrain_data",
    "albertlite.commands.pretrain",
    "albertlite.commands.evaluate",
    "albertlite.commands.tokenizer",
    "albertlite.commands.finetune",
    "albertlite.commands.predict",
    "albertlite.commands.fill_mask",
    "albertlite.commands.export",
    "albertlite.commands.serve",
)
