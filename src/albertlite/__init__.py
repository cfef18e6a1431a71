"""albertlite: ALBERT for PyTorch, TensorFlow and Flax on one Hugging Face-compatible checkpoint format.

``import albertlite`` loads no deep-learning framework: the framework classes are imported on
first use, and a missing framework raises ImportError naming the extra that installs it.
"""

from __future__ import annotations

import importlib
from typing import Any

from albertlite.config import PRESETS, AlbertConfig
from albertlite.outputs import AlbertForPreTrainingOutput

__version__ = "0.1.0"

# module -> (the package it needs, the pip extra that installs it)
_REQUIREMENTS = {
    "modeling_torch": ("torch", "torch"),
    "modeling_tf": ("tensorflow", "tf"),
    "modeling_flax": ("flax", "flax"),
    "tokenization_fast": ("tokenizers", "fast"),
    "fast.optimization": ("torch", "torch"),
    "export.onnx": ("torch", "torch"),
    "inference": ("torch", "torch"),
    "train.finetune": ("torch", "torch"),
    "train.pretrain": ("torch", "train"),
    "optim": ("torch", "torch"),
}

_TORCH_CLASSES = (
    "AlbertPreTrainedModel",
    "AlbertModel",
    "AlbertForPreTraining",
    "AlbertForMaskedLM",
    "AlbertForSequenceClassification",
    "AlbertForMultipleChoice",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
)
_HEADS = (
    "Model",
    "ForPreTraining",
    "ForMaskedLM",
    "ForSequenceClassification",
    "ForMultipleChoice",
    "ForTokenClassification",
    "ForQuestionAnswering",
)

# public name -> module that defines it
_LAZY: dict[str, str] = {name: "modeling_torch" for name in _TORCH_CLASSES}
_LAZY.update({f"TFAlbert{head}": "modeling_tf" for head in _HEADS})
_LAZY["TFAlbertPreTrainedModel"] = "modeling_tf"
_LAZY["TFAlbertForPreTrainingOutput"] = "modeling_tf"
_LAZY.update({f"FlaxAlbert{head}": "modeling_flax" for head in _HEADS})
_LAZY["FlaxAlbertPreTrainedModel"] = "modeling_flax"
_LAZY["FlaxAlbertForPreTrainingOutput"] = "modeling_flax"
_LAZY.update(
    {
        "AlbertTokenizer": "tokenization",
        "AlbertTokenizerFast": "tokenization_fast",
        "Tokenizer": "tokenization_base",
        "train_tokenizer": "tokenizer_training",
        "create_pretraining_instances": "data.pretraining",
        "pretrain": "train.pretrain",
        "PretrainConfig": "train.pretrain",
        "Lamb": "optim",
        "convert_google_checkpoint": "checkpoints.google",
        "set_fast_path": "fast",
        "fast_path": "fast",
        "fast_path_enabled": "fast",
        "optimize": "fast.optimization",
        "export_onnx": "export.onnx",
        "pipeline": "inference",
        "predict": "inference",
        "load_tokenizer": "tokenization_auto",
        "finetune": "train.finetune",
        "FinetuneSettings": "train.finetune",
    }
)

__all__ = ["AlbertConfig", "AlbertForPreTrainingOutput", "PRESETS", "__version__", *sorted(_LAZY)]


def _import_module(module: str) -> Any:
    requirement = _REQUIREMENTS.get(module)
    try:
        return importlib.import_module(f"albertlite.{module}")
    except ModuleNotFoundError as error:
        if requirement is None or error.name is None or not error.name.startswith(requirement[0]):
            raise
        package, extra = requirement
        raise ImportError(
            f"albertlite.{module} needs {package}, which is not installed. "
            f"Install it with: pip install 'albertlite[{extra}]'"
        ) from error


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albertlite' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
