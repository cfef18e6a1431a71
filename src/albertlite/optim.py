"""Optimisation for pretraining: the authors' LAMB, AdamW, clipping by global norm and learning-rate schedules.

LAMB follows ``lamb_optimizer.py`` of google-research/albert (You et al. 2019 as the authors ship it):

- no bias correction of the moments;
- weight decay is added to the Adam update (decoupled from the gradient), and LayerNorm weights and biases get
  neither decay nor the layer-wise trust ratio;
- the trust ratio is ``||w|| / ||update||``, and 1 when either norm is 0.

Schedules return the learning rate of the update made at optimizer step ``step`` (0-based). As in the authors'
code (and transformers'), the first update of a warm-up runs at rate 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

#: Parameter-name fragments excluded from weight decay and from the trust ratio, as in the authors' run_pretraining.
NO_DECAY_NAMES = ("LayerNorm", "layer_norm", "bias")
OPTIMIZERS = ("lamb", "adamw")
SCHEDULES = ("authors", "linear")


class Lamb(torch.optim.Optimizer):
    """LAMB exactly as ALBERT's authors implement it (no bias correction).

    Each parameter group may set ``weight_decay`` and ``trust_ratio`` (bool; False skips the layer-wise
    adaptation). :func:`parameter_groups` builds the authors' groups from a model.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: coefficients of the running averages of the gradient and its square.
        eps: added to ``sqrt(v)``.
        weight_decay: decoupled weight decay, added to the update before the trust ratio.
        trust_ratio: apply the layer-wise trust ratio.

    Example:
        >>> optimizer = Lamb(parameter_groups(model, weight_decay=0.01), lr=1.76e-3)  # doctest: +SKIP
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.01,
        trust_ratio: bool = True,
    ) -> None:
        if lr < 0:
            raise ValueError(f"lr must be non-negative, got {lr}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"eps and weight_decay must be non-negative, got {eps} and {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, trust_ratio=trust_ratio)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Make one update; ``closure`` re-evaluates the loss, as in every torch optimizer."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise ValueError("Lamb does not support sparse gradients")
                state = self.state[param]
                if not state:
                    dtype = torch.promote_types(param.dtype, torch.float32)
                    state["exp_avg"] = torch.zeros_like(param, dtype=dtype, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(param, dtype=dtype, memory_format=torch.preserve_format)
                # half-precision parameters are updated in float32; float32 and float64 in their own type
                compute = torch.promote_types(param.dtype, torch.float32)
                grad = param.grad.to(compute)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(grad, alpha=1.0 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                update = m / (v.sqrt() + group["eps"])
                if group["weight_decay"] != 0:
                    update.add_(param.to(compute), alpha=group["weight_decay"])
                ratio = _trust_ratio(param.to(compute), update) if group["trust_ratio"] else 1.0
                param.add_((update * (-group["lr"] * ratio)).to(param.dtype))
        return loss


def _trust_ratio(weight: torch.Tensor, update: torch.Tensor) -> torch.Tensor:
    w_norm, u_norm = torch.linalg.vector_norm(weight), torch.linalg.vector_norm(update)
    one = torch.ones_like(w_norm)
    return torch.where((w_norm > 0) & (u_norm > 0), w_norm / torch.where(u_norm > 0, u_norm, one), one)


def is_no_decay(name: str, exclude: Sequence[str] = NO_DECAY_NAMES) -> bool:
    """Whether a parameter named ``name`` is excluded from weight decay and the trust ratio."""
    return any(fragment in name for fragment in exclude)


def parameter_groups(model: nn.Module, weight_decay: float = 0.01) -> list[dict]:
    """The authors' two groups: decayed, trust-ratio-adapted weights; and LayerNorm weights and biases without either.

    Tied parameters appear once (``named_parameters`` deduplicates them).
    """
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if is_no_decay(name) else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay, "trust_ratio": True},
        {"params": no_decay, "weight_decay": 0.0, "trust_ratio": False},
    ]


def build_optimizer(
    model: nn.Module,
    name: str = "lamb",
    *,
    lr: float,
    weight_decay: float = 0.01,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-6,
) -> torch.optim.Optimizer:
    """LAMB (the authors') or torch's AdamW, over :func:`parameter_groups` (no decay on LayerNorm and biases).

    Args:
        model: the model to optimise.
        name: "lamb" or "adamw".
        lr: peak learning rate (the schedule sets the current one on every group).
        weight_decay: decay of the decayed group.
        betas: moment coefficients.
        eps: denominator epsilon.

    Returns:
        The optimizer.
    """
    groups = parameter_groups(model, weight_decay)
    if name == "lamb":
        return Lamb(groups, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    if name == "adamw":
        for group in groups:
            group.pop("trust_ratio")
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


@dataclass(frozen=True)
class LearningRateSchedule:
    """Warm-up then polynomial decay to ``end_lr`` at ``total_steps``.

    ``kind="authors"`` (ALBERT's and BERT's ``optimization.py``): the decay is computed from step 0 over all
    steps, ``(lr - end_lr) * (1 - step / total_steps) ** power + end_lr``, and during warm-up the linear ramp
    ``lr * step / warmup_steps`` replaces it, so the rate jumps to ``lr * (1 - warmup / total)`` when warm-up
    ends (0.975 lr after 3,125 of 125,000 steps). ``kind="linear"`` (transformers'
    ``get_polynomial_decay_schedule_with_warmup``): the decay starts from ``lr`` after warm-up.

    Args:
        lr: peak learning rate.
        total_steps: steps of the run.
        warmup_steps: linear warm-up steps.
        kind: "authors" or "linear".
        end_lr: rate at the end.
        power: exponent of the polynomial decay.
    """

    lr: float
    total_steps: int
    warmup_steps: int = 0
    kind: str = "authors"
    end_lr: float = 0.0
    power: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {SCHEDULES}")
        if self.total_steps < 1 or self.warmup_steps < 0:
            raise ValueError(
                f"need total_steps >= 1 and warmup_steps >= 0, got {self.total_steps}, {self.warmup_steps}"
            )

    def __call__(self, step: int) -> float:
        """The learning rate of the update made at (0-based) optimizer step ``step``."""
        if step < self.warmup_steps:
            return self.lr * step / self.warmup_steps
        if self.kind == "authors":
            fraction = min(step, self.total_steps) / self.total_steps
        else:
            span = max(1, self.total_steps - self.warmup_steps)
            fraction = min(step - self.warmup_steps, span) / span
        return (self.lr - self.end_lr) * (1.0 - fraction) ** self.power + self.end_lr

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every group's ``lr`` to the rate of ``step``; returns it."""
        rate = self(step)
        for group in optimizer.param_groups:
            group["lr"] = rate
        return rate


def clip_grad_norm(parameters: Iterable[torch.Tensor], max_norm: float) -> float:
    """Scale gradients so their global L2 norm is at most ``max_norm`` (tf.clip_by_global_norm); returns the norm.

    ``max_norm <= 0`` only measures. The authors clip at 1.0.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
    if max_norm > 0:
        # tf.clip_by_global_norm: g * clip / max(norm, clip), a no-op when the norm is within bounds
        scale = max_norm / torch.clamp(norm, min=max_norm)
        for grad in grads:
            grad.mul_(scale.to(grad.dtype))
    return float(norm)
