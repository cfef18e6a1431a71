"""Pretraining with PyTorch: :func:`pretrain` and its :class:`PretrainConfig` (``albertlite pretrain``)."""

from albertlite.train.pretrain import PretrainConfig, PretrainResult, pretrain, resolve_model_config

__all__ = ["PretrainConfig", "PretrainResult", "pretrain", "resolve_model_config"]
