"""A command's output directory: one writer at a time, never over its own inputs, never over another kind of output.

- :class:`OutputLock` holds ``<output>/.albertlite.lock`` (an ``flock`` plus the owner's pid, host and command) for
  the whole run; a second writer is refused at once with the first one's name, and the lock of a process that is
  gone is taken over with a warning.
- :func:`check_apart` refuses an output that is one of the command's inputs, or holds one.
- :func:`directory_kind` says what a directory holds (a fine-tuned model, a pretraining run, pretraining data ...)
  and :func:`claim_output` refuses to write one kind over another unless asked to replace it whole.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from albertlite.checkpoints.files import remove_stale_temp_files, staged_directory

logger = logging.getLogger(__name__)

LOCK_FILE = ".albertlite.lock"
# kinds that a writer of another kind must not silently write over
MODEL_KINDS = ("pretraining data", "a pretraining run", "a fine-tuned model", "a model")
# this process's held locks (a directory locked twice by one process is one lock)
_HELD: dict[str, tuple[int, int]] = {}


class OutputBusyError(ValueError):
    """Another live process writes into the output directory."""


class OutputLock:
    """An exclusive claim on an output directory for one run (created when missing).

    Args:
        directory: the output directory.
        command: what holds it, for the message a second writer sees (``"albertlite pretrain"``).

    Example:
        >>> with OutputLock("run", "albertlite pretrain"):  # doctest: +SKIP
        ...     train()
    """

    def __init__(self, directory: str | os.PathLike, command: str) -> None:
        self.directory = Path(directory)
        self.command = command
        self._key = ""

    @property
    def path(self) -> Path:
        return self.directory / LOCK_FILE

    def acquire(self) -> OutputLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = os.path.realpath(self.directory)
        if self._key in _HELD:
            fd, count = _HELD[self._key]
            _HELD[self._key] = (fd, count + 1)
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise OutputBusyError(
                f"{self.directory} is in use by {_describe(owner)}; wait for it to end or choose another output"
            ) from None
        previous = _read_owner(fd)
        if previous:  # the lock was free, so whoever wrote this has ended without removing it
            logger.warning("%s: taking over the lock left by %s, which is no longer running", self.directory,
                           _describe(previous))  # fmt: skip
        _write_owner(fd, self.command)
        _HELD[self._key] = (fd, 1)
        for path in remove_stale_temp_files(self.directory):  # ours now: no other writer can be mid-write
            logger.info("removed %s, left by an interrupted write", path)
        return self

    def release(self) -> None:
        if self._key not in _HELD:
            return
        fd, count = _HELD[self._key]
        if count > 1:
            _HELD[self._key] = (fd, count - 1)
            return
        del _HELD[self._key]
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                os.unlink(self.path)
        os.close(fd)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_owner(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, 4096)
    try:
        owner = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        owner = {}
    return owner if isinstance(owner, dict) else {}


def _write_owner(fd: int, command: str) -> None:
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.time()}
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(owner) + "\n").encode("utf-8"))
    os.fsync(fd)


def _describe(owner: Mapping[str, Any]) -> str:
    if not owner:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(owner.get("since", 0))))
    return f"{owner.get('command', 'a process')} (pid {owner.get('pid')} on {owner.get('host')}, since {since})"


@contextlib.contextmanager
def locked_output(directory: str | os.PathLike, command: str) -> Iterator[OutputLock]:
    lock = OutputLock(directory, command).acquire()
    try:
        yield lock
    finally:
        lock.release()


def check_apart(output: str | os.PathLike, output_flag: str, inputs: Mapping[str, Any]) -> None:
    """Refuse an output that is one of the inputs (after resolving links) or a directory holding one.

    Args:
        output: the path the command writes (a directory, or a file).
        output_flag: its flag, for the message (``"--output"``).
        inputs: flag -> path (or None, or a non-path such as a list of examples, which is skipped).

    Raises:
        ValueError: naming both flags.
    """
    target = Path(os.path.realpath(output))
    for flag, value in inputs.items():
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            continue
        source = Path(os.path.realpath(value))
        if not source.exists():
            continue  # a Hub id, or a file the command reports as missing
        if source == target:
            raise ValueError(f"{output_flag} {output} is also {flag}: writing there would replace the input; "
                             f"choose another {output_flag}")  # fmt: skip
        if target in source.parents:
            raise ValueError(f"{flag} {value} lies inside {output_flag} {output}, which the command writes; "
                             f"move it or choose another {output_flag}")  # fmt: skip


def directory_kind(directory: str | os.PathLike) -> str | None:
    """What ``directory`` holds: "pretraining data", "a pretraining run", "a fine-tuned <task> model", "a model",
    "a tokenizer", "other files", or None (missing or empty, a lock file aside)."""
    root = Path(directory)
    if not root.is_dir():
        return None
    names = {p.name for p in root.iterdir() if p.name != LOCK_FILE and not p.name.startswith(".")}
    if not names:
        return None
    if "manifest.json" in names:
        return "pretraining data"
    if "task.json" in names:
        return f"a fine-tuned {_recorded_task(root / 'task.json')} model"
    run_kind = _checkpoint_kind(root / "checkpoints")
    if run_kind is not None:
        return run_kind
    if "config.json" in names:
        architectures = _read_json(root / "config.json").get("architectures") or []
        pretraining = "AlbertForPreTraining" in architectures and "metrics.jsonl" in names
        return "a pretraining run" if pretraining else "a model"
    if names & {"spiece.model", "tokenizer.json"}:
        return "a tokenizer"
    return "other files"


def _recorded_task(path: Path) -> str:
    return str(_read_json(path).get("task", "unknown-task"))


def _checkpoint_kind(checkpoints: Path) -> str | None:
    if not checkpoints.is_dir():
        return None
    for summary in sorted(checkpoints.glob("step-*/checkpoint.json"), reverse=True):
        kind = _read_json(summary).get("kind")
        if kind:
            return str(kind)
    return "a pretraining run" if any(checkpoints.glob("step-*")) else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


# Set while a CLI command runs: the guards then name its flags (--overwrite) instead of the API's arguments.
_ON_COMMAND_LINE: contextvars.ContextVar[bool] = contextvars.ContextVar("on_command_line", default=False)


@contextlib.contextmanager
def on_command_line() -> Iterator[None]:
    """Within this block, :func:`option` spells options as the command line does."""
    token = _ON_COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _ON_COMMAND_LINE.reset(token)


def option(flag: str, argument: str) -> str:
    """How the user asks for something: the CLI ``flag`` under :func:`on_command_line`, else the API ``argument``."""
    return flag if _ON_COMMAND_LINE.get() else argument


def claim_output(directory: str | os.PathLike, kind: str, *, overwrite: bool, flag: str | None = "--overwrite") -> bool:
    """Check that ``kind`` may be written into ``directory``; with ``overwrite``, empty a directory of another kind.

    Writing over a directory of the same kind, or one that holds no model (a tokenizer, unrelated files), is
    allowed. Another kind of model, run or dataset needs ``overwrite``, and is then replaced whole (only the lock
    file stays), in one rename, so a failure leaves it as it was.

    Args:
        flag: the command-line flag that asks to replace it (None: there is no such option); the API's argument
            is its name ``=True``.

    Returns:
        Whether the directory was emptied.

    Raises:
        ValueError: another kind is there and ``overwrite`` is off.
    """
    existing = directory_kind(directory)
    if existing is None or existing == kind or not _is_model_kind(existing):
        return False
    if not overwrite:
        spelled = option(flag, f"{flag.removeprefix('--').replace('-', '_')}=True") if flag else None
        remedy = f"pass {spelled} to replace it whole, or choose another output" if spelled else "choose another output"
        raise ValueError(f"{directory} holds {existing}, not {kind}; {remedy}")
    clear_directory(directory)
    return True


def _is_model_kind(kind: str) -> bool:
    return kind in MODEL_KINDS or kind.startswith("a fine-tuned ")


def clear_directory(directory: str | os.PathLike) -> None:
    """Empty ``directory`` except for its lock file, in one rename."""
    with staged_directory(directory, replaces=lambda name: name != LOCK_FILE):
        pass
