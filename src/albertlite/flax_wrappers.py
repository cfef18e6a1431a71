"""The call and init plumbing of the Flax models: ``FlaxAlbertPreTrainedModel``, Hugging Face's Flax model API.

A wrapper holds ``config``, ``module`` (a linen module of :mod:`albertlite.modeling_flax`) and ``params`` (a pytree).
Its ``__call__`` checks the inputs as the PyTorch model does, fills the defaults, chooses the padding-free path
(:mod:`albertlite.fast.packed_flax`) for inference calls it reproduces, and runs one jitted ``module.apply`` shared by
every wrapper with the same head, config and dtype. Loading and saving are :mod:`albertlite.checkpoints.flax_io`.

Axis legend: B batch, C choices, S sequence length, N heads, L applied layers (num_hidden_layers x inner_group_num).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from albertlite.checkpoints import flax_names
from albertlite.checkpoints.flax_io import FlaxCheckpointIO
from albertlite.config import AlbertConfig
from albertlite.fast.packed_flax import Packing, packed_base_calls, plan_packing_for_call
from albertlite.flax_ops import check_labels, uses_dropout
from albertlite.heads import HeadSpec
from albertlite.validation import InputSummary, validate_inputs

Array = jax.Array
Params = dict[str, Any]
Inputs = tuple[Array, Array, Array, Array]  # input_ids, attention_mask, token_type_ids, position_ids


def _as_array(value: Any) -> Array:
    return value if isinstance(value, jax.Array) else jnp.asarray(np.asarray(value))


def _value_range(value: Array | None) -> tuple[int, int] | None:
    # Only concrete inputs can be range-checked; under jit the shapes are still validated.
    if value is None or isinstance(value, jax.core.Tracer) or value.size == 0:
        return None
    if not jnp.issubdtype(value.dtype, jnp.integer):
        raise ValueError(f"Expected an integer tensor of ids, got dtype {value.dtype}.")
    host = np.asarray(value)
    return int(host.min()), int(host.max())


def _flat_shape(value: Array | None, rank: int) -> tuple[int, ...] | None:
    if value is None:
        return None
    return tuple(value.shape) if rank == 2 or value.ndim < 2 else (math.prod(value.shape[:-1]), value.shape[-1])


@functools.lru_cache(maxsize=32)
def _jitted_apply(module_class: type[nn.Module], config_json: str, dtype_name: str) -> Callable[..., Any]:
    """One jitted ``module.apply`` per (head, config, dtype), shared by every wrapper built with them.

    Keyed on the config's JSON, so a model re-created with the same config (or its config edited in place)
    compiles again only when the computation really differs.
    """
    config = AlbertConfig.from_dict(json.loads(config_json))
    module = module_class(config=config, dtype=jnp.dtype(dtype_name))

    def apply(
        params: Params,
        inputs: Inputs,
        head_mask: Array | None,
        rngs: dict[str, Array],
        labels: dict[str, Array],
        segment_ids: Array | None,
        packing: Packing | None,
        *,
        deterministic: bool,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> Any:
        with contextlib.nullcontext() if packing is None else packed_base_calls(packing):
            return module.apply(
                {"params": params},
                *inputs,
                head_mask=head_mask,
                deterministic=deterministic,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                segment_ids=segment_ids,
                rngs=rngs,
                **labels,
            )

    return jax.jit(apply, static_argnames=("deterministic", "output_attentions", "output_hidden_states"))


@functools.lru_cache(maxsize=32)
def _param_shapes(
    module_class: type[nn.Module], config_json: str, dtype_name: str, input_shape: tuple[int, ...]
) -> Params:
    module = module_class(config=AlbertConfig.from_dict(json.loads(config_json)), dtype=jnp.dtype(dtype_name))
    ids = jax.ShapeDtypeStruct(input_shape, jnp.int32)
    return dict(jax.eval_shape(partial(module.init, jax.random.PRNGKey(0)), ids, ids, ids, ids)["params"])


class FlaxAlbertPreTrainedModel(FlaxCheckpointIO):
    """Base of the Flax wrappers: holds ``config``, ``module`` (a linen module) and ``params`` (a pytree).

    Subclasses name their ``module_class`` and their ``spec`` (an entry of :data:`albertlite.heads.HEADS`: their label
    keyword arguments and how they are checked).

    Args:
        config: the model's hyper-parameters.
        input_shape: shape of the dummy input used to initialise the parameters.
        seed: seed of the random initialisation.
        dtype: computation dtype (e.g. ``jnp.bfloat16``); parameters stay float32.
        _do_init: False leaves ``params`` unset (``from_pretrained`` fills them from a checkpoint).

    Example:
        >>> model = FlaxAlbertForMaskedLM.from_pretrained("albert-base-v2", dtype=jnp.bfloat16)
        >>> logits = model(input_ids, attention_mask=mask).logits
    """

    module_class: ClassVar[type[nn.Module]]
    spec: ClassVar[HeadSpec]
    input_rank: ClassVar[int] = 2  # (B, S); multiple choice takes (B, C, S)
    base_model_prefix: ClassVar[str] = "albert"

    def __init__(
        self,
        config: AlbertConfig,
        input_shape: tuple[int, ...] | None = None,
        seed: int = 0,
        dtype: Any = jnp.float32,
        _do_init: bool = True,
    ) -> None:
        self.config = config
        self.dtype = jnp.dtype(dtype)
        self.module = self.module_class(config=config, dtype=self.dtype)
        self.input_shape = tuple(input_shape) if input_shape is not None else (1,) * self.input_rank
        self.key = jax.random.PRNGKey(seed)
        self._params: Params | None = self.init_weights(self.key, self.input_shape) if _do_init else None

    # ------------------------------------------------------------------------------- parameters
    @property
    def params(self) -> Params:
        if self._params is None:
            raise ValueError(f"{type(self).__name__} was built with _do_init=False and has no parameters yet.")
        return self._params

    @params.setter
    def params(self, params: Params) -> None:
        self._params = params

    def init_weights(self, rng: Array, input_shape: tuple[int, ...]) -> Params:
        """Randomly initialised parameters with Hugging Face's scheme.

        Kernels and embeddings normal(0, initializer_range) with a zero padding row, biases 0, LayerNorm scales 1:
        the scheme of the modules' own initialisers, drawn on the host from a generator seeded by ``rng``. Running
        ``module.init`` under jit would instead compile one random-number kernel per parameter, which dominates
        start-up on CPU (seconds even for a tiny model).
        """
        generator = np.random.default_rng(np.asarray(jax.random.key_data(rng)).ravel().tolist())
        std, pad = self.config.initializer_range, self.config.pad_token_id
        params = {}
        for path, spec in flax_names.flatten(self.param_shapes(input_shape)).items():
            if path[-1] == "bias":
                value = np.zeros(spec.shape, np.float32)
            elif path[-1] == "scale":
                value = np.ones(spec.shape, np.float32)
            else:
                value = generator.normal(0.0, std, spec.shape).astype(np.float32)
                if path[-2:] == ("word_embeddings", "embedding") and pad is not None:
                    value[pad] = 0.0
            params[path] = jnp.asarray(value)
        return flax_names.unflatten(params)

    def param_shapes(self, input_shape: tuple[int, ...] | None = None) -> Params:
        """The parameter tree as ``jax.ShapeDtypeStruct`` leaves (traced, not computed)."""
        shape = tuple(input_shape or self.input_shape)
        return _param_shapes(type(self.module), self.config.to_json_string(), self.dtype.name, shape)

    # ------------------------------------------------------------------------------- call
    def __call__(
        self,
        input_ids: Any,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        params: Params | None = None,
        dropout_rng: Array | None = None,
        train: bool = False,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
        *,
        segment_ids: Any = None,
        **labels: Any,
    ) -> Any:
        """Run the model; label keyword arguments (``spec.label_names``) add the loss, as the PyTorch heads.

        Args:
            input_ids: token ids (B, S) ((B, C, S) for multiple choice).
            attention_mask / token_type_ids / position_ids: as input_ids; defaults all ones / zeros / 0..S-1.
            head_mask: (N,) or (L, N); row l scales the l-th applied layer's heads.
            params: parameters to use instead of ``self.params`` (e.g. inside a jitted train step).
            dropout_rng: key for dropout; needed with ``train=True`` when the config has dropout.
            train: apply dropout.
            output_attentions / output_hidden_states: also return them (one per applied layer; hidden
                states start with the projected embedding).
            return_dict: False returns ``outputs.to_tuple()``.
            segment_ids: as input_ids, for rows that pack several sequences (Flax lm1b's ``inputs_segmentation``):
                a token attends only within its segment; give ``position_ids`` restarting per segment.

        Returns:
            The head's output dataclass (a registered pytree, so jitted functions may return it).
        """
        unknown = sorted(set(labels) - set(self.spec.label_names))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {unknown}; "
                f"its label arguments are {list(self.spec.label_names)}."
            )
        inputs = self._prepare_inputs(input_ids, attention_mask, token_type_ids, position_ids, head_mask)
        segment_ids = self._prepare_segment_ids(segment_ids, inputs[0])
        labels = {name: _as_array(value) for name, value in labels.items() if value is not None}
        check_labels(self.spec, self.config, labels, inputs[0].shape)
        if train and dropout_rng is None and uses_dropout(self.config):
            raise ValueError("train=True applies dropout and needs dropout_rng (a jax.random key).")
        # The fast path reproduces inference without head mask, attentions or loss; packed rows it leaves as they are.
        plain_only = train or output_attentions or head_mask is not None or bool(labels) or segment_ids is not None
        outputs = _jitted_apply(type(self.module), self.config.to_json_string(), self.dtype.name)(
            self.params if params is None else params,
            inputs,
            None if head_mask is None else self._expand_head_mask(_as_array(head_mask)),
            {} if dropout_rng is None else {"dropout": dropout_rng},
            labels,
            segment_ids,
            None if plain_only else self._packing(inputs),
            deterministic=not train,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return outputs if return_dict else outputs.to_tuple()

    def _packing(self, inputs: Inputs) -> Packing | None:
        """The fast path's hook: packed inputs for an inference call, or None when the plain path must run."""
        return plan_packing_for_call(self.config, inputs, first_real=self.module.add_pooling_layer)

    def _prepare_inputs(
        self, input_ids: Any, attention_mask: Any, token_type_ids: Any, position_ids: Any, head_mask: Any
    ) -> Inputs:
        input_ids = _as_array(input_ids)
        if self.input_rank == 3 and input_ids.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} expects input_ids of shape (batch, num_choices, sequence_length), "
                f"got {tuple(input_ids.shape)}."
            )
        given = [None if x is None else _as_array(x) for x in (attention_mask, token_type_ids, position_ids)]
        attention_mask, token_type_ids, position_ids = given
        rank = self.input_rank
        validate_inputs(
            self.config,
            InputSummary(
                input_ids_shape=_flat_shape(input_ids, rank),
                input_ids_range=_value_range(input_ids),
                attention_mask_shape=_flat_shape(attention_mask, rank),
                token_type_ids_shape=_flat_shape(token_type_ids, rank),
                token_type_ids_range=_value_range(token_type_ids),
                position_ids_shape=_flat_shape(position_ids, rank),
                position_ids_range=_value_range(position_ids),
                head_mask_shape=None if head_mask is None else tuple(np.shape(head_mask)),
            ),
        )
        shape = input_ids.shape
        if attention_mask is None:
            attention_mask = jnp.ones(shape, jnp.int32)
        if token_type_ids is None:
            token_type_ids = jnp.zeros(shape, jnp.int32)
        if position_ids is None:
            position_ids = jnp.arange(shape[-1], dtype=jnp.int32)
        position_ids = jnp.broadcast_to(position_ids, shape)
        return tuple(x.astype(jnp.int32) for x in (input_ids, attention_mask, token_type_ids, position_ids))

    @staticmethod
    def _prepare_segment_ids(segment_ids: Any, input_ids: Array) -> Array | None:
        if segment_ids is None:
            return None
        segment_ids = _as_array(segment_ids)
        if segment_ids.shape != input_ids.shape:
            raise ValueError(
                f"segment_ids has shape {tuple(segment_ids.shape)} but the input has shape {tuple(input_ids.shape)}; "
                "pass one segment id per token (e.g. [[1, 1, 1, 2, 2, 0]] for two packed sequences and padding)."
            )
        if not jnp.issubdtype(segment_ids.dtype, jnp.integer):
            raise ValueError(
                f"segment_ids must hold integer segment ids, got dtype {segment_ids.dtype}; pass e.g. an int32 array."
            )
        return segment_ids.astype(jnp.int32)

    def _expand_head_mask(self, head_mask: Array) -> Array:
        # validate_inputs accepted (N,) or (L, N): one row per applied layer.
        shape = (self.config.num_applied_layers, self.config.num_attention_heads)
        return jnp.broadcast_to(head_mask.astype(jnp.float32), shape)
