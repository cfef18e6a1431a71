"""Training checkpoints without pickles, either complete or absent, checked before they are used.

Layout of ``<output>/checkpoints/step-00000100/`` (pretraining and fine-tuning alike):

- ``model.safetensors``: the model's parameters and buffers;
- ``optimizer.safetensors``: the optimizer's tensors (``state.<parameter index>.<name>``);
- ``training_state.json``: everything else: step, run settings, schedule, the optimizer's parameter groups and
  scalar state, the data position;
- ``rng-<rank>.json``: each rank's torch, numpy and python generator states;
- ``checkpoint.json``: a summary and the size and sha256 of every other file, written last.

Nothing here is ever unpickled, so a planted file cannot run code; a checkpoint written by an older albertlite (its
``training_state.pt`` was a pickle) is refused with a message saying how to start over. A checkpoint is assembled
in ``.tmp-step-...``, every file fsynced, then renamed to ``step-...``; old ones are renamed to ``.trash-...`` before
being deleted. :func:`load_latest` verifies sizes and hashes and falls back, with a warning naming the broken
files, to the newest intact checkpoint.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import random
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from albertlite.checkpoints.files import atomic_write_text, fsync_dir, fsync_file, write_errors_as_os_errors

logger = logging.getLogger(__name__)

FORMAT_NAME = "albertlite-training-checkpoint"
FORMAT_VERSION = 2
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "training_state.json"
SUMMARY_FILE = "checkpoint.json"
LEGACY_FILES = ("training_state.pt", "rng-0.pt", "state.pt")  # pickles of albertlite 0.x: never loaded
_STEP_DIR = re.compile(r"^step-(\d+)$")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: incomplete, corrupt, or of an older, pickled format."""


def step_dir_name(step: int) -> str:
    return f"step-{step:08d}"


def rng_file_name(rank: int) -> str:
    return f"rng-{rank}.json"


def list_checkpoints(directory: str | os.PathLike) -> list[tuple[int, Path]]:
    """Published checkpoints in ``directory`` as (step, path), oldest first (not yet verified)."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), path) for path in root.iterdir() if (m := _STEP_DIR.match(path.name)) and path.is_dir()]
    return sorted(found)


def clean_checkpoint_dir(directory: str | os.PathLike) -> None:
    """Delete what a killed process left half-done (hidden ``.tmp-*`` and ``.trash-*`` directories)."""
    root = Path(directory)
    if root.is_dir():
        for path in root.iterdir():
            if path.name.startswith((".tmp-", ".trash-")):
                shutil.rmtree(path, ignore_errors=True)


def temp_dir_for(directory: str | os.PathLike, step: int) -> Path:
    """The hidden directory a checkpoint of ``step`` is assembled in (the same name on every rank)."""
    return Path(directory) / f".tmp-{step_dir_name(step)}"


# ---------------------------------------------------------------------------------------------- generator states
def rng_state() -> dict[str, Any]:
    """This process's generator states as JSON values: torch (and CUDA), numpy's global one, python's ``random``."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": _bytes_to_text(torch.get_rng_state()),
        "numpy": {"kind": kind, "keys": [int(k) for k in keys], "pos": int(position), "has_gauss": int(has_gauss),
                  "gauss": float(gauss)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }  # fmt: skip
    if torch.cuda.is_available():
        state["cuda"] = [_bytes_to_text(s) for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(_text_to_bytes(state["torch"]))
    numpy = state["numpy"]
    keys = np.array(numpy["keys"], dtype=np.uint32)
    np.random.set_state((numpy["kind"], keys, numpy["pos"], numpy["has_gauss"], numpy["gauss"]))
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_text_to_bytes(s) for s in state["cuda"]])


def _bytes_to_text(tensor: torch.Tensor) -> str:
    return base64.b64encode(tensor.numpy().tobytes()).decode("ascii")


def _text_to_bytes(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)


def write_rng_state(temp_dir: Path, rank: int) -> None:
    """Each rank writes its own generator states into the checkpoint being assembled."""
    _write_json(temp_dir / rng_file_name(rank), rng_state())


# ---------------------------------------------------------------------------------------------- optimizer state
def split_optimizer_state(state: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer ``state_dict()`` as (tensors for safetensors, the rest as JSON values)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entries in state["state"].items():
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"state.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": _jsonable(state["param_groups"]), "scalars": scalars}


def join_optimizer_state(tensors: Mapping[str, torch.Tensor], rest: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`split_optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, entries in rest["scalars"].items():
        state.setdefault(int(index), {}).update(entries)
    return {"state": state, "param_groups": rest["param_groups"]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if torch.is_tensor(value):
        return value.item()
    return value


# ---------------------------------------------------------------------------------------------- writing
def write_training_state(
    temp_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: Mapping[str, Any]
) -> None:
    """Write the model, the optimizer and the JSON state into the checkpoint being assembled (rank 0)."""
    from safetensors.torch import save_file, save_model

    with write_errors_as_os_errors(temp_dir / MODEL_FILE):
        save_model(model, str(temp_dir / MODEL_FILE))  # drops tied aliases (the MLM decoder) and restores them
    tensors, rest = split_optimizer_state(optimizer.state_dict())
    with write_errors_as_os_errors(temp_dir / OPTIMIZER_FILE):
        save_file(tensors, str(temp_dir / OPTIMIZER_FILE))
    _write_json(temp_dir / STATE_FILE, {**state, "optimizer": rest})
    for name in (MODEL_FILE, OPTIMIZER_FILE):
        fsync_file(temp_dir / name)


def finish_checkpoint(temp_dir: Path, summary: Mapping[str, Any]) -> Path:
    """Record every file's size and hash in ``checkpoint.json`` and publish ``temp_dir`` as ``step-...`` (rank 0)."""
    files = {p.name: _file_record(p) for p in sorted(temp_dir.iterdir()) if p.name != SUMMARY_FILE}
    record = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **summary, "files": files}
    atomic_write_text(temp_dir / SUMMARY_FILE, json.dumps(record, indent=2, sort_keys=True) + "\n")
    final = temp_dir.parent / temp_dir.name.removeprefix(".tmp-")
    if final.exists():  # the same step saved again (a resumed run): retire the old copy first
        retire(final)
    os.replace(temp_dir, final)
    fsync_dir(final.parent)
    return final


@contextlib.contextmanager
def discard_on_failure(temp_dir: Path) -> Iterator[Path]:
    """Delete a checkpoint being assembled when writing it fails (a full disk): nothing half-written stays."""
    try:
        yield temp_dir
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise


def save_checkpoint(
    directory: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: Mapping[str, Any],
    summary: Mapping[str, Any],
    *,
    keep: int,
    rank: int = 0,
    barrier: Callable[[], None] = lambda: None,
) -> None:
    """Write a whole checkpoint of step ``state["step"]`` into ``directory`` and keep the newest ``keep``.

    Every rank writes its generator states; rank 0 writes the model, the optimizer, the state and the summary,
    then publishes the checkpoint in one rename. A failure on the way (a full disk) leaves nothing behind.

    Args:
        directory: the run's ``checkpoints`` directory.
        model / optimizer: what is saved.
        state: the JSON state (``step`` and whatever the trainer resumes from).
        summary: the few fields ``checkpoint.json`` shows (``step``, ``kind`` ...).
        keep: checkpoints kept (all when ``keep <= 0``).
        rank: this process's rank; with ``barrier`` (torch.distributed's) the ranks write together.
    """
    temp = temp_dir_for(directory, int(state["step"]))
    if rank == 0:
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
    barrier()
    with discard_on_failure(temp):
        write_rng_state(temp, rank)
        barrier()
        if rank == 0:
            write_training_state(temp, model, optimizer, state)
            finish_checkpoint(temp, summary)
            prune_checkpoints(directory, keep)
    barrier()


def prune_checkpoints(directory: str | os.PathLike, keep: int) -> None:
    """Keep the newest ``keep`` checkpoints (all when ``keep <= 0``)."""
    found = list_checkpoints(directory)
    if keep > 0:
        for _, path in found[:-keep]:
            retire(path)


def _file_record(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    return _hash_file(hashlib.sha256(), path).hexdigest()


def _hash_file(digest: Any, path: str | os.PathLike) -> Any:
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    fsync_file(path)


def retire(path: Path) -> None:
    """Delete a checkpoint directory, renamed first: a deletion killed half-way must not leave a step-* directory
    with files missing."""
    # rename first: a deletion killed half-way must not leave a step-* directory with files missing
    trash = path.parent / f".trash-{path.name}"
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- reading
@dataclass
class Checkpoint:
    """A verified checkpoint.

    Args:
        path: its directory.
        state: the JSON state (``step`` and what the trainer recorded).
        model: the model's tensors.
        optimizer: the optimizer's ``state_dict()``.
        rng: this rank's generator states, or None when the checkpoint has none for it.
    """

    path: Path
    state: dict[str, Any]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    rng: dict[str, Any] | None

    @property
    def step(self) -> int:
        return int(self.state["step"])

    def load_into(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Load the weights (tied aliases restored from their source) and the optimizer state."""
        missing, unexpected = model.load_state_dict(self.model, strict=False)
        aliases = _tied_aliases(model)
        missing = [key for key in missing if key not in aliases]
        if missing or unexpected:
            raise CheckpointError(
                f"{self.path / MODEL_FILE} does not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}"
            )
        optimizer.load_state_dict(self.optimizer)

    def restore(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        settings: Mapping[str, Any],
        fixed: Mapping[str, str],
        start_over: str,
    ) -> None:
        """Resume from this checkpoint: refuse changed fixed settings, then load weights, optimizer and generators.

        Args:
            model / optimizer: what the run trains, loaded in place.
            settings: this run's settings, compared with the recorded ``state["settings"]``.
            fixed: the settings that must not change, name -> the flag that sets it.
            start_over: how the user starts over instead (appended to the refusal).
        """
        check_resume_settings(self.path, self.state["settings"], settings, fixed, start_over)
        self.load_into(model, optimizer)
        if self.rng is not None:
            set_rng_state(self.rng)
        else:
            logger.warning("%s has no generator state for this rank: dropout draws restart", self.path)
        logger.info("resumed from %s (step %d)", self.path, self.step)


def _tied_aliases(model: torch.nn.Module) -> set[str]:
    """State-dict keys whose tensor shares storage with an earlier key (safetensors keeps only the first)."""
    seen: set[int] = set()
    aliases = set()
    for key, tensor in model.state_dict().items():
        pointer = tensor.untyped_storage().data_ptr()
        if pointer in seen:
            aliases.add(key)
        seen.add(pointer)
    return aliases


def load_checkpoint(path: str | os.PathLike, rank: int = 0) -> Checkpoint:
    """Verify and read one checkpoint directory.

    Raises:
        CheckpointError: naming the file that is missing, truncated, altered or of the old pickled format.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(path)
    legacy = [name for name in LEGACY_FILES if (root / name).exists()]
    if legacy:
        raise LegacyCheckpointError(root / legacy[0])
    summary = _read_json(root / SUMMARY_FILE)
    if summary.get("format") != FORMAT_NAME or summary.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{root / SUMMARY_FILE}: not an {FORMAT_NAME} of version {FORMAT_VERSION}")
    for name, record in summary["files"].items():
        _verify(root / name, record)
    try:
        model = load_file(str(root / MODEL_FILE))
        optimizer_tensors = load_file(str(root / OPTIMIZER_FILE))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{root}: cannot read its tensors: {error}") from error
    state = _read_json(root / STATE_FILE)
    rng_path = root / rng_file_name(rank)
    rng = _read_json(rng_path) if rng_path.name in summary["files"] else None
    optimizer = join_optimizer_state(optimizer_tensors, state.pop("optimizer"))
    return Checkpoint(root, state, model, optimizer, rng)


class LegacyCheckpointError(CheckpointError):
    """A resume file of albertlite 0.x: a pickle, which is never loaded since it can run code."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} is a resume file of an older albertlite, stored as a pickle, which albertlite never loads "
            "(a pickle can run code); start the run over (the old files are then deleted)"
        )
        self.path = path


def _verify(path: Path, record: Mapping[str, Any]) -> None:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    size = path.stat().st_size
    if size != record["bytes"]:
        raise CheckpointError(f"{path} is truncated or altered ({size} bytes, {record['bytes']} recorded)")
    if _sha256(path) != record["sha256"]:
        raise CheckpointError(f"{path} is corrupt (its sha256 differs from the one recorded)")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path} is unreadable: {error}") from error
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} does not hold a JSON object")
    return value


def load_latest(directory: str | os.PathLike, rank: int = 0, start_over: str = "") -> Checkpoint | None:
    """The newest intact checkpoint in ``directory``, or None when there is none at all.

    Broken checkpoints are skipped with a warning naming the file; an old pickled one stops the search.

    Args:
        directory: the ``checkpoints`` directory.
        rank: whose generator states to read.
        start_over: how the user starts over (a flag), appended to the errors.

    Raises:
        CheckpointError: every checkpoint is broken, or the newest usable one is of the old format.
    """
    found = list_checkpoints(directory)
    broken = []
    for _, path in reversed(found):
        try:
            return load_checkpoint(path, rank)
        except LegacyCheckpointError as error:
            raise CheckpointError(f"{error}: {start_over}" if start_over else str(error)) from None
        except CheckpointError as error:
            logger.warning("skipping a broken checkpoint: %s", error)
            broken.append(str(error))
    if broken:
        hint = f"; {start_over}" if start_over else ""
        raise CheckpointError(f"no intact checkpoint in {directory} ({broken[0]}){hint}")
    return None


# ---------------------------------------------------------------------------------------------- settings
def compare_settings(
    recorded: Mapping[str, Any], current: Mapping[str, Any], fixed: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """The differences between a checkpoint's settings and this run's.

    Args:
        recorded / current: setting name -> value.
        fixed: the settings that must not change, name -> how the user names it (a flag).

    Returns:
        (refused: "flag old -> new" for each fixed setting that changed, applied: the same for the others).
    """
    refused, applied = [], []
    for name in sorted(set(recorded) | set(current)):
        before, after = recorded.get(name), current.get(name)
        if _same(before, after):
            continue
        entry = f"{fixed.get(name, name)} {_short(before)} -> {_short(after)}"
        (refused if name in fixed else applied).append(entry)
    return refused, applied


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def check_resume_settings(
    path: Path, recorded: Mapping[str, Any], current: Mapping[str, Any], fixed: Mapping[str, str], start_over: str
) -> list[str]:
    """Refuse a resume whose fixed settings changed (one line naming each); return the changes applied."""
    refused, applied = compare_settings(recorded, current, fixed)
    if refused:
        raise ValueError(
            f"cannot resume from {path}: {'; '.join(refused)} changed since it was written; "
            f"run with the same settings, or {start_over}"
        )
    if applied:
        logger.warning("resuming from %s with changed settings: %s", path, "; ".join(applied))
    return applied


def fingerprint(value: Any, describe: Callable[[Any], Any] | None = None) -> str:
    """A short content hash of training data: a file's bytes, a directory's manifest, or examples as JSON."""
    digest = hashlib.sha256()
    if isinstance(value, (str, os.PathLike)) and Path(value).is_file():
        _hash_file(digest, value)
    elif isinstance(value, (str, os.PathLike)) and (Path(value) / "manifest.json").is_file():
        digest.update((Path(value) / "manifest.json").read_bytes())
    elif hasattr(value, "_fingerprint"):  # a datasets.Dataset
        digest.update(str(value._fingerprint).encode())
    else:
        described = describe(value) if describe is not None else value
        digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]
