"""Resolve a local directory or a Hugging Face Hub id to files on disk.

Hub ids go through ``huggingface_hub`` so its cache layout, ``HF_HUB_OFFLINE`` and
``local_files_only`` behave exactly as users know them from ``transformers``.
"""

from __future__ import annotations

import os
from pathlib import Path

HUB_KWARGS = frozenset({"cache_dir", "revision", "token", "local_files_only", "force_download"})


class CheckpointNotFoundError(OSError):
    """A model or tokenizer file could not be found locally or on the Hub."""


def is_local(name_or_path: str | os.PathLike) -> bool:
    return Path(name_or_path).is_dir()


def resolve_file(
    name_or_path: str | os.PathLike,
    filename: str,
    *,
    required: bool = True,
    cache_dir: str | os.PathLike | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
) -> Path | None:
    """Path of ``filename`` inside a local directory or a Hub repository.

    Returns None when the file is absent and ``required`` is False; raises
    CheckpointNotFoundError (naming the file and where it looked) when it is required.
    """
    directory = Path(name_or_path)
    if directory.is_dir():
        candidate = directory / filename
        if candidate.is_file():
            return candidate
        if required:
            present = sorted(p.name for p in directory.iterdir())
            raise CheckpointNotFoundError(f"{directory} has no {filename} (it holds: {present}).")
        return None
    return _hub_file(
        str(name_or_path),
        filename,
        required=required,
        cache_dir=cache_dir,
        revision=revision,
        token=token,
        local_files_only=local_files_only,
        force_download=force_download,
    )


def _hub_file(repo_id: str, filename: str, *, required: bool, **kwargs) -> Path | None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(hf_hub_download(repo_id, filename, **kwargs))
    except HFValidationError as error:
        raise CheckpointNotFoundError(
            f"{repo_id!r} is neither a local directory nor a valid Hub repository id."
        ) from error
    except (RepositoryNotFoundError, RevisionNotFoundError) as error:
        raise CheckpointNotFoundError(f"No Hub repository {repo_id!r} (or revision) was found: {error}") from error
    # LocalEntryNotFoundError subclasses EntryNotFoundError: it must be caught first.
    except LocalEntryNotFoundError as error:
        # Offline (or local_files_only) and not cached. For optional files, "not cached" is an answer.
        if not required and _cached_snapshot_exists(repo_id, kwargs):
            return None
        raise CheckpointNotFoundError(
            f"{filename} of {repo_id!r} is not in the local cache and the Hub cannot be reached "
            f"(offline mode or no network). Download it once with network access, or pass a local directory."
        ) from error
    except EntryNotFoundError:
        if required:
            raise CheckpointNotFoundError(f"The Hub repository {repo_id!r} has no file {filename}.") from None
        return None


def _cached_snapshot_exists(repo_id: str, kwargs: dict) -> bool:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(
            repo_id,
            cache_dir=kwargs.get("cache_dir"),
            revision=kwargs.get("revision"),
            local_files_only=True,
            allow_patterns=["config.json"],
        )
    except Exception:  # noqa: BLE001 - any failure means "no usable snapshot"
        return False
    return True
