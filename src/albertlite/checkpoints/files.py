"""Whole-or-nothing writes: a reader, a crash or a full disk never leaves a half-written file or directory.

Two tools:

- :func:`atomic_write` writes one file beside its final name and renames it into place;
- :func:`staged_directory` assembles the new contents of a directory (a model, a tokenizer, a dataset) in a hidden
  sibling and swaps it with the old one in one rename, so that after any failure the previous directory loads as
  before. Entries of the old directory that the new contents do not replace (a run's checkpoints beside its model,
  a tokenizer beside a model's weights) are hard-linked into the new one first, so nothing else is lost.

Files and directories get the modes that the umask gives every other file (``mkstemp`` and ``mkdtemp`` would make
them private).
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import errno
import fnmatch
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

# Paths being assembled by staged_directory in this context: a save into one of them writes directly, and the
# outermost staging publishes everything at once (fine-tuning saves model, tokenizer and task.json as one unit).
_ACTIVE_STAGING: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("staging", default=frozenset())
_STAGING_MARK = ".albertlite-"  # in the names of hidden siblings: ".<name>.albertlite-<pid>-<random>"
# What a model's and a tokenizer's save_pretrained own in a directory: a new save replaces all of them (a sharded
# save leaves no stale single file, and the other way round) and keeps everything else.
MODEL_FILES = (
    "config.json", "model.safetensors", "model.safetensors.index.json", "model-*-of-*.safetensors",
    "pytorch_model.bin", "pytorch_model.bin.index.json", "pytorch_model-*-of-*.bin", "tf_model.h5",
    "flax_model.msgpack",
)  # fmt: skip
TOKENIZER_FILES = ("spiece.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json")  # fmt: skip
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # after the write: some writers (safetensors 0.8) replace the file, and the new one is private again
        os.chmod(tmp, 0o666 & ~umask())
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of :func:`atomic_write` that a killed writer left in ``directory``.

    Only the directory's owner (the holder of its output lock) may call this: another live writer's temporary
    file would look the same. Returns what was removed.
    """
    root = Path(directory)
    stale = [p for p in root.glob(".*.tmp") if p.is_file() and not p.is_symlink()] if root.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def umask() -> int:
    """This process's umask (read without changing it for longer than one call)."""
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


@contextlib.contextmanager
def write_errors_as_os_errors(path: str | os.PathLike) -> Iterator[None]:
    """Report a failed safetensors write (a full disk, a file size limit) as the OSError it is, naming the file."""
    from safetensors import SafetensorError

    try:
        yield
    except SafetensorError as error:
        raise OSError(f"cannot write {path}: {error}") from error


def fsync_file(path: str | os.PathLike) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


Replaces = Collection[str] | Callable[[str], bool]


@contextlib.contextmanager
def staged_directory(directory: str | os.PathLike, replaces: Replaces = ()) -> Iterator[Path]:
    """Yield an empty hidden directory beside ``directory``; on success it becomes ``directory`` in one rename.

    Args:
        directory: the final directory (created when missing; a symlink to a directory is followed).
        replaces: names (``fnmatch`` patterns) of the old directory's top-level entries that the new contents
            replace, or a predicate on a name. Every other old entry, and none that the new contents hold, is
            hard-linked (copied where links fail) into the new directory before the swap.

    Yields:
        The staging directory to write into. When ``directory`` is itself being staged in this context, it is
        yielded as is: the outer staging publishes.

    Raises:
        NotADirectoryError: ``directory`` exists and is not a directory.
    """
    final = Path(os.path.realpath(directory))
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(f"{directory} exists and is not a directory")
    if str(final) in _ACTIVE_STAGING.get():
        yield final
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    restore_interrupted_swap(final)
    remove_stale_staging(final)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}{_STAGING_MARK}{os.getpid()}-", dir=final.parent))
    token = _ACTIVE_STAGING.set(_ACTIVE_STAGING.get() | {str(staging)})
    leftover: Path | None = staging
    try:
        yield staging
        _ACTIVE_STAGING.reset(token)
        token = None
        leftover = _publish(staging, final, _matcher(replaces))
    finally:
        if token is not None:
            _ACTIVE_STAGING.reset(token)
        if leftover is not None:
            shutil.rmtree(leftover, ignore_errors=True)


def _matcher(replaces: Replaces) -> Callable[[str], bool]:
    if callable(replaces):
        return replaces
    patterns = tuple(replaces)
    return lambda name: any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _publish(staging: Path, final: Path, replaced: Callable[[str], bool]) -> Path | None:
    """Make ``staging`` the new ``final``; returns where the old contents now lie (to delete), if anywhere."""
    os.chmod(staging, final.stat().st_mode & 0o7777 if final.is_dir() else 0o777 & ~umask())
    if final.is_dir():
        written = {entry.name for entry in staging.iterdir()}
        for entry in final.iterdir():
            if entry.name not in written and not replaced(entry.name):
                _link_entry(entry, staging / entry.name)
    fsync_dir(staging)
    old: Path | None = None
    if final.is_dir():
        _swap(staging, final)
        old = staging  # the name now holds the old contents
    else:
        os.replace(staging, final)
    fsync_dir(final.parent)
    return old


def _link_entry(source: Path, target: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir()
        shutil.copystat(source, target)
        for child in source.iterdir():
            _link_entry(child, target / child.name)
    else:
        try:
            os.link(source, target)
        except OSError:  # a file system without hard links, or a file at its link limit
            shutil.copy2(source, target)


def _swap(staging: Path, final: Path) -> None:
    """Exchange two directories atomically (Linux renameat2); elsewhere two renames, repaired on the next save."""
    if _exchange(staging, final):
        return
    aside = final.parent / f".{final.name}{_STAGING_MARK}{os.getpid()}-replaced"
    shutil.rmtree(aside, ignore_errors=True)
    os.replace(final, aside)
    os.replace(staging, final)  # a crash between the two renames is undone by restore_interrupted_swap
    os.replace(aside, staging)


def _exchange(first: Path, second: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # the file system cannot exchange: fall back to two renames
    raise OSError(code, os.strerror(code), str(second))


def restore_interrupted_swap(final: Path) -> None:
    """Put back a directory that a process killed between the two renames of :func:`_swap` left aside."""
    if final.exists():
        return
    for aside in sorted(final.parent.glob(f".{final.name}{_STAGING_MARK}*-replaced")):
        os.replace(aside, final)
        return


def remove_stale_staging(final: Path) -> None:
    """Delete staging siblings of ``final`` left by processes that are gone (never a live process's)."""
    prefix = f".{final.name}{_STAGING_MARK}"
    for path in final.parent.glob(f"{glob.escape(prefix)}*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)) and not path.name.endswith("-replaced"):
            shutil.rmtree(path, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_leftovers(directory: str | os.PathLike) -> list[Path]:
    """Hidden staging siblings of ``directory`` (for checks that nothing half-written is left)."""
    final = Path(os.path.realpath(directory))
    return sorted(final.parent.glob(f"{glob.escape('.' + final.name + _STAGING_MARK)}*"))
