"""Convert the authors' TF1 release (google-research/ALBERT) into a Hub-layout model directory.

A release directory holds ``albert_config.json``, a TF1 checkpoint ``model.ckpt-*`` (``.index`` plus
``.data-*``) and usually the SentencePiece model ``30k-clean.model``. The output is what every
framework here loads: ``config.json``, ``model.safetensors`` with the Hugging Face PyTorch names and,
when the SentencePiece model is there, the tokenizer files.

Variable names are mapped by one declarative table (``RULES``): a regular expression on the original
name, a template for the PyTorch name and whether the array is a ``[in, out]`` kernel to transpose.
Optimizer state is skipped by a second table (``SKIP``); any other variable the tables do not name
is an error, so a checkpoint with parts this converter does not understand is never half-converted.
TensorFlow is needed only to read the checkpoint and is imported on first use.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from albertlite.checkpoints.state_dict import write_safetensors
from albertlite.config import AlbertConfig

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

logger = logging.getLogger("albertlite")

ORIGINAL_CONFIG_NAME = "albert_config.json"
SPIECE_NAMES = ("30k-clean.model", "spiece.model")  # the release's name first

# Programs that loaded the model as a TF-Hub module saved its variables under this scope.
_HUB_PREFIX = "module/"
_MAX_NAMES_SHOWN = 20  # in error messages


@dataclass(frozen=True)
class Rule:
    """One row of the mapping: original name (regex) -> PyTorch name (template), transposed or not."""

    pattern: re.Pattern[str]
    template: str
    transpose: bool

    def apply(self, name: str) -> str | None:
        match = self.pattern.fullmatch(name)
        return None if match is None else self.template.format(**match.groupdict())


def _dense(source: str, target: str) -> list[Rule]:
    # The original stores dense kernels [in, out]; torch.nn.Linear holds [out, in].
    return [
        Rule(re.compile(f"{source}/kernel"), f"{target}.weight", True),
        Rule(re.compile(f"{source}/bias"), f"{target}.bias", False),
    ]


def _norm(source: str, target: str) -> list[Rule]:
    return [
        Rule(re.compile(f"{source}/gamma"), f"{target}.weight", False),
        Rule(re.compile(f"{source}/beta"), f"{target}.bias", False),
    ]


def _copy(source: str, target: str) -> list[Rule]:
    return [Rule(re.compile(source), target, False)]


_LAYER = r"bert/encoder/transformer/group_(?P<g>\d+)/inner_group_(?P<i>\d+)"
_PT_LAYER = "albert.encoder.albert_layer_groups.{g}.albert_layers.{i}"

#: Original variable name (without TF-Hub's ``module/``) -> PyTorch state_dict key (ALBERT_FACTS section 3).
RULES: tuple[Rule, ...] = (
    *_copy(
        r"bert/embeddings/(?P<kind>word|position|token_type)_embeddings", "albert.embeddings.{kind}_embeddings.weight"
    ),
    *_norm("bert/embeddings/LayerNorm", "albert.embeddings.LayerNorm"),
    *_dense("bert/encoder/embedding_hidden_mapping_in", "albert.encoder.embedding_hidden_mapping_in"),
    *_dense(rf"{_LAYER}/attention_1/self/(?P<proj>query|key|value)", _PT_LAYER + ".attention.{proj}"),
    *_dense(rf"{_LAYER}/attention_1/output/dense", f"{_PT_LAYER}.attention.dense"),
    *_norm(rf"{_LAYER}/LayerNorm", f"{_PT_LAYER}.attention.LayerNorm"),
    *_dense(rf"{_LAYER}/ffn_1/intermediate/dense", f"{_PT_LAYER}.ffn"),
    *_dense(rf"{_LAYER}/ffn_1/intermediate/output/dense", f"{_PT_LAYER}.ffn_output"),
    *_norm(rf"{_LAYER}/LayerNorm_1", f"{_PT_LAYER}.full_layer_layer_norm"),
    *_dense("bert/pooler/dense", "albert.pooler"),
    # Pre-training heads (run_pretraining.py).
    *_dense("cls/predictions/transform/dense", "predictions.dense"),
    *_norm("cls/predictions/transform/LayerNorm", "predictions.LayerNorm"),
    *_copy("cls/predictions/output_bias", "predictions.bias"),
    # output_weights are created [out, in] (logits = x @ W^T): no transpose.
    *_copy("cls/seq_relationship/output_weights", "sop_classifier.classifier.weight"),
    *_copy("cls/seq_relationship/output_bias", "sop_classifier.classifier.bias"),
    # Fine-tuned heads: run_classifier / run_race (pooled output) and run_squad_v1 (sequence output).
    *_copy("output_weights", "classifier.weight"),
    *_copy("output_bias", "classifier.bias"),
    *_copy("cls/squad/output_weights", "qa_outputs.weight"),
    *_copy("cls/squad/output_bias", "qa_outputs.bias"),
)

#: Variables that are training state, not model weights: the step counter and the Adam/LAMB slots
#: (the authors' LAMB and AdamWeightDecay name theirs adam_m/adam_v; tf.train optimizers add scopes).
SKIP: tuple[re.Pattern[str], ...] = (
    re.compile(r"global_step"),
    re.compile(r".*/(adam|lamb)_[mv]"),
    re.compile(r".*/AdamWeightDecayOptimizer(_1)?"),
)

# Head parameters -> the class whose state_dict they complete, most specific first.
_ARCHITECTURES = (
    ("qa_outputs.", "AlbertForQuestionAnswering"),
    ("classifier.", "AlbertForSequenceClassification"),
    ("sop_classifier.", "AlbertForPreTraining"),
    ("predictions.", "AlbertForMaskedLM"),
)

# The original only knows these activations; its "gelu" is the tanh approximation.
_ACTIVATIONS = {"gelu": "gelu_new", "relu": "relu", "tanh": "tanh", "linear": "linear", "": "linear"}
# Keys the Hub's ALBERT config.json files carry for the original's unused options, with the Hub's values.
_HUB_EXTRAS = {"down_scale_factor": 1, "gap_size": 0, "net_structure_type": 0, "num_memory_blocks": 0}


def map_variable_name(name: str) -> tuple[str, bool] | None:
    """The PyTorch key and transpose flag for one original variable; None for optimizer state.

    Raises:
        ValueError: no rule maps ``name``.
    """
    name = name.removeprefix(_HUB_PREFIX)
    if any(pattern.fullmatch(name) for pattern in SKIP):
        return None
    for rule in RULES:
        target = rule.apply(name)
        if target is not None:
            return target, rule.transpose
    raise ValueError(f"No rule maps the checkpoint variable {name!r}.")


def convert_google_checkpoint(
    src_dir: str | os.PathLike, dst_dir: str | os.PathLike, *, checkpoint: str | os.PathLike | None = None
) -> Path:
    """Turn a directory of the authors' TF1 release into a Hub-layout model directory.

    Args:
        src_dir: directory holding ``albert_config.json``, ``model.ckpt-*`` and optionally ``30k-clean.model``.
        dst_dir: output directory (created); gets ``config.json``, ``model.safetensors`` and, with a
            SentencePiece model, ``spiece.model``, ``tokenizer_config.json`` and ``special_tokens_map.json``.
        checkpoint: checkpoint prefix (``model.ckpt-best``), relative to ``src_dir`` or absolute. By default
            the only one in ``src_dir``, else ``model.ckpt-best``, else the highest step.

    Returns:
        The output directory.

    Raises:
        FileNotFoundError: ``src_dir``, its config or its checkpoint is missing.
        ValueError: a variable no rule maps, a shape that disagrees with the config, a missing weight.
        ImportError: TensorFlow is not installed.

    Example:
        >>> convert_google_checkpoint("albert_base", "albert-base-v2-converted")
    """
    src, dst = Path(src_dir), Path(dst_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a directory; pass the unpacked release directory.")
    prefix = find_checkpoint(src, checkpoint)
    original = _read_original_config(src / ORIGINAL_CONFIG_NAME)
    spiece = _find_spiece(src)
    tokenizer = None if spiece is None else _load_tokenizer(spiece, original.get("max_position_embeddings", 512))
    state = _read_state(prefix)
    config = _convert_config(original, state, tokenizer)
    if tokenizer is not None and len(tokenizer) > config.vocab_size:
        raise ValueError(
            f"{spiece.name} has {len(tokenizer)} pieces but {ORIGINAL_CONFIG_NAME} says vocab_size="
            f"{config.vocab_size}: it is not this model's vocabulary."
        )
    _add_identity_projection(state, config)
    check_state(state, config)

    dst.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(dst)
    write_safetensors(state, dst, framework="np")
    if tokenizer is not None:
        tokenizer.save_pretrained(dst)  # spiece.model, tokenizer_config.json, special_tokens_map.json
    logger.info("Converted %s (%d tensors) into %s", prefix, len(state), dst)
    return dst


# --------------------------------------------------------------------------------------------- files
def find_checkpoint(src: Path, checkpoint: str | os.PathLike | None = None) -> Path:
    """The checkpoint prefix (path without ``.index``) to read from ``src``."""
    if checkpoint is not None:
        prefix = Path(checkpoint) if Path(checkpoint).is_absolute() else src / checkpoint
        prefix = prefix.with_name(prefix.name.removesuffix(".index"))
        if not prefix.with_name(prefix.name + ".index").is_file():
            raise FileNotFoundError(f"No checkpoint {prefix} ({prefix.name}.index is missing).")
        return prefix
    prefixes = sorted(p.with_name(p.name.removesuffix(".index")) for p in src.glob("model.ckpt*.index"))
    if not prefixes:
        present = sorted(p.name for p in src.iterdir())
        raise FileNotFoundError(f"{src} holds no TF1 checkpoint (model.ckpt-*.index); it holds: {present}.")
    if len(prefixes) == 1:
        return prefixes[0]
    best = src / "model.ckpt-best"
    if best in prefixes:
        return best
    steps = {p: re.fullmatch(r"model\.ckpt-(\d+)", p.name) for p in prefixes}
    if all(steps.values()):
        latest = max(prefixes, key=lambda p: int(steps[p].group(1)))
        logger.info("%s holds %d checkpoints; converting the latest, %s", src, len(prefixes), latest.name)
        return latest
    raise ValueError(
        f"{src} holds several checkpoints ({[p.name for p in prefixes]}); choose one with checkpoint= (--checkpoint)."
    )


def _find_spiece(src: Path) -> Path | None:
    for name in SPIECE_NAMES:
        if (src / name).is_file():
            return src / name
    return None


def _import_tensorflow() -> Any:
    try:
        import tensorflow as tf
    except ModuleNotFoundError as error:
        raise ImportError(
            "Reading the authors' TF1 checkpoints needs TensorFlow, which is not installed. "
            "Install it with: pip install 'albertlite[tf]'"
        ) from error
    return tf


def _read_state(prefix: Path) -> dict[str, np.ndarray]:
    """Every model variable of the checkpoint under its PyTorch name, kernels transposed."""
    tf = _import_tensorflow()
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as error:
        raise ValueError(f"Cannot read the TF checkpoint {prefix}: {_first_line(error)}") from error

    mapped, unmapped = _map_names(shapes)
    if unmapped:
        shown = ", ".join(unmapped[:_MAX_NAMES_SHOWN]) + (" ..." if len(unmapped) > _MAX_NAMES_SHOWN else "")
        raise ValueError(
            f"{len(unmapped)} checkpoint variable(s) match no ALBERT weight: {shown}. "
            "Is this an ALBERT checkpoint from google-research/ALBERT?"
        )
    state: dict[str, np.ndarray] = {}
    for original, (target, transpose) in sorted(mapped.items()):
        array = np.asarray(reader.get_tensor(original))
        state[target] = np.ascontiguousarray(array.T) if transpose else array
    return state


def _map_names(names: Iterable[str]) -> tuple[dict[str, tuple[str, bool]], list[str]]:
    """Original name -> (PyTorch key, transpose) for the model variables, and the names no rule maps."""
    mapped: dict[str, tuple[str, bool]] = {}
    unmapped: list[str] = []
    owner: dict[str, str] = {}
    for name in sorted(names):
        try:
            target = map_variable_name(name)
        except ValueError:
            unmapped.append(name)
            continue
        if target is None:
            continue
        if target[0] in owner:  # e.g. the same weight with and without module/
            raise ValueError(f"Checkpoint variables {owner[target[0]]!r} and {name!r} both map to {target[0]}.")
        owner[target[0]] = name
        mapped[name] = target
    return mapped, unmapped


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# --------------------------------------------------------------------------------------------- config
def convert_config_dict(original: dict[str, Any]) -> dict[str, Any]:
    """A Hub ``config.json`` dictionary from the original's ``albert_config.json`` dictionary.

    Field names are shared; the activation is renamed ("gelu" is the tanh approximation, "gelu_new"
    here); every other key is kept, and the Hub's extra keys are filled in when absent.
    """
    converted = {**_HUB_EXTRAS, **original, "model_type": "albert"}
    act = original.get("hidden_act", "gelu")
    key = "" if act is None else str(act).lower()  # the original lower-cases it; None means linear
    if key not in _ACTIVATIONS:
        raise ValueError(
            f"Unknown hidden_act {act!r} in {ORIGINAL_CONFIG_NAME}; the original knows {sorted(_ACTIVATIONS)}."
        )
    converted["hidden_act"] = _ACTIVATIONS[key]
    return converted


def _read_original_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.parent} has no {ORIGINAL_CONFIG_NAME}; the release keeps the model shape there."
        )
    try:
        original = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(original, dict):
        raise ValueError(f"{path} must hold a JSON object.")
    return original


def _convert_config(original: dict[str, Any], state: dict[str, np.ndarray], tokenizer: Tokenizer) -> AlbertConfig:
    fields = convert_config_dict(original)
    fields["architectures"] = [_architecture(state)]
    # Hugging Face sizes both the classifier and the SOP head by num_labels.
    labels = state.get("classifier.weight", state.get("sop_classifier.classifier.weight"))
    if labels is not None:
        fields["num_labels"] = int(labels.shape[0])
    if tokenizer is not None:  # ids as the SentencePiece model numbers them (0, 2, 3 in the release)
        fields.update(
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    try:
        return AlbertConfig.from_dict(fields)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{ORIGINAL_CONFIG_NAME} does not describe a valid ALBERT model: {_first_line(error)}"
        ) from error


def _architecture(state: dict[str, np.ndarray]) -> str:
    for prefix, architecture in _ARCHITECTURES:
        if any(key.startswith(prefix) for key in state):
            return architecture
    return "AlbertModel"


# --------------------------------------------------------------------------------------------- weights
def _add_identity_projection(state: dict[str, np.ndarray], config: AlbertConfig) -> None:
    """The original skips embedding_hidden_mapping_in when E == H; the Hub layout always has it."""
    weight = "albert.encoder.embedding_hidden_mapping_in.weight"
    if config.embedding_size == config.hidden_size and weight not in state:
        dtype = state["albert.embeddings.word_embeddings.weight"].dtype
        state[weight] = np.eye(config.hidden_size, dtype=dtype)
        state["albert.encoder.embedding_hidden_mapping_in.bias"] = np.zeros(config.hidden_size, dtype=dtype)


def expected_shapes(config: AlbertConfig, heads: Iterable[str] = ()) -> dict[str, tuple[int, ...]]:
    """Every key (and its shape) a model of ``config`` holds: the base model plus the named head prefixes."""
    V, E, H, I = config.vocab_size, config.embedding_size, config.hidden_size, config.intermediate_size  # noqa: E741
    shapes: dict[str, tuple[int, ...]] = {
        "albert.embeddings.word_embeddings.weight": (V, E),
        "albert.embeddings.position_embeddings.weight": (config.max_position_embeddings, E),
        "albert.embeddings.token_type_embeddings.weight": (config.type_vocab_size, E),
        "albert.embeddings.LayerNorm.weight": (E,),
        "albert.embeddings.LayerNorm.bias": (E,),
        "albert.encoder.embedding_hidden_mapping_in.weight": (H, E),
        "albert.encoder.embedding_hidden_mapping_in.bias": (H,),
        "albert.pooler.weight": (H, H),
        "albert.pooler.bias": (H,),
    }
    layer = {
        **{f"attention.{p}.weight": (H, H) for p in ("query", "key", "value", "dense")},
        **{f"attention.{p}.bias": (H,) for p in ("query", "key", "value", "dense")},
        "attention.LayerNorm.weight": (H,),
        "attention.LayerNorm.bias": (H,),
        "ffn.weight": (I, H),
        "ffn.bias": (I,),
        "ffn_output.weight": (H, I),
        "ffn_output.bias": (H,),
        "full_layer_layer_norm.weight": (H,),
        "full_layer_layer_norm.bias": (H,),
    }
    for g in range(config.num_hidden_groups):
        for i in range(config.inner_group_num):
            shapes.update({f"{_PT_LAYER.format(g=g, i=i)}.{key}": shape for key, shape in layer.items()})
    head_shapes = {
        "predictions.": {
            "predictions.dense.weight": (E, H),
            "predictions.dense.bias": (E,),
            "predictions.LayerNorm.weight": (E,),
            "predictions.LayerNorm.bias": (E,),
            "predictions.bias": (V,),
        },
        "sop_classifier.": {
            "sop_classifier.classifier.weight": (config.num_labels, H),
            "sop_classifier.classifier.bias": (config.num_labels,),
        },
        "classifier.": {"classifier.weight": (config.num_labels, H), "classifier.bias": (config.num_labels,)},
        "qa_outputs.": {"qa_outputs.weight": (2, H), "qa_outputs.bias": (2,)},
    }
    for head in heads:
        shapes.update(head_shapes[head])
    return shapes


def check_state(state: dict[str, np.ndarray], config: AlbertConfig) -> None:
    """Raise ValueError unless ``state`` holds exactly the weights ``config`` describes, in their shapes."""
    heads = [prefix for prefix, _ in _ARCHITECTURES if any(key.startswith(prefix) for key in state)]
    expected = expected_shapes(config, heads)
    unknown = sorted(set(state) - set(expected))
    if unknown:
        raise ValueError(
            f"The checkpoint holds weights the config ({ORIGINAL_CONFIG_NAME}) has no place for: {unknown}. "
            "Check num_hidden_groups and inner_group_num."
        )
    missing = sorted(set(expected) - set(state))
    if missing:
        raise ValueError(f"The checkpoint lacks weights the config describes: {missing}.")
    wrong = [
        f"{key}: checkpoint {tuple(array.shape)} vs config {expected[key]}"
        for key, array in state.items()
        if tuple(array.shape) != expected[key]
    ]
    if wrong:
        raise ValueError(f"Checkpoint shapes disagree with {ORIGINAL_CONFIG_NAME}: " + "; ".join(wrong))


# --------------------------------------------------------------------------------------------- tokenizer
def _load_tokenizer(spiece: Path, model_max_length: int) -> Any:
    from albertlite.tokenization import AlbertTokenizer

    # The release's settings are AlbertTokenizer's defaults: lower-cased, accents stripped, [MASK] lstrip.
    return AlbertTokenizer(vocab_file=spiece, model_max_length=model_max_length)
