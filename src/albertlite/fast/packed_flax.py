"""Padding-free Flax inference: the real tokens of a (B, S) batch run as (R, P) packed rows.

:func:`plan_packing_for_call` turns a concrete inference call's inputs into the packed arrays of
:mod:`albertlite.fast.packing_plan` (or None: then the plain path runs); under :func:`packed_base_calls` the base
module runs on the packed rows, which are its ordinary inputs (``segment_ids`` keeps attention within each
sequence), and its states are scattered back to (B, S, H) before the head sees them. Padded positions of the
unpacked states are zeros; real positions equal the plain path within 1e-4 (tests/test_fast_tf_flax.py).

Axis legend: B batch, S padded length, R packed rows, P slots per row, E embedding_size, H hidden_size.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from albertlite.config import AlbertConfig
from albertlite.fast import fast_path_enabled
from albertlite.fast.packing_plan import plan_packing
from albertlite.outputs import BaseModelOutputWithPooling

__all__ = ["Packing", "packed_base_calls", "plan_packing_for_call"]

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


@contextlib.contextmanager
def packed_base_calls(packing: Packing) -> Iterator[None]:
    """Within it, a call of the base module (``FlaxAlbertModule``) runs on the packed rows and returns its outputs
    unpacked to the caller's (B, S): what a head then computes is the plain path's, minus the padding.

    The packed rows are ordinary model inputs (``segment_ids`` keeps attention within each sequence, positions
    restart per sequence); only the unpacking (``index``, ``first``) belongs to this path. Flax's method interceptor
    lets the heads stay unaware of it: they call the base model as usual.
    """
    # Imported when used: modeling_flax imports flax_wrappers, which imports this module.
    from albertlite.modeling_flax import FlaxAlbertModule

    signature = inspect.signature(FlaxAlbertModule.__call__)

    def intercept(
        next_fun: Callable[..., Any], args: tuple, kwargs: dict, context: nn.module.InterceptorContext
    ) -> Any:
        if not (isinstance(context.module, FlaxAlbertModule) and context.method_name == "__call__"):
            return next_fun(*args, **kwargs)
        call = signature.bind(context.module, *args, **kwargs).arguments
        packed = next_fun(
            input_ids=packing["input_ids"],
            attention_mask=jnp.ones_like(packing["segments"]),  # empty slots are segment 0: no real token sees them
            token_type_ids=packing["token_type_ids"],
            position_ids=packing["position_ids"],
            segment_ids=packing["segments"],
            output_hidden_states=call.get("output_hidden_states", False),
        )  # (R, P, ...)
        return _unpacked(context.module, packed, packing, call["input_ids"].shape)

    with nn.intercept_methods(intercept):
        yield


def _unpacked(
    model: Any, packed: BaseModelOutputWithPooling, packing: Packing, shape: tuple[int, int]
) -> BaseModelOutputWithPooling:
    """The base outputs on packed rows as the caller's (B, S) batch: zeros at padding, the pooler on each sequence's
    first token."""
    width = model.config.hidden_size

    def flat(states: Array) -> Array:
        return states.reshape(-1, width)  # (R * P, H)

    def unpack(states: Array) -> Array:
        padded = jnp.concatenate([flat(states), jnp.zeros((1, width), states.dtype)])  # slot R * P is zero
        return padded[packing["index"]].reshape(*shape, width)  # (B, S, H)

    last = packed.last_hidden_state
    pooled = jnp.tanh(model.pooler(flat(last)[packing["first"]])) if model.add_pooling_layer else None  # (B, H)
    return BaseModelOutputWithPooling(
        last_hidden_state=unpack(last),
        pooler_output=pooled,
        hidden_states=None if packed.hidden_states is None else tuple(unpack(h) for h in packed.hidden_states),
        attentions=None,
    )
