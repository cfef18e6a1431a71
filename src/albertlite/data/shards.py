"""The on-disk format of pretraining data: flat little-endian arrays read by memory map, and a JSON manifest.

A dataset directory holds ``manifest.json``, ``word_start.npy`` (the masking table, so dynamic masking needs no
tokenizer) and, for each shard ``shard-00000`` ..., seven raw arrays ``<shard>.<array>.bin``; the manifest gives
their dtypes and lengths. docs/data_format.md describes every field. Each file is written under a temporary
name and renamed when complete, and the manifest is written last: a directory without one is not a dataset.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from albertlite.checkpoints.files import atomic_write, atomic_write_text
from albertlite.data.masking import NgramMasker

FORMAT_NAME = "albertlite-pretraining-shards"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WORD_START = "word_start.npy"
IGNORE_INDEX = -100  # label of the positions the MLM loss skips (PyTorch's cross-entropy default)

# array name -> dtype ("token" is the manifest's token_dtype). Per instance: segment_b_start, sentence_order_label;
# n+1 running offsets: instance_offsets (into input_ids), masked_offsets (into masked_positions/masked_labels).
ARRAYS = {
    "input_ids": "token",
    "instance_offsets": "<i8",
    "segment_b_start": "<i4",
    "sentence_order_label": "u1",
    "masked_positions": "<i4",
    "masked_labels": "token",
    "masked_offsets": "<i8",
}


def token_dtype_for(vocab_size: int) -> str:
    """The narrowest dtype that holds every id: ``<u2`` up to 65,536 pieces, else ``<i4``."""
    return "<u2" if vocab_size <= 1 << 16 else "<i4"


def vocab_hash(vocab: Mapping[str, int]) -> str:
    """sha256 of the vocabulary's (piece, id) pairs sorted by id, to check data and tokenizer belong together."""
    text = json.dumps(sorted(vocab.items(), key=lambda item: item[1]), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class InstanceBatch:
    """Instances in columns (flat arrays plus per-instance counts): compact to pass between processes.

    Args:
        input_ids: all instances' tokens, concatenated.
        lengths: tokens per instance.
        segment_b_start: per instance, the position of B's first token (after the first [SEP]).
        sentence_order_label: per instance, 0 or 1.
        masked_positions: all instances' masked positions, concatenated.
        masked_labels: the original ids at those positions.
        masked_counts: masked positions per instance.
    """

    input_ids: np.ndarray
    lengths: np.ndarray
    segment_b_start: np.ndarray
    sentence_order_label: np.ndarray
    masked_positions: np.ndarray
    masked_labels: np.ndarray
    masked_counts: np.ndarray

    @classmethod
    def from_instances(cls, instances: Iterable[Any], token_dtype: str) -> InstanceBatch:
        """Pack :class:`~albertlite.data.pretraining.PretrainingInstance` objects, consuming them one by one."""
        tokens, positions, labels = [], [], []
        lengths, b_starts, order, counts = [], [], [], []
        for instance in instances:  # keep only narrow copies, not the instances, while the iterator runs
            tokens.append(instance.input_ids.astype(token_dtype))
            positions.append(instance.masked_lm_positions.astype("<i4"))
            labels.append(instance.masked_lm_labels.astype(token_dtype))
            lengths.append(len(instance.input_ids))
            b_starts.append(int(np.argmax(instance.token_type_ids)))
            order.append(instance.sentence_order_label)
            counts.append(len(instance.masked_lm_positions))

        def cat(arrays: list[np.ndarray], dtype: str) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

        return cls(
            input_ids=cat(tokens, token_dtype),
            lengths=np.array(lengths, dtype=np.int64),
            segment_b_start=np.array(b_starts, dtype="<i4"),
            sentence_order_label=np.array(order, dtype="u1"),
            masked_positions=cat(positions, "<i4"),
            masked_labels=cat(labels, token_dtype),
            masked_counts=np.array(counts, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.lengths)

    def slice(self, start: int, stop: int) -> InstanceBatch:
        """Instances ``start`` to ``stop`` (exclusive)."""
        token_bounds = np.concatenate([[0], np.cumsum(self.lengths)])
        masked_bounds = np.concatenate([[0], np.cumsum(self.masked_counts)])
        tokens = slice(int(token_bounds[start]), int(token_bounds[stop]))
        masked = slice(int(masked_bounds[start]), int(masked_bounds[stop]))
        return InstanceBatch(
            self.input_ids[tokens],
            self.lengths[start:stop],
            self.segment_b_start[start:stop],
            self.sentence_order_label[start:stop],
            self.masked_positions[masked],
            self.masked_labels[masked],
            self.masked_counts[start:stop],
        )


class ShardWriter:
    """Writes instance batches into shards of at most ``instances_per_shard`` instances, streaming to disk.

    Args:
        directory: the output directory (created; it must not already hold a dataset unless ``overwrite``).
        token_dtype: dtype of the token ids (see :func:`token_dtype_for`).
        word_start: the masking table saved beside the shards.
        metadata: extra manifest fields (tokenizer, settings); must be JSON-serialisable.
        instances_per_shard: the shard size.
        overwrite: replace a dataset already in ``directory``.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        token_dtype: str,
        word_start: np.ndarray,
        metadata: Mapping[str, Any],
        instances_per_shard: int = 16384,
        overwrite: bool = False,
    ) -> None:
        if instances_per_shard < 1:
            raise ValueError(f"instances_per_shard must be at least 1, got {instances_per_shard}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        _clear_dataset(self.directory, overwrite)
        self.token_dtype = token_dtype
        self.metadata = dict(metadata)
        self.instances_per_shard = instances_per_shard
        self.shards: list[dict[str, int | str]] = []
        self._files: dict[str, BinaryIO] = {}
        self._counts = {"instances": 0, "tokens": 0, "masked": 0}
        atomic_write(self.directory / WORD_START, lambda tmp: _save_npy(tmp, np.asarray(word_start, dtype=bool)))

    def write(self, batch: InstanceBatch) -> None:
        """Append a batch, starting new shards as they fill."""
        start = 0
        while start < len(batch):
            if not self._files:
                self._open_shard()
            room = self.instances_per_shard - self._counts["instances"]
            part = batch.slice(start, min(len(batch), start + room))
            self._append(part)
            start += len(part)
            if self._counts["instances"] == self.instances_per_shard:
                self._close_shard()

    def close(self) -> dict[str, Any]:
        """Finish the last shard and write the manifest; returns the manifest."""
        if self._files:
            self._close_shard()
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "num_instances": sum(int(s["num_instances"]) for s in self.shards),
            "num_tokens": sum(int(s["num_tokens"]) for s in self.shards),
            "num_masked": sum(int(s["num_masked"]) for s in self.shards),
            "token_dtype": self.token_dtype,
            "arrays": {name: (self.token_dtype if dtype == "token" else dtype) for name, dtype in ARRAYS.items()},
            "shards": self.shards,
            **self.metadata,
        }
        atomic_write_text(self.directory / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return manifest

    def _open_shard(self) -> None:
        name = f"shard-{len(self.shards):05d}"
        self._name = name
        self._files = {array: open(self.directory / f".{name}.{array}.bin.tmp", "wb") for array in ARRAYS}  # noqa: SIM115
        self._counts = {"instances": 0, "tokens": 0, "masked": 0}
        self._files["instance_offsets"].write(np.zeros(1, dtype="<i8").tobytes())
        self._files["masked_offsets"].write(np.zeros(1, dtype="<i8").tobytes())

    def _append(self, batch: InstanceBatch) -> None:
        files = self._files
        files["input_ids"].write(batch.input_ids.astype(self.token_dtype).tobytes())
        files["instance_offsets"].write((self._counts["tokens"] + np.cumsum(batch.lengths)).astype("<i8").tobytes())
        files["segment_b_start"].write(batch.segment_b_start.astype("<i4").tobytes())
        files["sentence_order_label"].write(batch.sentence_order_label.astype("u1").tobytes())
        files["masked_positions"].write(batch.masked_positions.astype("<i4").tobytes())
        files["masked_labels"].write(batch.masked_labels.astype(self.token_dtype).tobytes())
        files["masked_offsets"].write((self._counts["masked"] + np.cumsum(batch.masked_counts)).astype("<i8").tobytes())
        self._counts["instances"] += len(batch)
        self._counts["tokens"] += int(batch.lengths.sum())
        self._counts["masked"] += int(batch.masked_counts.sum())

    def _close_shard(self) -> None:
        for array, handle in self._files.items():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(self.directory / f".{self._name}.{array}.bin.tmp", self.directory / f"{self._name}.{array}.bin")
        self._files = {}
        self.shards.append(
            {
                "name": self._name,
                "num_instances": self._counts["instances"],
                "num_tokens": self._counts["tokens"],
                "num_masked": self._counts["masked"],
            }
        )

    def abort(self) -> None:
        """Close and delete the unfinished shard's temporary files (the finished shards stay, without manifest)."""
        for array, handle in self._files.items():
            handle.close()
            (self.directory / f".{self._name}.{array}.bin.tmp").unlink(missing_ok=True)
        self._files = {}


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a handle, since np.save would append ".npy" to the temporary name
        np.save(handle, array)


def _clear_dataset(directory: Path, overwrite: bool) -> None:
    manifest = directory / MANIFEST
    if not manifest.exists():
        return
    if not overwrite:
        raise ValueError(f"{directory} already holds pretraining data (manifest.json); pass overwrite to replace it")
    manifest.unlink()  # first, so an interrupted overwrite leaves no dataset that looks complete
    for path in directory.glob("shard-*.bin"):
        path.unlink()


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a dataset directory, checked for format and version."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not pretraining data: {MANIFEST} is missing")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not an {FORMAT_NAME} manifest (format={manifest.get('format')!r})")
    if manifest.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {manifest.get('version')}; this albertlite reads {FORMAT_VERSION}")
    return manifest


class PretrainingShards(Sequence):
    """Random access to a pretraining dataset directory by memory map.

    ``dataset[i]`` is a dict of numpy arrays: ``input_ids``, ``token_type_ids`` (int64, unpadded),
    ``masked_lm_positions``, ``masked_lm_labels`` (int64) and ``sentence_order_label`` (int64 scalar).
    Files are mapped on first use in each process, so the object can be handed to DataLoader workers.
    Datasets written without masking are masked on read when ``dynamic_masking`` is on (the default for
    them): a fresh mask per epoch (see :meth:`set_epoch`), drawn from ``(seed, epoch, index)``.

    Args:
        directory: the dataset directory.
        dynamic_masking: mask on read; None means "when the data was written unmasked".
        seed: seed of the dynamic masks; None takes the manifest's seed.

    Example:
        >>> data = PretrainingShards("out/")
        >>> batch = collate_pretraining_batch([data[i] for i in range(8)], pad_token_id=data.pad_token_id)
    """

    def __init__(
        self, directory: str | os.PathLike, *, dynamic_masking: bool | None = None, seed: int | None = None
    ) -> None:
        self.directory = Path(directory)
        self.manifest = read_manifest(directory)
        self.static_masking = bool(self.manifest["settings"]["mask"])
        self.dynamic_masking = (not self.static_masking) if dynamic_masking is None else dynamic_masking
        if self.dynamic_masking and self.static_masking:
            raise ValueError(f"{directory} holds masked instances; dynamic masking needs data written unmasked")
        self.seed = int(self.manifest["settings"]["seed"] if seed is None else seed)
        self.epoch = 0
        self.pad_token_id = int(self.manifest["tokenizer"]["pad_token_id"])
        counts = [int(shard["num_instances"]) for shard in self.manifest["shards"]]
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._check_sizes()
        self._arrays: dict[int, dict[str, np.ndarray]] = {}
        self._masker: NgramMasker | None = None

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} instances")
        index %= len(self)
        shard = int(np.searchsorted(self._starts, index, side="right")) - 1
        arrays = self._shard_arrays(shard)
        local = index - int(self._starts[shard])
        begin, end = arrays["instance_offsets"][local : local + 2]
        input_ids = np.array(arrays["input_ids"][begin:end], dtype=np.int64)
        token_type_ids = np.zeros(len(input_ids), dtype=np.int64)
        token_type_ids[int(arrays["segment_b_start"][local]) :] = 1
        m_begin, m_end = arrays["masked_offsets"][local : local + 2]
        positions = np.array(arrays["masked_positions"][m_begin:m_end], dtype=np.int64)
        labels = np.array(arrays["masked_labels"][m_begin:m_end], dtype=np.int64)
        if self.dynamic_masking:
            masked = self.masker(input_ids, np.random.default_rng([self.seed, self.epoch, index]))
            input_ids = masked.input_ids.astype(np.int64)
            positions = masked.masked_lm_positions.astype(np.int64)
            labels = masked.masked_lm_labels.astype(np.int64)
        return {
            "input_ids": input_ids,
            "token_type_ids": token_type_ids,
            "masked_lm_positions": positions,
            "masked_lm_labels": labels,
            "sentence_order_label": np.array(int(arrays["sentence_order_label"][local]), dtype=np.int64),
        }

    def lengths(self) -> np.ndarray:
        """Every instance's token count ([CLS] and [SEP]s included), by index: int64, shape (len(self),)."""
        per_shard = [
            np.diff(self._shard_arrays(shard)["instance_offsets"]) for shard in range(len(self.manifest["shards"]))
        ]
        return np.concatenate([np.zeros(0, dtype=np.int64), *per_shard]).astype(np.int64)

    def token_counts(self) -> np.ndarray:
        """How often each vocabulary id occurs in the instances: their text's tokens (the original ids at masked
        positions, not [MASK] or the random replacement), special tokens left out. Shape (vocab_size,), int64."""
        vocab_size = int(self.manifest["tokenizer"]["vocab_size"])
        counts = np.zeros(vocab_size, dtype=np.int64)
        for shard in range(len(self.manifest["shards"])):
            arrays = self._shard_arrays(shard)
            ids = np.array(arrays["input_ids"], dtype=np.int64)
            starts = np.asarray(arrays["instance_offsets"][:-1], dtype=np.int64)
            owner = np.repeat(np.arange(len(starts)), np.diff(arrays["masked_offsets"]))  # each masked entry's instance
            positions = starts[owner] + np.asarray(arrays["masked_positions"], dtype=np.int64)
            ids[positions] = np.asarray(arrays["masked_labels"], dtype=np.int64)
            counts += np.bincount(ids, minlength=vocab_size)[:vocab_size]
        counts[list(self.manifest["tokenizer"]["all_special_ids"])] = 0
        return counts

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose dynamic masks ``__getitem__`` returns."""
        self.epoch = int(epoch)

    @property
    def masker(self) -> NgramMasker:
        """The masker the manifest's settings describe, over the saved word table."""
        if self._masker is None:
            settings, tokenizer = self.manifest["settings"], self.manifest["tokenizer"]
            self._masker = NgramMasker(
                np.load(self.directory / WORD_START),
                tokenizer["all_special_ids"],
                tokenizer["mask_token_id"],
                masked_lm_prob=settings["masked_lm_prob"],
                max_predictions_per_seq=settings["max_predictions_per_seq"],
                ngram=settings["ngram"],
                favor_shorter_ngram=settings["favor_shorter_ngram"],
                do_whole_word_mask=settings["do_whole_word_mask"],
            )
        return self._masker

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_arrays"] = {}  # memory maps are reopened in the receiving process
        return state

    def _shard_arrays(self, shard: int) -> dict[str, np.ndarray]:
        if shard not in self._arrays:
            name = self.manifest["shards"][shard]["name"]
            self._arrays[shard] = {
                array: _map(self.directory / f"{name}.{array}.bin", dtype) for array, dtype in self._dtypes().items()
            }
        return self._arrays[shard]

    def _dtypes(self) -> dict[str, str]:
        return dict(self.manifest["arrays"])

    def _check_sizes(self) -> None:
        for shard in self.manifest["shards"]:
            for array, dtype in self._dtypes().items():
                path = self.directory / f"{shard['name']}.{array}.bin"
                expected = _expected_length(array, shard) * np.dtype(dtype).itemsize
                actual = path.stat().st_size if path.exists() else None
                if actual != expected:
                    raise ValueError(f"{path}: expected {expected} bytes, found {actual}; the dataset is incomplete")


def _expected_length(array: str, shard: Mapping[str, Any]) -> int:
    if array == "input_ids":
        return int(shard["num_tokens"])
    if array in ("masked_positions", "masked_labels"):
        return int(shard["num_masked"])
    return int(shard["num_instances"]) + (1 if array.endswith("offsets") else 0)


def _map(path: Path, dtype: str) -> np.ndarray:
    if path.stat().st_size == 0:  # np.memmap cannot map an empty file
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def collate_pretraining_batch(
    samples: Sequence[Mapping[str, np.ndarray]], *, pad_token_id: int = 0, pad_to: int | None = None
) -> dict[str, np.ndarray]:
    """Pad samples of :class:`PretrainingShards` into a batch for ``AlbertForPreTraining``.

    Args:
        samples: dicts with ``input_ids``, ``token_type_ids``, ``masked_lm_positions``, ``masked_lm_labels`` and
            ``sentence_order_label``.
        pad_token_id: the id put in padding positions.
        pad_to: the padded length (at least the longest sample); the longest sample when None.

    Returns:
        int64 arrays: ``input_ids``, ``attention_mask``, ``token_type_ids``, ``labels`` (shape (B, L); labels
        hold the original id at masked positions and -100 elsewhere) and ``sentence_order_label`` (B,).
    """
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    longest = max(len(sample["input_ids"]) for sample in samples)
    length = longest if pad_to is None else pad_to
    if length < longest:
        raise ValueError(f"pad_to={pad_to} is shorter than the longest sample ({longest} tokens)")
    batch = {
        "input_ids": np.full((len(samples), length), pad_token_id, dtype=np.int64),
        "attention_mask": np.zeros((len(samples), length), dtype=np.int64),
        "token_type_ids": np.zeros((len(samples), length), dtype=np.int64),
        "labels": np.full((len(samples), length), IGNORE_INDEX, dtype=np.int64),
    }
    for row, sample in enumerate(samples):
        size = len(sample["input_ids"])
        batch["input_ids"][row, :size] = sample["input_ids"]
        batch["attention_mask"][row, :size] = 1
        batch["token_type_ids"][row, :size] = sample["token_type_ids"]
        batch["labels"][row, np.asarray(sample["masked_lm_positions"], dtype=np.int64)] = sample["masked_lm_labels"]
    batch["sentence_order_label"] = np.array([int(s["sentence_order_label"]) for s in samples], dtype=np.int64)
    return batch
