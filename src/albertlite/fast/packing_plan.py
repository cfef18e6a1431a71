"""Framework-neutral packing plan for the TensorFlow and Flax fast paths (numpy only).

The real tokens of a (B, S) batch are packed, sequence by sequence, into R rows of P slots (first-fit decreasing by
length), with P taken from a few fixed row lengths and R rounded up to a power of two or 1.5 times one, so that a
compiled (R, P) computation is reused by many batches. Every slot carries its sequence's id (``segments``), so
attention can be kept within each sequence by a block-diagonal mask, and its own token type and absolute position
(positions restart per sequence). ``index`` maps every (b, s) of the caller's batch back to its slot, or to one
extra slot, R * P, that the frameworks fill with zeros: padded positions of the unpacked outputs are zeros.

Axis legend: B batch, S padded length, R packed rows, P slots per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ROW_LENGTHS", "PackPlan", "plan_packing"]

#: the row lengths P a plan may use (plus the row cap itself, when it is not one of them)
ROW_LENGTHS = (32, 64, 128, 256, 512)


@dataclass(frozen=True)
class PackPlan:
    """Where every real token of a (B, S) batch goes in (R, P) packed rows.

    Attributes:
        input_ids, token_type_ids, position_ids: (R, P) int32 values per slot (0 in empty slots).
        segments: (R, P) int32: 1 + the sequence's row in the batch; 0 for empty slots (they attend among
            themselves, which keeps their softmax finite, and no real token attends to them).
        index: (B * S,) int32 slot of each (b, s) in the flattened (R * P) rows; R * P for padded positions.
        first: (B,) int32 slot of each sequence's first real token.
    """

    input_ids: np.ndarray
    token_type_ids: np.ndarray
    position_ids: np.ndarray
    segments: np.ndarray
    index: np.ndarray
    first: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.segments.shape)


def _row_count(n: int) -> int:
    """The smallest allowed row count >= n: powers of two and 1.5 times them (1, 2, 3, 4, 6, 8, 12, 16, ...)."""
    power = 1 << max(0, n - 1).bit_length()
    return power * 3 // 4 if power >= 4 and power * 3 // 4 >= n else power


def _first_fit(lengths: np.ndarray, order: np.ndarray, row_len: int) -> list[list[int]]:
    """Sequence indices per row, longest sequences placed first, each into the first row with room."""
    rows: list[list[int]] = []
    room: list[int] = []
    for b in order:
        need = int(lengths[b])
        for r, free in enumerate(room):
            if free >= need:
                rows[r].append(int(b))
                room[r] -= need
                break
        else:
            rows.append([int(b)])
            room.append(row_len - need)
    return rows


def plan_packing(
    attention_mask: np.ndarray,
    input_ids: np.ndarray,
    token_type_ids: np.ndarray | None = None,
    position_ids: np.ndarray | None = None,
    *,
    max_row_len: int = 512,
    first_real: bool = False,
    contiguous: bool = False,
) -> PackPlan | None:
    """Plan the packing of a (B, S) batch, or None when packing would not reproduce the padded computation.

    Args:
        attention_mask: (B, S), nonzero at real tokens.
        input_ids, token_type_ids, position_ids: (B, S) (position_ids may also be (S,) or (1, S)); token types
            default to 0 and positions to the column of each token, as in the plain models.
        max_row_len: longest row allowed (relative positions need rows no longer than max_position_embeddings:
            their distance table has no entries beyond it).
        first_real: require column 0 of every row to be a real token (a pooler reads it).
        contiguous: require each row's real tokens to be contiguous, so that distances between packed slots
            equal distances between columns (relative position scores).

    Returns:
        The plan, or None when a row has no real token, a requirement above fails, a sequence is longer than
        ``max_row_len``, or the packed rows would hold no fewer slots than the padded batch.
    """
    keep = np.asarray(attention_mask) != 0
    batch, seq_len = keep.shape
    lengths = keep.sum(axis=1)
    if batch == 0 or (lengths == 0).any():
        return None  # a row of padding only attends everywhere on the plain path: nothing to pack
    if first_real and not keep[:, 0].all():
        return None
    if contiguous:
        starts = keep.argmax(axis=1)
        span = np.arange(seq_len)[None, :] - starts[:, None]
        if not ((span >= 0) & (span < lengths[:, None]) == keep).all():
            return None
    longest = int(lengths.max())
    candidates = sorted({p for p in ROW_LENGTHS if p <= max_row_len} | {max_row_len})
    candidates = [p for p in candidates if p >= longest]
    if not candidates:
        return None
    order = np.argsort(-lengths, kind="stable")
    # Cost: slots computed (attention's P^2 term is small next to the dense layers at these lengths).
    best = min(
        ((_row_count(len(rows)) * p, p, rows) for p in candidates for rows in [_first_fit(lengths, order, p)]),
        key=lambda item: (item[0], item[1]),
    )
    slots, row_len, rows = best
    if slots >= batch * seq_len:
        return None  # packing would compute no fewer positions than the padded batch (e.g. little padding)
    num_rows = _row_count(len(rows))
    return _fill(keep, lengths, rows, num_rows, row_len, input_ids, token_type_ids, position_ids)


def _fill(
    keep: np.ndarray,
    lengths: np.ndarray,
    rows: list[list[int]],
    num_rows: int,
    row_len: int,
    input_ids: np.ndarray,
    token_type_ids: np.ndarray | None,
    position_ids: np.ndarray | None,
) -> PackPlan:
    batch, seq_len = keep.shape
    input_ids = np.asarray(input_ids)
    types = np.zeros_like(input_ids) if token_type_ids is None else np.asarray(token_type_ids)
    if position_ids is None:
        positions = np.broadcast_to(np.arange(seq_len), (batch, seq_len))
    else:
        positions = np.broadcast_to(np.asarray(position_ids), (batch, seq_len))
    packed = {name: np.zeros((num_rows, row_len), np.int32) for name in ("ids", "types", "positions", "segments")}
    index = np.full((batch, seq_len), num_rows * row_len, np.int64)
    first = np.zeros(batch, np.int64)
    for r, members in enumerate(rows):
        offset = 0
        for b in members:
            columns = np.flatnonzero(keep[b])
            end = offset + int(lengths[b])
            packed["ids"][r, offset:end] = input_ids[b, columns]
            packed["types"][r, offset:end] = types[b, columns]
            packed["positions"][r, offset:end] = positions[b, columns]
            packed["segments"][r, offset:end] = b + 1
            index[b, columns] = r * row_len + np.arange(offset, end)
            first[b] = r * row_len + offset
            offset = end
    return PackPlan(
        input_ids=packed["ids"],
        token_type_ids=packed["types"],
        position_ids=packed["positions"],
        segments=packed["segments"],
        index=index.reshape(-1).astype(np.int32),
        first=first.astype(np.int32),
    )
