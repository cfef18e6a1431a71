"""Training checkpoints that are either complete or absent: written in a hidden directory, then renamed.

Layout: ``<output>/checkpoints/step-00000100/`` holds ``training_state.pt`` (model, optimizer, schedule, data
position, run settings), ``rng-<rank>.pt`` (torch, numpy and python generator states of each rank) and
``checkpoint.json`` (a readable summary, written last). A checkpoint is written into ``.tmp-step-...``, every file
fsynced, then renamed to ``step-...`` in one ``os.replace``; old ones are renamed to ``.trash-...`` before being
deleted. A ``step-*`` directory is therefore always whole, whenever the process dies; leftovers of a killed
process only ever carry a leading dot, and :func:`clean_checkpoint_dir` removes them on the next start.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from albertlite.checkpoints.files import atomic_write_text

STATE_FILE = "training_state.pt"
SUMMARY_FILE = "checkpoint.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def step_dir_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(directory: str | os.PathLike) -> list[tuple[int, Path]]:
    """Complete checkpoints in ``directory`` as (step, path), oldest first."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), path) for path in root.iterdir() if (m := _STEP_DIR.match(path.name)) and path.is_dir()]
    return sorted(found)


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint, or None."""
    found = list_checkpoints(directory)
    return found[-1][1] if found else None


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


def rng_state() -> dict[str, Any]:
    """This process's generator states: torch (and CUDA), numpy's global one, python's ``random``."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def write_rng_state(temp_dir: Path, rank: int) -> None:
    """Each rank writes its own generator states into the checkpoint being assembled."""
    _save_synced(rng_state(), temp_dir / f"rng-{rank}.pt")


def finish_checkpoint(temp_dir: Path, state: dict[str, Any], summary: dict[str, Any]) -> Path:
    """Write the shared state into ``temp_dir`` and publish it as ``step-...`` (rank 0 only)."""
    _save_synced(state, temp_dir / STATE_FILE)
    atomic_write_text(temp_dir / SUMMARY_FILE, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    final = temp_dir.parent / temp_dir.name.removeprefix(".tmp-")
    if final.exists():  # the same step saved again (a resumed run): retire the old copy first
        _retire(final)
    os.replace(temp_dir, final)
    _fsync_dir(final.parent)
    return final


def prune_checkpoints(directory: str | os.PathLike, keep: int) -> None:
    """Keep the newest ``keep`` checkpoints (all when ``keep <= 0``)."""
    found = list_checkpoints(directory)
    if keep > 0:
        for _, path in found[:-keep]:
            _retire(path)


def load_checkpoint(path: str | os.PathLike, rank: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(shared state, this rank's generator states or None when the checkpoint has none for it)."""
    root = Path(path)
    state = torch.load(root / STATE_FILE, map_location="cpu", weights_only=False)
    rng_file = root / f"rng-{rank}.pt"
    rng = torch.load(rng_file, map_location="cpu", weights_only=False) if rng_file.is_file() else None
    return state, rng


def _retire(path: Path) -> None:
    # rename first: a deletion killed half-way must not leave a step-* directory with files missing
    trash = path.parent / f".trash-{path.name}"
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _save_synced(obj: Any, path: Path) -> None:
    with open(path, "wb") as handle:
        torch.save(obj, handle)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
