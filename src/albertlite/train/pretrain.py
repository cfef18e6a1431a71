"""Pretraining ALBERT (masked LM + sentence order) from shards written by ``albertlite pretrain-data``.

One function, :func:`pretrain`, runs alone or under ``torchrun`` (DistributedDataParallel). The data order is
global and independent of the number of processes (:mod:`albertlite.train.distributed`), and the losses are
normalised over the whole job's step (masked tokens and pairs of all ranks and micro-steps), so N processes of
batch B follow the run of one process of batch N*B. Checkpoints (:mod:`albertlite.train.checkpointing`) hold
everything that run needs, so a resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from albertlite.checkpoints.files import MODEL_FILES, TOKENIZER_FILES, staged_directory
from albertlite.checkpoints.run_dir import (
    OutputLock,
    check_apart,
    claim_output,
    clear_directory,
    directory_kind,
    option,
)
from albertlite.config import AlbertConfig
from albertlite.data.shards import IGNORE_INDEX, PretrainingShards, collate_pretraining_batch, vocab_hash
from albertlite.devices import resolve_device
from albertlite.optim import OPTIMIZERS, SCHEDULES, LearningRateSchedule, build_optimizer, clip_grad_norm
from albertlite.progress import Progress
from albertlite.tokenization_auto import load_tokenizer
from albertlite.train import checkpointing as ckpt
from albertlite.train import options
from albertlite.train.budget import StepBudget
from albertlite.train.distributed import (
    DistributedContext,
    GlobalOrder,
    TokenBudgetSteps,
    all_reduce_sum,
    barrier,
    broadcast_int,
    close_distributed,
    init_distributed,
    rank_positions,
)
from albertlite.train.evaluation import (
    STATS,
    read_unigram_counts,
    score_batch,
    score_samples,
    summarize,
    write_unigram_counts,
)
from albertlite.train.metrics_log import CURVES_FILE, METRICS_FILE, MetricsLogger, plot_curves, read_metrics
from albertlite.train.pretrain_recipes import get_pretrain_recipe
from albertlite.train.sample_dropout import key_dropout_per_sample, sample_dropout, sample_keys
from albertlite.validation import check_number, unknown_keys_error

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
RUN_KIND = "a pretraining run"  # what an output directory holds, for the checks of run_dir.claim_output


def _start_over() -> str:
    return f"pass {option('--overwrite', 'overwrite=True')} to start over"


# settings a resumed run must share with its checkpoint, and how the user names them
FIXED_SETTINGS = {
    "data": "--data (its contents)",
    "model_config": "--model-config",
    "global_batch": "the global batch (--batch-size x processes x --accumulation)",
    "global_batch_tokens": "the global token budget (--batch-tokens x processes x --accumulation)",
    "seed": "--seed",
    "lr": "--lr",
    "warmup": "--warmup-steps",
    "optimizer": "--optimizer",
    "schedule": "--schedule",
    "weight_decay": "--weight-decay",
    "max_grad_norm": "--max-grad-norm",
    "dynamic_masking": "--dynamic-masking",
    "shuffle": "--no-shuffle",
}
SAMPLE_KEYS = "sample_keys"  # a micro-batch's dropout keys, taken out before the forward pass


@dataclass
class PretrainConfig:
    """Options of a pretraining run; the keys mirror the flags of ``albertlite pretrain`` (``--batch-size`` ->
    ``batch_size``), and a JSON file of them is what ``--config`` reads.

    Args:
        data: directory of training shards (``albertlite pretrain-data``).
        tokenizer: tokenizer directory the shards were built with; copied into the output.
        output: run directory: checkpoints, metrics.jsonl, curves.png, TensorBoard events, the final model.
        model_config: a preset name (``albert-base-v2``), a config.json path or directory, or inline JSON whose
            optional ``"base"`` key names the preset/file the other keys override. ``vocab_size`` is always set
            from the tokenizer.
        steps: optimizer steps; with ``max_time``, the most steps.
        max_time: a time budget in seconds (None: train ``steps``). The run times its first steps and fixes its
            step count from them (:mod:`albertlite.train.budget`); the count is recorded in the checkpoints, and
            the warm-up, when ``warmup_steps`` is None, is 2.5% of it. A resumed run continues to that count.
        batch_size: samples per process per micro-step; the global batch is
            ``batch_size * processes * accumulation``.
        batch_tokens: instead of ``batch_size``, tokens per process per micro-step: each step takes whole
            instances in the global order until ``batch_tokens * processes * accumulation`` tokens are full, so
            a step of short instances holds more of them (:class:`~albertlite.train.distributed.TokenBudgetSteps`).
            At least the data's ``max_seq_length``. With packed training a step then costs about the same
            whatever the instances' lengths.
        lr: peak learning rate.
        warmup_steps: linear warm-up steps; None takes 2.5% of ``steps`` (the authors' 3,125 of 125,000), or of
            the count a ``max_time`` budget resolves to.
        warmup_share: the warm-up as a share of the steps when ``warmup_steps`` is None (the authors' 0.025).
        accumulation: micro-steps per optimizer step.
        optimizer: "lamb" (the authors') or "adamw".
        schedule: "authors" (decay from step 0, warm-up overriding it) or "linear" (decay after warm-up).
        weight_decay: decay of the weights other than LayerNorm and biases.
        max_grad_norm: clip the global gradient norm to this (0 turns clipping off).
        bf16: compute under bfloat16 autocast (weights and optimizer stay float32).
        seed: seed of the initial weights, the data order and dropout.
        save_every: write a checkpoint every this many steps (and at the end).
        keep_checkpoints: how many checkpoints to keep (0 keeps all).
        eval_data: shards built from held-out documents; no evaluation when None.
        eval_every: evaluate every this many steps (and before the first step and at the end).
        eval_samples: evaluate on the first this many held-out instances (0: all).
        eval_batch_size: per-process evaluation batch (None: ``batch_size``).
        dynamic_masking: mask on read, a fresh mask each epoch (None: when the shards were written unmasked).
        resume: continue from the newest intact checkpoint in ``output`` (start fresh when there is none). The
            data, model config, global batch, seed and optimizer settings must be those of the checkpoint; steps,
            evaluation, saving and logging settings may change (and a new ``steps`` moves the schedule's end).
        overwrite: start fresh even though ``output`` holds a run (it is replaced whole), or replace a directory
            that holds another kind of model or data.
        deterministic: ``torch.use_deterministic_algorithms(True)``, for bit-exact runs.
        threads: torch intra-op threads (None leaves torch's choice).
        device: "cpu", "cuda" or "mps", or None (CUDA when available); one this machine lacks is refused.
        tensorboard: write TensorBoard events when the package is installed.
        plot: draw curves.png at the end.
        progress: show progress on rank 0: a bar on a terminal, a line every few seconds in a log
            (:mod:`albertlite.progress`).
        shuffle: read each epoch in a fresh global permutation (False: dataset order).
        packed: train on the real tokens only when at least 20% of a batch is padding
            (:mod:`albertlite.fast.packed_training`; the same gradients as the padded step, to float rounding); False
            computes the padded positions too.
    """

    data: str
    tokenizer: str
    output: str
    model_config: str = "albert-base-v2"
    steps: int = 10000
    max_time: float | None = None
    batch_size: int = 32
    batch_tokens: int | None = None
    lr: float = 1.76e-3
    warmup_steps: int | None = None
    warmup_share: float = 0.025
    accumulation: int = 1
    optimizer: str = "lamb"
    schedule: str = "authors"
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    bf16: bool = False
    seed: int = 12345
    save_every: int = 1000
    keep_checkpoints: int = 3
    eval_data: str | None = None
    eval_every: int = 1000
    eval_samples: int = 2048
    eval_batch_size: int | None = None
    dynamic_masking: bool | None = None
    resume: bool = False
    overwrite: bool = False
    deterministic: bool = False
    threads: int | None = None
    device: str | None = None
    tensorboard: bool = True
    plot: bool = True
    progress: bool = True
    shuffle: bool = True
    packed: bool = True

    def __post_init__(self) -> None:
        options.check_option_types(PretrainConfig, dataclasses.asdict(self), "PretrainConfig")
        positive = ("steps", "batch_size", "accumulation", "save_every", "eval_every")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_tokens is not None and self.batch_tokens < 1:
            raise ValueError(f"batch_tokens must be at least 1, got {self.batch_tokens}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        check_number("lr", self.lr, above=0)
        if self.max_time is not None:
            check_number("max_time", self.max_time, above=0)
        check_number("weight_decay", self.weight_decay, minimum=0)
        check_number("warmup_share", self.warmup_share, minimum=0, maximum=1)
        check_number("max_grad_norm", self.max_grad_norm, minimum=0)
        if self.resume and self.overwrite:
            resume, overwrite = option("--resume", "resume=True"), option("--overwrite", "overwrite=True")
            raise ValueError(f"{resume} and {overwrite} exclude each other")
        resolve_device(self.device, name="device")  # refused before the data is read, not mid-run

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PretrainConfig:
        """Build from a mapping whose keys are field names (dashes allowed); unknown keys are an error.

        A ``recipe`` key names a :mod:`~albertlite.train.pretrain_recipes` recipe whose settings the other keys
        override."""
        names = {f.name for f in dataclasses.fields(cls)}
        normalised = {key.replace("-", "_"): value for key, value in values.items()}
        recipe = normalised.pop("recipe", None)
        if recipe is not None:
            if not isinstance(recipe, str):
                raise ValueError(f"recipe must be a recipe's name, got {recipe!r}")
            normalised = {**get_pretrain_recipe(recipe).settings, **normalised}
        if set(normalised) - names:
            raise unknown_keys_error("pretraining options", set(normalised) - names, names)
        return cls(**normalised)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike, **overrides: Any) -> PretrainConfig:
        """Options from a JSON file (see :func:`read_options`), with ``overrides`` on top."""
        return cls.from_dict({**read_options(path), **overrides})

    @property
    def warmup(self) -> int:
        return round(self.warmup_share * self.steps) if self.warmup_steps is None else int(self.warmup_steps)


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns.

    Args:
        output: the output directory (the final model and tokenizer are there).
        step: steps completed.
        final_eval: held-out metrics at the end (empty without ``eval_data``).
        first_eval: held-out metrics before the first step of the run (empty when resumed or without eval).
        history: every metrics record of the run (train and eval), as in metrics.jsonl (rank 0 only).
    """

    output: Path
    step: int
    final_eval: dict[str, float] = field(default_factory=dict)
    first_eval: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


class PretrainingObjective(nn.Module):
    """The two pretraining losses as sums, normalised by job-wide counts the caller passes in.

    The losses and statistics are :func:`albertlite.train.evaluation.score_batch`'s, as for every evaluation.

    Args:
        model: an ``AlbertForPreTraining``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Mapping[str, torch.Tensor], masked_total: float, pairs_total: float) -> tuple:
        """Returns (loss: this process's share of the job's mean MLM + mean SOP loss, stats: the ``STATS`` sums)."""
        mlm_losses, sop_losses, stats = score_batch(self.model, batch)
        loss = mlm_losses.sum() / max(masked_total, 1.0) + sop_losses.sum() / max(pairs_total, 1.0)
        return loss, stats


def resolve_model_config(spec: str, *, vocab_size: int, pad_token_id: int = 0) -> AlbertConfig:
    """The model config a ``--model-config`` value names, with the tokenizer's vocabulary size.

    Args:
        spec: a preset name, a config.json file or a model directory, or inline JSON (``{"base":
            "albert-base-v2", "hidden_size": 128, ...}``; ``base`` defaults to albert-base-v2).
        vocab_size: the tokenizer's vocabulary size.
        pad_token_id: the tokenizer's padding id.

    Returns:
        The config.
    """
    text = spec.strip()
    if text.startswith("{"):
        try:
            overrides = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"--model-config is not valid JSON: {error}") from error
        if not isinstance(overrides, dict):
            raise ValueError(f"--model-config JSON must be an object of config fields, got {type(overrides).__name__}.")
        known = {*AlbertConfig.field_names(), "base"}
        if set(overrides) - known:  # a typo would otherwise train the base preset's size without a word
            raise unknown_keys_error("--model-config", set(overrides) - known, known)
        base = overrides.pop("base", "albert-base-v2")
        config = AlbertConfig.from_pretrained(base, **overrides)
    else:
        config = AlbertConfig.from_pretrained(text)
    config = config.copy(vocab_size=vocab_size, pad_token_id=pad_token_id)
    config.validate()
    return config


def pretrain(config: PretrainConfig) -> PretrainResult:
    """Pretrain an ``AlbertForPreTraining`` on shards; under torchrun, as one process of a DDP job.

    Args:
        config: the run's options.

    Returns:
        The result (rank 0 has written the final model and tokenizer to ``config.output``).

    Example:
        >>> pretrain(PretrainConfig(data="shards", tokenizer="tok", output="run", model_config="albert-base-v2",
        ...                         steps=1000, batch_size=32, lr=1e-3))  # doctest: +SKIP
    """
    owns_group = not torch.distributed.is_initialized()
    context = init_distributed(config.device)
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        if config.deterministic:
            torch.use_deterministic_algorithms(True)
        if config.threads:
            torch.set_num_threads(config.threads)
        return _Trainer(config, context).run()
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        if owns_group:
            close_distributed(context)


class _Trainer:
    def __init__(self, config: PretrainConfig, context: DistributedContext) -> None:
        self.config, self.context = config, context
        self.output = Path(config.output)
        self.checkpoint_dir = self.output / CHECKPOINT_DIR
        inputs = {"--data": config.data, "--tokenizer": config.tokenizer, "--eval-data": config.eval_data}
        check_apart(self.output, "--output", inputs)
        self.data = PretrainingShards(config.data, dynamic_masking=config.dynamic_masking)
        self.eval_data = PretrainingShards(config.eval_data) if config.eval_data else None
        self._check_tokenizer()
        self.model_config = resolve_model_config(
            config.model_config, vocab_size=self.data.manifest["tokenizer"]["vocab_size"],
            pad_token_id=self.data.pad_token_id,
        )  # fmt: skip
        longest = int(self.data.manifest["settings"]["max_seq_length"])
        if longest > self.model_config.max_position_embeddings:
            raise ValueError(
                f"the data holds sequences of up to {longest} tokens, more than the model's "
                f"max_position_embeddings={self.model_config.max_position_embeddings}"
            )
        self.data_fingerprints = {
            "data": ckpt.fingerprint(config.data),
            "eval_data": ckpt.fingerprint(config.eval_data) if config.eval_data else None,
        }
        self.order = GlobalOrder(len(self.data), config.seed, shuffle=config.shuffle)
        self.token_steps = self._token_steps(longest)
        # a token budget sets how many samples a step holds: the batch size then plays no part
        self.global_batch = None if self.token_steps else config.batch_size * context.world_size * config.accumulation
        self.warmup = config.warmup
        # a budgeted run knows its step count only once it has timed its first steps (_measure)
        self.total_steps: int | None = config.steps if config.max_time is None else None
        self.schedule = self._schedule()
        self.unigram = None  # the training tokens' baseline for evaluations, read once the output is prepared
        self.elapsed_s = 0.0  # seconds spent in training steps, over the run's resumes (evaluation and saving not)

    # ------------------------------------------------------------------ set-up
    def _token_steps(self, longest: int) -> TokenBudgetSteps | None:
        tokens = self.config.batch_tokens
        if tokens is None:
            return None
        if tokens < longest:  # checked before the model is built: a micro-batch must hold any one instance
            flag = option("--batch-tokens", "batch_tokens")
            raise ValueError(f"{flag}={tokens} cannot hold the data's longest instances (max_seq_length "
                             f"{longest}); use at least {longest}")  # fmt: skip
        budget = tokens * self.context.world_size * self.config.accumulation
        return TokenBudgetSteps(self.order, self.data.lengths(), budget)

    @property
    def global_batch_tokens(self) -> int | None:
        return None if self.token_steps is None else self.token_steps.budget

    def _data_position(self, step: int) -> int:
        """The global positions the first ``step`` steps consumed."""
        return self.token_steps.start(step) if self.token_steps else step * self.global_batch

    def _check_tokenizer(self) -> None:
        tokenizer = load_tokenizer(self.config.tokenizer)
        expected = self.data.manifest["tokenizer"]["vocab_sha256"]
        if vocab_hash(tokenizer.get_vocab()) != expected:
            raise ValueError(
                f"the tokenizer in {self.config.tokenizer} is not the one {self.config.data} was built with"
            )
        if self.eval_data is not None and self.eval_data.manifest["tokenizer"]["vocab_sha256"] != expected:
            raise ValueError(f"{self.config.eval_data} was built with another tokenizer than {self.config.data}")

    def _build(self) -> None:
        from albertlite.modeling_torch import AlbertForPreTraining

        torch.manual_seed(self.config.seed)  # the same initial weights on every rank and world size
        self.model = AlbertForPreTraining(self.model_config).to(self.context.device)
        key_dropout_per_sample(self.model)  # masks from each sample's global position, not from the rank
        self.model.albert.packed_training = self.config.packed
        self.model.train()
        self.objective = PretrainingObjective(self.model)
        self.trained = self.objective
        if self.context.distributed:
            device_ids = [self.context.local_rank] if self.context.device.type == "cuda" else None
            self.trained = nn.parallel.DistributedDataParallel(self.objective, device_ids=device_ids)
        self.optimizer = build_optimizer(
            self.model, self.config.optimizer, lr=self.config.lr, weight_decay=self.config.weight_decay
        )
        # dropout draws per sample (sample_dropout.py); anything else drawing from torch's generator draws the
        # same on every rank
        torch.manual_seed(self.config.seed + 1)

    def _start_step(self) -> int:
        if self.context.is_main:
            self._prepare_output()
            write_unigram_counts(self.output, self.data.token_counts())  # for `albertlite evaluate`'s baseline
        barrier(self.context)
        self.unigram = read_unigram_counts(self.output, self.model_config.vocab_size)
        if not self.config.resume:
            return 0
        checkpoint = ckpt.load_latest(self.checkpoint_dir, self.context.rank, _start_over())
        if checkpoint is None:
            logger.info("no checkpoint in %s: starting from step 0", self.checkpoint_dir)
            return 0
        recorded = checkpoint.state["settings"]
        if self.config.warmup_steps is None:  # the default follows --steps; a longer run keeps its warm-up
            self.warmup = int(recorded["warmup"])
        checkpoint.restore(self.model, self.optimizer, self._settings(), FIXED_SETTINGS, _start_over())
        resolved = (checkpoint.state.get("budget") or {}).get("resolved_steps")
        if self.config.max_time is not None and resolved is not None:
            self.total_steps = int(resolved)  # the same end as the interrupted run; before it, measured anew
        self.schedule = self._schedule()
        self.elapsed_s = float(checkpoint.state.get("elapsed_s", 0.0))
        return checkpoint.step

    def _schedule(self) -> LearningRateSchedule:
        # until a budget's count is known, the measured steps run on the schedule of the cap (--steps); within an
        # explicit warm-up their rates do not depend on the total (see docs/pretraining.md)
        total = self.total_steps if self.total_steps is not None else self.config.steps
        return LearningRateSchedule(self.config.lr, total, self.warmup, kind=self.config.schedule)

    @property
    def end(self) -> int:
        """The step the run ends at: ``--steps``, or the count a budget resolved to (the cap until then)."""
        return self.total_steps if self.total_steps is not None else self.config.steps

    def _settings(self) -> dict[str, Any]:
        """What a checkpoint records of the run, to compare on resume (see FIXED_SETTINGS)."""
        config = self.config
        return {
            **self.data_fingerprints,
            "model_config": self.model_config.to_dict(),
            "global_batch": self.global_batch,
            "global_batch_tokens": self.global_batch_tokens,
            "warmup": self.warmup,
            "dynamic_masking": self.data.dynamic_masking,
            **{name: getattr(config, name) for name in _RECORDED_OPTIONS},
        }

    def _prepare_output(self) -> None:
        config = self.config
        cleared = claim_output(self.output, RUN_KIND, overwrite=config.overwrite)
        if config.overwrite and not cleared and directory_kind(self.output) == RUN_KIND:
            clear_directory(self.output)  # start afresh: old checkpoints, metrics and model go together
        existing = ckpt.list_checkpoints(self.checkpoint_dir)
        if existing and not (config.resume or config.overwrite):
            resume, overwrite = option("--resume", "resume=True"), option("--overwrite", "overwrite=True")
            raise ValueError(f"{self.output} already holds checkpoints; pass {resume} to continue or {overwrite} "
                             "to start over")  # fmt: skip
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        ckpt.clean_checkpoint_dir(self.checkpoint_dir)

    # ------------------------------------------------------------------ the loop
    def run(self) -> PretrainResult:
        # rank 0 owns the output directory for the whole run; the other ranks write only where it tells them
        lock = OutputLock(self.output, "albertlite pretrain") if self.context.is_main else None
        if lock is not None:
            lock.acquire()
        try:
            return self._run()
        finally:
            if lock is not None:
                lock.release()

    def _run(self) -> PretrainResult:
        self._build()
        start = self._start_step()
        metrics = MetricsLogger(self.output, start, self.config.tensorboard) if self.context.is_main else None
        result = PretrainResult(output=self.output, step=start)
        try:
            if start == 0 and self.eval_data is not None:
                result.first_eval = self._log_eval(metrics, 0)
            self._train(start, metrics)
            result.step = self.end
            if self.eval_data is not None:
                # a run resumed after it had finished has its final evaluation on record, unless it was killed
                # between its last checkpoint and that evaluation
                log = metrics if start < self.end or not self._final_eval_recorded() else None
                result.final_eval = self._log_eval(log, self.end)
        finally:
            if metrics is not None:
                metrics.close()
        if self.context.is_main:
            self._save_final()
            result.history = read_metrics(self.output / METRICS_FILE)
        barrier(self.context)
        return result

    def _final_eval_recorded(self) -> bool:
        records = read_metrics(self.output / METRICS_FILE) if self.context.is_main else []
        return any(r["split"] == "eval" and r["step"] == self.end for r in records)

    def _train(self, start: int, metrics: MetricsLogger | None) -> None:
        budget = StepBudget(self.config.max_time, self.config.steps) if self.total_steps is None else None
        with Progress(self.end, desc="pretrain", initial=start,
                      enabled=self.config.progress and self.context.is_main) as bar:  # fmt: skip
            step = start
            while step < self.end:
                began = time.perf_counter()
                values = self._train_step(step)
                seconds = time.perf_counter() - began
                self.elapsed_s += seconds
                values["tokens_per_s"] = values.pop("tokens") / max(seconds, 1e-9)
                values["elapsed_s"] = self.elapsed_s  # learning per minute: metrics.jsonl against wall time
                done = step = step + 1
                if budget is not None and self.total_steps is None:
                    self._measure(budget, done, bar)
                if metrics is not None:
                    metrics.log(done, "train", values)
                bar.update(
                    1, loss=f"{values['loss']:.3f}", mlm_acc=f"{values['mlm_acc']:.3f}",
                    sop_acc=f"{values['sop_acc']:.3f}", tok_s=f"{values['tokens_per_s']:.0f}",
                )  # fmt: skip
                if self.eval_data is not None and done % self.config.eval_every == 0 and done < self.end:
                    self._log_eval(metrics, done)
                if done % self.config.save_every == 0 or done == self.end:
                    self._save_checkpoint(done)

    def _measure(self, budget: StepBudget, done: int, bar: Progress) -> None:
        allowed = budget.tick(done)
        if allowed is None:
            return
        self.total_steps = broadcast_int(allowed, self.context)  # rank 0's clock decides, for every rank
        if self.config.warmup_steps is None:
            self.warmup = round(self.config.warmup_share * self.total_steps)
        self.schedule = self._schedule()
        bar.set_total(self.total_steps)
        if allowed >= self.config.steps and self.context.is_main:
            logger.warning("the time budget allows %d steps or more; --steps stops the run there", self.config.steps)
        logger.info("--max-time %gs: %d steps (median step %.4fs)", budget.seconds, self.total_steps,
                    budget.median_step_s)  # fmt: skip

    def _train_step(self, step: int) -> dict[str, float]:
        config, context = self.config, self.context
        batches = [self._micro_batch(step, micro) for micro in range(config.accumulation)]
        counts = torch.tensor(
            [sum(float((b["labels"] != IGNORE_INDEX).sum()) for b in batches), sum(len(b["labels"]) for b in batches)],
            dtype=torch.float64,
        )
        masked_total, pairs_total = all_reduce_sum(counts.to(context.device), context).tolist()
        stats = torch.zeros(len(STATS), dtype=torch.float64, device=context.device)
        for micro, batch in enumerate(batches):
            last = micro == config.accumulation - 1
            sync = contextlib.nullcontext() if last or not context.distributed else self.trained.no_sync()
            with sync, self._autocast(), sample_dropout(batch.pop(SAMPLE_KEYS)):
                loss, batch_stats = self.trained(batch, masked_total, pairs_total)
                # DDP averages gradients over ranks; the loss is this rank's share of a job-wide sum
                (loss * context.world_size).backward()
            stats += batch_stats
        lr = self.schedule.apply(self.optimizer, step)
        grad_norm = clip_grad_norm(self.model.parameters(), config.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        stats = all_reduce_sum(stats, context).cpu()
        return {**summarize(stats), "lr": lr, "grad_norm": grad_norm, "tokens": float(stats[STATS.index("tokens")])}

    def _micro_batch(self, step: int, micro: int) -> dict[str, torch.Tensor]:
        if self.token_steps is not None:
            positions = self.token_steps.positions(step, micro, accumulation=self.config.accumulation,
                                                   context=self.context)  # fmt: skip
        else:
            positions = list(rank_positions(
                step, micro, batch_size=self.config.batch_size, accumulation=self.config.accumulation,
                context=self.context,
            ))  # fmt: skip
        batch = self._collate(self.data, self._samples(iter(positions)))
        batch[SAMPLE_KEYS] = sample_keys(self.config.seed, positions, self.context.device)
        return batch

    def _samples(self, positions: Iterator[int]) -> list[dict[str, np.ndarray]]:
        samples = []
        for position in positions:
            epoch, index = self.order[position]
            self.data.set_epoch(epoch)  # the dynamic mask of this epoch (a no-op for statically masked data)
            samples.append(self.data[index])
        return samples

    def _collate(self, dataset: PretrainingShards, samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
        arrays = collate_pretraining_batch(samples, pad_token_id=dataset.pad_token_id)
        return {key: torch.from_numpy(value).to(self.context.device) for key, value in arrays.items()}

    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self.config.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.context.device.type, dtype=torch.bfloat16)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict[str, float]:
        """Held-out MLM loss/accuracy, SOP loss/accuracy and the unigram baseline over ``eval_samples`` instances,
        split over ranks (:func:`albertlite.train.evaluation.score_samples`, as ``albertlite evaluate``)."""
        assert self.eval_data is not None
        data, context = self.eval_data, self.context
        total = len(data) if self.config.eval_samples <= 0 else min(len(data), self.config.eval_samples)
        data.set_epoch(0)  # the same masks at every evaluation
        mine = (data[i] for i in range(context.rank, total, context.world_size))
        stats = score_samples(
            self.model, mine, batch_size=self.config.eval_batch_size or self.config.batch_size,
            pad_token_id=data.pad_token_id, device=context.device, unigram=self.unigram, autocast=self.config.bf16,
        )  # fmt: skip
        values = summarize(all_reduce_sum(stats, context).cpu())
        values["pairs"] = float(total)
        return values

    def _log_eval(self, metrics: MetricsLogger | None, step: int) -> dict[str, float]:
        values = self.evaluate()
        if metrics is not None:
            metrics.log(step, "eval", values)
            logger.info("step %d held-out: %s", step, ", ".join(f"{k}={v:.4f}" for k, v in values.items()))
        return values

    # ------------------------------------------------------------------ saving
    def _save_checkpoint(self, step: int) -> None:
        context = self.context
        state = {
            "step": step,
            "kind": RUN_KIND,
            "schedule": dataclasses.asdict(self.schedule),
            "global_batch": self.global_batch,
            "global_batch_tokens": self.global_batch_tokens,
            "data_position": self._data_position(step),
            "elapsed_s": self.elapsed_s,
            "world_size": context.world_size,
            "settings": self._settings(),
            "config": dataclasses.asdict(self.config),
            "budget": None if self.config.max_time is None else {
                "max_time": self.config.max_time, "resolved_steps": self.total_steps, "warmup": self.warmup,
            },
        }  # fmt: skip
        summary = {k: state[k] for k in ("step", "kind", "global_batch", "data_position", "world_size")}
        ckpt.save_checkpoint(
            self.checkpoint_dir, self.model, self.optimizer, state, summary, keep=self.config.keep_checkpoints,
            rank=context.rank, barrier=lambda: barrier(context),
        )  # fmt: skip

    def _save_final(self) -> None:
        # model, tokenizer and curves replace the previous ones together; checkpoints and metrics stay
        with staged_directory(self.output, replaces=(*MODEL_FILES, *TOKENIZER_FILES, CURVES_FILE)) as staging:
            self.model.save_pretrained(staging)
            for name in TOKENIZER_FILES:
                source = Path(self.config.tokenizer) / name
                if source.is_file():
                    shutil.copyfile(source, staging / name)
            if self.config.plot:
                plot_curves(self.output / METRICS_FILE, staging / CURVES_FILE)


_RECORDED_OPTIONS = (
    "seed", "lr", "optimizer", "schedule", "weight_decay", "max_grad_norm", "shuffle", "steps", "save_every",
    "keep_checkpoints", "eval_every", "eval_samples", "batch_size", "batch_tokens", "accumulation", "bf16",
    "max_time",
)  # fmt: skip


def read_options(path: str | os.PathLike) -> dict[str, Any]:
    """The options in a JSON file for :meth:`PretrainConfig.from_dict` (keys with dashes or underscores)."""
    return options.read_options(path, PretrainConfig, "pretraining options", extra=frozenset({"recipe"}))
