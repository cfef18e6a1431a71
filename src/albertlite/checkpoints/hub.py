"""Resolve a local directory or a Hugging Face Hub id to files on disk.

Hub ids go through ``huggingface_hub`` so its cache layout, ``HF_HUB_OFFLINE`` and
``local_files_only`` behave exactly as users know them from ``transformers``. One difference: when the Hub cannot
be reached (and offline mode is off), ``huggingface_hub`` retries every file for about 20 seconds; here the first
Hub look-up (and the first after a minute) opens one short connection to the endpoint, and when that fails every
file is answered from the cache alone, or refused in one line that says the Hub is unreachable.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

HUB_KWARGS = frozenset({"cache_dir", "revision", "token", "local_files_only", "force_download"})
CONNECT_TIMEOUT = 3.0  # seconds the reachability check waits for the Hub's (or the proxy's) TCP handshake
RECHECK_AFTER = 60.0  # seconds after which a long-lived process (a server) checks the Hub again
_UNREACHABLE: dict[str, tuple[float, str]] = {}  # Hub endpoint -> (when, why it could not be reached; "": it could)


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

    Raises:
        ValueError: ``name_or_path`` is empty, or a file (``dir/config.json``) rather than its directory.
    """
    check_name(name_or_path)
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


def check_name(name_or_path: str | os.PathLike) -> None:
    """Refuse a name that from_pretrained would misread: "" (the current directory) or a file inside a model."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"Expected a model directory or a Hub id (a string or path), got {type(name_or_path).__name__}."
        )
    if not str(name_or_path).strip():
        raise ValueError("The model name is empty: pass a model directory or a Hub id such as albert/albert-base-v2.")
    if Path(name_or_path).is_file():
        raise ValueError(
            f"{name_or_path} is a file: pass the directory that holds it ({Path(name_or_path).parent}), "
            f"where config.json, the weights and the tokenizer files are read from."
        )


def hub_unreachable() -> str:
    """Why the Hub endpoint cannot be reached ("" when it can, or in offline mode), checked once a minute."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return ""
    endpoint = constants.ENDPOINT
    checked, why = _UNREACHABLE.get(endpoint, (float("-inf"), ""))
    if time.monotonic() - checked > RECHECK_AFTER:
        why = _connect(endpoint)
        _UNREACHABLE[endpoint] = (time.monotonic(), why)
    return why


def _connect(endpoint: str) -> str:
    """ "" when a TCP connection to ``endpoint`` (or to the proxy in front of it) opens in time, else why not."""
    url = urllib.parse.urlsplit(endpoint)
    proxy = None if urllib.request.proxy_bypass(url.hostname or "") else urllib.request.getproxies().get(url.scheme)
    target = urllib.parse.urlsplit(proxy) if proxy else url
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        with socket.create_connection((target.hostname, port), timeout=CONNECT_TIMEOUT):
            return ""
    except OSError as error:
        return str(error.strerror or error or type(error).__name__)


def _unreachable_error(what: str, why: str) -> CheckpointNotFoundError:
    from huggingface_hub import constants

    return CheckpointNotFoundError(
        f"The Hugging Face Hub ({constants.ENDPOINT}) cannot be reached ({why}) and {what} is not in the local "
        f"cache: pass a local model directory, or set HF_HUB_OFFLINE=1 to use only the cache."
    )


def _hub_file(repo_id: str, filename: str, *, required: bool, **kwargs) -> Path | None:
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    why = "" if kwargs.get("local_files_only") else hub_unreachable()
    if why:  # answer from the cache alone: huggingface_hub would retry this file for ~20 s
        kwargs = {**kwargs, "local_files_only": True, "force_download": False}
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
        what = f"{filename} of {repo_id!r}" if required else repr(repo_id)  # an optional file: nothing is cached
        if not kwargs.get("local_files_only") and not constants.is_offline_mode():
            why = "its first request failed"  # the next files skip huggingface_hub's retries
            _UNREACHABLE[constants.ENDPOINT] = (time.monotonic(), why)
        if why:
            raise _unreachable_error(what, why) from error
        raise CheckpointNotFoundError(
            f"{what} is not in the local cache and the Hub cannot be reached "
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
