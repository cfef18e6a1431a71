"""Training with PyTorch: one toolkit and its two drivers.

The toolkit: :mod:`~albertlite.train.checkpointing` (pickle-free checkpoints and resume checks),
:mod:`~albertlite.train.metrics_log` (metrics.jsonl, TensorBoard, curves.png), :mod:`~albertlite.train.distributed`,
and :mod:`albertlite.optim` (parameter groups, optimizers, schedules, clipping). The drivers:
:func:`pretrain` (``albertlite pretrain``) and :func:`albertlite.train.finetune.finetune` (``albertlite finetune``).
"""

from albertlite.train.pretrain import PretrainConfig, PretrainResult, pretrain, resolve_model_config

__all__ = ["PretrainConfig", "PretrainResult", "pretrain", "resolve_model_config"]
