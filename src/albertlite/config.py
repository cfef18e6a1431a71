"""AlbertConfig: the model's hyper-parameters as plain data, read and written as Hub ``config.json``.

Field names, defaults and semantics are those of Hugging Face's ``AlbertConfig`` so that a
``config.json`` from the Hub loads here and ours loads there. Keys this library does not use
(``architectures``, ``down_scale_factor``, ...) are kept and written back unchanged.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"

#: Activation names every framework implements (Hugging Face's names).
ACTIVATIONS = frozenset(
    {
        "gelu",
        "gelu_new",
        "gelu_pytorch_tanh",
        "gelu_fast",
        "quick_gelu",
        "relu",
        "silu",
        "swish",
        "tanh",
        "sigmoid",
        "linear",
    }
)
POSITION_EMBEDDING_TYPES = ("absolute", "relative_key", "relative_key_query")
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")
#: How sentence-level heads pool the encoder's output (ModernBERT's field and values).
CLASSIFIER_POOLINGS = ("cls", "mean")

# Hugging Face's defaults (the xxlarge shape); order is the order config.json is written in.
_DEFAULTS: dict[str, Any] = {
    "vocab_size": 30000,
    "embedding_size": 128,
    "hidden_size": 4096,
    "num_hidden_layers": 12,
    "num_hidden_groups": 1,
    "num_attention_heads": 64,
    "intermediate_size": 16384,
    "inner_group_num": 1,
    "hidden_act": "gelu_new",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "classifier_dropout_prob": 0.1,
    "position_embedding_type": "absolute",
    "pad_token_id": 0,
    "bos_token_id": 2,
    "eos_token_id": 3,
    "problem_type": None,
    "tie_word_embeddings": True,
}
_POSITIVE_INTS = (
    "vocab_size",
    "embedding_size",
    "hidden_size",
    "num_hidden_layers",
    "num_hidden_groups",
    "num_attention_heads",
    "intermediate_size",
    "inner_group_num",
    "max_position_embeddings",
    "type_vocab_size",
)
_PROBABILITIES = ("hidden_dropout_prob", "attention_probs_dropout_prob")


class AlbertConfig:
    """Hyper-parameters of an ALBERT model, framework-free.

    Args:
        vocab_size: number of SentencePiece pieces.
        embedding_size: width E of the factorised embedding.
        hidden_size: width H of the transformer.
        num_hidden_layers: number of layer-group applications.
        num_hidden_groups: number of distinct parameter groups shared across the layers.
        num_attention_heads: attention heads; must divide hidden_size.
        intermediate_size: width of the feed-forward layer.
        inner_group_num: layers inside one group (applied layers = num_hidden_layers x inner_group_num).
        hidden_act: activation name (see ``ACTIVATIONS``); "gelu_new" is the tanh approximation.
        hidden_dropout_prob / attention_probs_dropout_prob: dropout rates.
        max_position_embeddings: longest sequence the model accepts.
        type_vocab_size: number of segment (token type) ids.
        initializer_range: standard deviation of the normal initialisation.
        layer_norm_eps: LayerNorm epsilon.
        classifier_dropout_prob: dropout before classification heads.
        position_embedding_type: "absolute", "relative_key" or "relative_key_query".
        classifier_pooling: what the sequence-classification and multiple-choice heads feed to the pooler:
            "cls" (the first token, as Hugging Face) or "mean" (the mean of the last hidden states over the
            real tokens). Same pooler weights either way; AlbertModel's pooler_output is always "cls".
            Hugging Face ignores the key (config.json holds it only when it is not "cls").
        num_labels / id2label / label2id / problem_type: classification heads' label set and loss.
        **kwargs: any other key is kept and written back by ``to_dict``.

    Example:
        >>> config = AlbertConfig.from_pretrained("albert-base-v2")
        >>> config.hidden_size
        768
    """

    model_type = "albert"

    def __init__(
        self,
        vocab_size: int = 30000,
        embedding_size: int = 128,
        hidden_size: int = 4096,
        num_hidden_layers: int = 12,
        num_hidden_groups: int = 1,
        num_attention_heads: int = 64,
        intermediate_size: int = 16384,
        inner_group_num: int = 1,
        hidden_act: str = "gelu_new",
        hidden_dropout_prob: float = 0.0,
        attention_probs_dropout_prob: float = 0.0,
        max_position_embeddings: int = 512,
        type_vocab_size: int = 2,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        classifier_dropout_prob: float | None = 0.1,
        position_embedding_type: str = "absolute",
        pad_token_id: int | None = 0,
        bos_token_id: int | None = 2,
        eos_token_id: int | None = 3,
        num_labels: int | None = None,
        id2label: dict[int, str] | None = None,
        label2id: dict[str, int] | None = None,
        problem_type: str | None = None,
        tie_word_embeddings: bool = True,
        classifier_pooling: str = "cls",
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_hidden_groups = num_hidden_groups
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.inner_group_num = inner_group_num
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.classifier_dropout_prob = classifier_dropout_prob
        self.position_embedding_type = position_embedding_type
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.problem_type = problem_type
        self.tie_word_embeddings = tie_word_embeddings
        self.classifier_pooling = classifier_pooling
        self._set_labels(num_labels, id2label, label2id)
        # Hub files carry keys the model ignores (architectures, gap_size, ...): keep them verbatim.
        kwargs.pop("model_type", None)
        self.extra: dict[str, Any] = kwargs
        self.validate()

    # ----------------------------------------------------------------------------- labels
    def _set_labels(
        self,
        num_labels: int | None,
        id2label: dict[Any, str] | None,
        label2id: dict[str, Any] | None,
    ) -> None:
        if num_labels is not None and (isinstance(num_labels, bool) or not isinstance(num_labels, int)):
            raise ValueError(f"AlbertConfig.num_labels must be a whole number, got {num_labels!r}.")
        if id2label is not None:
            id2label = {_label_id(k, "id2label keys"): str(v) for k, v in _mapping(id2label, "id2label").items()}
            if num_labels is not None and num_labels != len(id2label):
                raise ValueError(
                    f"num_labels={num_labels} disagrees with id2label, which names {len(id2label)} labels; "
                    "pass one of them or make them agree."
                )
            self.id2label = id2label
        else:
            self.id2label = {i: f"LABEL_{i}" for i in range(2 if num_labels is None else num_labels)}
        if label2id is not None:
            self.label2id = {str(k): _label_id(v, "label2id values") for k, v in _mapping(label2id, "label2id").items()}
        else:
            self.label2id = {label: i for i, label in self.id2label.items()}

    @property
    def num_labels(self) -> int:
        """Number of labels of classification heads (the length of ``id2label``)."""
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, value: int) -> None:
        if value != self.num_labels:
            self._set_labels(value, None, None)

    # ----------------------------------------------------------------------------- derived
    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def num_applied_layers(self) -> int:
        """Transformer layers actually run: num_hidden_layers x inner_group_num."""
        return self.num_hidden_layers * self.inner_group_num

    def group_of_layer(self, layer_index: int) -> int:
        """The parameter group used by the ``layer_index``-th group application (the original's rule)."""
        return int(layer_index / (self.num_hidden_layers / self.num_hidden_groups))

    def layer_schedule(self) -> list[tuple[int, int]]:
        """(group, inner layer) of each of the L applied layers, in execution order: weight sharing as a plan.

        Every framework runs its layers in this order, so the three share one rule.
        """
        return [
            (self.group_of_layer(i), inner)
            for i in range(self.num_hidden_layers)
            for inner in range(self.inner_group_num)
        ]

    # ----------------------------------------------------------------------------- validation
    def validate(self) -> None:
        """Raise ValueError with an actionable message when the hyper-parameters cannot build a model."""
        for name in _POSITIVE_INTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"AlbertConfig.{name} must be a positive integer, got {value!r}.")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) is not divisible by num_attention_heads "
                f"({self.num_attention_heads}); choose a head count that divides it, "
                f"e.g. {_divisor_near(self.hidden_size, self.num_attention_heads)}."
            )
        if self.num_hidden_groups > self.num_hidden_layers:
            raise ValueError(
                f"num_hidden_groups ({self.num_hidden_groups}) exceeds num_hidden_layers "
                f"({self.num_hidden_layers}): every group must be used by at least one layer."
            )
        if not isinstance(self.hidden_act, str) or self.hidden_act not in ACTIVATIONS:
            raise ValueError(f"Unknown hidden_act {self.hidden_act!r}; expected one of {sorted(ACTIVATIONS)}.")
        if (
            not isinstance(self.position_embedding_type, str)
            or self.position_embedding_type not in POSITION_EMBEDDING_TYPES
        ):
            raise ValueError(
                f"Unknown position_embedding_type {self.position_embedding_type!r}; "
                f"expected one of {list(POSITION_EMBEDDING_TYPES)}."
            )
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ValueError(
                f"Unknown problem_type {self.problem_type!r}; expected None or one of {list(PROBLEM_TYPES)}."
            )
        if not isinstance(self.classifier_pooling, str) or self.classifier_pooling not in CLASSIFIER_POOLINGS:
            raise ValueError(
                f"Unknown classifier_pooling {self.classifier_pooling!r}; expected one of {list(CLASSIFIER_POOLINGS)}."
            )
        for name in (*_PROBABILITIES, "classifier_dropout_prob"):
            value = getattr(self, name)
            if (value is not None or name != "classifier_dropout_prob") and not (_is_number(value) and 0 <= value < 1):
                raise ValueError(f"AlbertConfig.{name} must lie in [0, 1), got {value!r}.")
        for name in ("layer_norm_eps", "initializer_range"):
            if not (_is_number(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"AlbertConfig.{name} must be a positive number, got {getattr(self, name)!r}.")
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"AlbertConfig.{name} must be a token id (a whole number) or null, got {value!r}.")
        if not isinstance(self.tie_word_embeddings, bool):
            raise ValueError(
                f"AlbertConfig.tie_word_embeddings must be true or false, got {self.tie_word_embeddings!r}."
            )
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(f"pad_token_id ({self.pad_token_id}) must lie in [0, vocab_size={self.vocab_size}).")

    # ----------------------------------------------------------------------------- dict I/O
    def to_dict(self) -> dict[str, Any]:
        """Every field as Hub ``config.json`` holds it (label ids as strings), unknown keys included."""
        out: dict[str, Any] = {"model_type": self.model_type}
        out.update(copy.deepcopy(self.extra))
        for name in _DEFAULTS:
            out[name] = getattr(self, name)
        # Not a Hugging Face field: written only when set, so default configs stay what transformers writes.
        if self.classifier_pooling != "cls":
            out["classifier_pooling"] = self.classifier_pooling
        out["id2label"] = {str(i): label for i, label in self.id2label.items()}
        out["label2id"] = dict(self.label2id)
        return dict(sorted(out.items()))

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **overrides: Any) -> AlbertConfig:
        """Build a config from a ``config.json`` dictionary; ``overrides`` replace its values."""
        if not isinstance(config_dict, dict):
            raise ValueError(f"A config must be a JSON object (dict), got {type(config_dict).__name__}.")
        model_type = config_dict.get("model_type", cls.model_type)
        if model_type != cls.model_type:
            raise ValueError(f"This config describes a {model_type!r} model, not an ALBERT model.")
        merged = {**config_dict, **overrides}
        if "num_labels" in overrides and "id2label" not in overrides:
            # A new label count (e.g. a fresh classifier on a pretrained body) replaces the stored label names.
            stored = config_dict.get("id2label")
            if stored is None or len(stored) != overrides["num_labels"]:
                merged.pop("id2label", None)
                merged.pop("label2id", None)
        return cls(**merged)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def copy(self, **changes: Any) -> AlbertConfig:
        return type(self).from_dict(self.to_dict(), **changes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AlbertConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"AlbertConfig {self.to_json_string()}"

    # ----------------------------------------------------------------------------- files
    def save_pretrained(self, save_directory: str | os.PathLike) -> Path:
        """Write ``config.json`` into ``save_directory`` (created if missing) atomically; returns its path."""
        from albertlite.checkpoints.files import atomic_write_text

        directory = Path(save_directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"save_pretrained expects a directory, but {directory} is a file.")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / CONFIG_NAME
        atomic_write_text(path, self.to_json_string())
        return path

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The named fields (everything else a config.json holds goes to ``extra``)."""
        return tuple(name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "kwargs"))

    @classmethod
    def from_json_file(cls, path: str | os.PathLike, **overrides: Any) -> AlbertConfig:
        """Read a ``config.json``; every error names the file (and the field, when one is wrong)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise OSError(f"Cannot read the config file {path}: {error}") from error
        except UnicodeDecodeError as error:
            reason = f"{error.reason} at byte {error.start}"
            raise ValueError(f"{path} is not UTF-8 text ({reason}); is it a config.json?") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON ({error}); is it a config.json?") from error
        try:
            return cls.from_dict(data, **overrides)
        except TypeError as error:  # a value of the wrong type reached the constructor
            raise ValueError(f"{path} holds an invalid ALBERT config: {error}") from error
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> AlbertConfig:
        """Load a config from a directory, a ``config.json`` file, a preset name or a Hub id.

        Preset names (``albert-base-v2``, also as ``albert/albert-base-v2``) are answered without the
        network: from the local Hub cache when it holds that repository (the weights beside it were saved with
        that file), else from the built-in exact copies of the released configs. Other names resolve through
        ``huggingface_hub`` (its cache and offline mode). Hub keyword arguments (``cache_dir``,
        ``revision``, ``token``, ``local_files_only``) are taken; any other keyword overrides a field.
        """
        from albertlite.checkpoints.hub import HUB_KWARGS, CheckpointNotFoundError, resolve_file

        hub_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in HUB_KWARGS}
        path = Path(name_or_path)
        if path.is_file():
            return cls.from_json_file(path, **kwargs)
        preset = None if path.is_dir() else _preset_name(str(name_or_path))
        if preset is not None:
            try:
                cached = resolve_file(name_or_path, CONFIG_NAME, **{**hub_kwargs, "local_files_only": True})
            except CheckpointNotFoundError:
                cached = None
            return cls.from_json_file(cached, **kwargs) if cached else cls.from_dict(PRESETS[preset], **kwargs)
        config_file = resolve_file(name_or_path, CONFIG_NAME, **hub_kwargs)
        return cls.from_json_file(config_file, **kwargs)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> AlbertConfig:
        preset = _preset_name(name)
        if preset is None:
            raise ValueError(f"Unknown preset {name!r}; available: {sorted(PRESETS)}.")
        return cls.from_dict(PRESETS[preset], **overrides)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # NaN is not


def _mapping(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"AlbertConfig.{name} must be a mapping (a JSON object), got {value!r}.")
    return value


def _label_id(value: Any, what: str) -> int:
    """A label id of id2label/label2id; JSON writes the keys as strings ("0")."""
    try:
        if isinstance(value, bool) or int(value) != float(value):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"AlbertConfig.{what} must be label ids (whole numbers), got {value!r}.") from None


def _divisor_near(n: int, target: int) -> int:
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return min(divisors, key=lambda d: abs(d - target))


def _preset_name(name: str) -> str | None:
    base = name.removeprefix("albert/")
    return base if base in PRESETS else None


def _preset(hidden: int, layers: int, heads: int, ffn: int, version: int, xxlarge: bool = False) -> dict:
    # v1 used the tanh-approximated "gelu" and dropout 0.1 (xxlarge-v1: 0); v2 "gelu_new" and no dropout.
    dropout = 0.1 if version == 1 and not xxlarge else 0.0
    return {
        "architectures": ["AlbertForMaskedLM"],
        "attention_probs_dropout_prob": dropout,
        "bos_token_id": 2,
        "classifier_dropout_prob": 0.1,
        "down_scale_factor": 1,
        "embedding_size": 128,
        "eos_token_id": 3,
        "gap_size": 0,
        "hidden_act": "gelu" if version == 1 else "gelu_new",
        "hidden_dropout_prob": dropout,
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "inner_group_num": 1,
        "intermediate_size": ffn,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512,
        "model_type": "albert",
        "net_structure_type": 0,
        "num_attention_heads": heads,
        "num_hidden_groups": 1,
        "num_hidden_layers": layers,
        "num_memory_blocks": 0,
        "pad_token_id": 0,
        "type_vocab_size": 2,
        "vocab_size": 30000,
    }


_SHAPES = {
    "base": (768, 12, 12, 3072),
    "large": (1024, 24, 16, 4096),
    "xlarge": (2048, 24, 16, 8192),
    "xxlarge": (4096, 12, 64, 16384),
}
#: The released configurations, by their Hub names.
PRESETS: dict[str, dict[str, Any]] = {
    f"albert-{size}-v{version}": _preset(*shape, version, xxlarge=size == "xxlarge")
    for size, shape in _SHAPES.items()
    for version in (1, 2)
}
