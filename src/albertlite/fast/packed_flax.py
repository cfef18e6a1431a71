"""Padding-free Flax inference: the real tokens of a (B, S) batch run as (R, P) packed rows.

:func:`plan_packing_for_call` turns a concrete inference call's inputs into the packed arrays of
:mod:`albertlite.fast.packing_plan` (or None: then the plain path runs); the base module hands them to
:func:`packed_forward`, which runs its embeddings, encoder and pooler on the packed rows with attention kept within
each sequence, and scatters the states back to (B, S, H). Padded positions of the unpacked states are zeros; real
positions equal the plain path within 1e-4 (tests/test_fast_tf_flax.py).

Axis legend: B batch, S padded length, R packed rows, P slots per row, E embedding_size, H hidden_size.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from albertlite.config import AlbertConfig
from albertlite.fast import fast_path_enabled
from albertlite.fast.packing_plan import plan_packing
from albertlite.outputs import BaseModelOutputWithPooling

__all__ = ["Packing", "packed_forward", "plan_packing_for_call"]

Array = jax.Array
#: the fields of a :class:`~albertlite.fast.packing_plan.PackPlan` as device arrays (a pytree for jit)
Packing = dict[str, Array]


def plan_packing_for_call(
    config: AlbertConfig, inputs: tuple[Array, Array, Array, Array], *, first_real: bool
) -> Packing | None:
    """The packed inputs of an inference call (input_ids, mask, token types, positions), or None for the plain path.

    Packing needs the attention mask's values: inputs traced by the caller's own ``jax.jit`` run the plain path.
    ``first_real``: the model has a pooler, which reads position 0 of every row, so that position must be real.
    """
    if not fast_path_enabled() or any(isinstance(x, jax.core.Tracer) for x in inputs):
        return None
    ids, mask, types, positions = (np.asarray(x).reshape(-1, x.shape[-1]) for x in inputs)
    relative = config.position_embedding_type != "absolute"
    plan = plan_packing(
        mask,
        ids,
        types,
        positions,
        max_row_len=config.max_position_embeddings if relative else max(512, mask.shape[1]),
        first_real=first_real,
        contiguous=relative,
    )
    return None if plan is None else {name: jnp.asarray(value) for name, value in vars(plan).items()}


def packed_forward(
    model: Any, packing: Packing, shape: tuple[int, int], output_hidden_states: bool
) -> BaseModelOutputWithPooling:
    """``FlaxAlbertModule``'s forward pass on packed rows, unpacked to the caller's (B, S) batch.

    Args:
        model: the bound base module (called from its own ``__call__``, so its submodules can be applied).
        packing: from :func:`plan_packing_for_call`.
        shape: the caller's (B, S).
        output_hidden_states: also return the hidden states, unpacked.
    """
    embeddings = model.embeddings(
        packing["input_ids"], packing["token_type_ids"], packing["position_ids"], True
    )  # (R, P, E)
    segments = packing["segments"]  # (R, P)
    same = segments[:, None, :, None] == segments[:, None, None, :]  # (R, 1, P, P): within each sequence
    mask_bias = jnp.where(same, 0.0, jnp.finfo(jnp.float32).min)
    last, hidden_states, _ = model.encoder(embeddings, mask_bias, None, True, False, output_hidden_states)
    width = model.config.hidden_size

    def flat(states: Array) -> Array:
        return states.reshape(-1, width)  # (R * P, H)

    def unpack(states: Array) -> Array:
        padded = jnp.concatenate([flat(states), jnp.zeros((1, width), states.dtype)])  # slot R * P is zero
        return padded[packing["index"]].reshape(*shape, width)  # (B, S, H)

    pooled = jnp.tanh(model.pooler(flat(last)[packing["first"]])) if model.add_pooling_layer else None  # (B, H)
    return BaseModelOutputWithPooling(
        last_hidden_state=unpack(last),
        pooler_output=pooled,
        hidden_states=None if hidden_states is None else tuple(unpack(h) for h in hidden_states),
        attentions=None,
    )
