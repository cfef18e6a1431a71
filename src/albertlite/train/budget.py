"""A time budget for pretraining (``--max-time``), turned into a step count by timing the first steps.

A budgeted run does not stop on the clock: it measures, then fixes its step count, so that the schedule, the
checkpoints and a resume all work with a count as a ``--steps`` run does. The first :data:`UNTIMED_STEPS` step of
a process is not timed (first-call allocations, lazy initialisation); the next :data:`TIMED_STEPS` are, and then

    steps = done + floor((budget - elapsed) / median timed step), within [done, cap]

where ``elapsed`` counts from the start of the training loop (evaluations and checkpoints in it included) and
``cap`` is ``--steps``. Evaluations and checkpoints after that point are not forecast, and the final evaluation
and save come after the budget.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable

UNTIMED_STEPS = 1
TIMED_STEPS = 3
MEASURED_STEPS = UNTIMED_STEPS + TIMED_STEPS

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def clock() -> float:
    """The clock budgets read (tests replace it to make the count deterministic)."""
    return time.perf_counter()


def parse_duration(text: str | float, name: str = "--max-time") -> float:
    """Seconds in a duration such as ``90s``, ``10m``, ``1h``, ``1h30m`` or a bare number of seconds.

    Raises:
        ValueError: naming ``name``, for anything else or a duration that is not positive.
    """
    if isinstance(text, bool):
        raise ValueError(f"{name} must be a duration such as 90s, 10m, 1h or 1h30m, got {text!r}")
    seconds = float(text) if isinstance(text, (int, float)) else _seconds_of(str(text).strip().lower(), name)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be a positive duration, got {text!r}")
    return seconds


def _seconds_of(text: str, name: str) -> float:
    try:
        return float(text)  # a bare number is seconds, as in a --config file
    except ValueError:
        pass
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"{name} must be a duration such as 90s, 10m, 1h or 1h30m, got {text!r}")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


class StepBudget:
    """Times the steps of one process and, once enough are timed, says how many steps the budget allows.

    Args:
        seconds: the budget.
        cap: the most steps (``--steps``).
        read_clock: the clock (None: :func:`clock`, read when called, so that tests can replace it).

    Example:
        >>> budget = StepBudget(600.0, cap=100_000)
        >>> for done in range(1, 100_000 + 1):
        ...     total = budget.tick(done)  # after each step; None until it is known
    """

    def __init__(self, seconds: float, cap: int, read_clock: Callable[[], float] | None = None) -> None:
        self.seconds, self.cap = float(seconds), int(cap)
        self._clock = read_clock or (lambda: clock())
        self.began = self._clock()
        self._ends: list[float] = []
        self.median_step_s: float | None = None

    def tick(self, done: int) -> int | None:
        """Record that a step ended (``done`` steps in all); the step count once :data:`MEASURED_STEPS` have."""
        self._ends.append(self._clock())
        if len(self._ends) < MEASURED_STEPS:
            return None
        ends = [self.began, *self._ends]
        timed = [b - a for a, b in zip(ends[UNTIMED_STEPS:], ends[UNTIMED_STEPS + 1 :])]
        self.median_step_s = max(statistics.median(timed), 1e-9)
        remaining = self.seconds - (self._ends[-1] - self.began)
        allowed = done + max(0, math.floor(remaining / self.median_step_s))
        return max(done, min(self.cap, allowed))
