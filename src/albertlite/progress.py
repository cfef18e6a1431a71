"""Progress of long commands: a tqdm bar on a terminal, a plain line every few seconds in a log.

A bar redrawn on every step is what a terminal (or a notebook) wants; written to a file or a pipe (``make demo |
tee log``, CI, a batch job's log) each redraw became a line, one per training step. :class:`Progress` looks at its
stream once: a terminal or a Jupyter kernel gets the tqdm bar, anything else a line such as ``pretrain: step
120/4000 (3%), 24.1 steps/s, ETA 2m41s, loss=3.214`` every ``interval`` seconds (``ALBERTLITE_PROGRESS_INTERVAL``,
default 5) and one line at the end.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

DEFAULT_INTERVAL_S = 5.0
INTERVAL_ENV = "ALBERTLITE_PROGRESS_INTERVAL"


class Progress:
    """Counts steps of a long loop and shows them as the stream allows.

    Args:
        total: steps expected (None: unknown, no percentage or ETA).
        desc: what is counted, the start of every line ("pretrain", "fine-tuning").
        initial: steps already done (a resumed run).
        enabled: False shows nothing.
        unit: what a step is called ("step", "chunk").
        stream: where to write (default: ``sys.stderr`` at creation).
        interval: seconds between log lines (default: ``ALBERTLITE_PROGRESS_INTERVAL`` or 5).
        clock: the time source (tests give a fake one).

    Example:
        >>> with Progress(100, desc="train", enabled=False) as progress:
        ...     for step in range(100):
        ...         progress.update(1, loss=0.5)
    """

    def __init__(
        self,
        total: int | None,
        *,
        desc: str,
        initial: int = 0,
        enabled: bool = True,
        unit: str = "step",
        stream: IO[str] | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.stream = sys.stderr if stream is None else stream
        self.values: dict[str, Any] = {}
        self._clock, self._initial = clock, initial
        self._interval = _interval() if interval is None else float(interval)
        self._started = self._last_line = clock()
        self._shown = initial  # the count the last line showed
        self._bar = None
        self.enabled = enabled
        if enabled and (_is_terminal(self.stream) or _in_notebook()):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self.stream, dynamic_ncols=True)

    def update(self, n: int = 1, **values: Any) -> None:
        """Count ``n`` more steps; ``values`` (loss, accuracy ...) are shown from now on."""
        self.n += n
        self.values.update(values)
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            if values:
                self._bar.set_postfix({k: _short(v) for k, v in self.values.items()}, refresh=False)
        elif self._clock() - self._last_line >= self._interval:
            self._write_line()

    def set_total(self, total: int | None) -> None:
        """Change the steps expected (a time budget fixes its count after the first steps)."""
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def set_values(self, **values: Any) -> None:
        """Show these values with the next line (or on the bar) without counting a step."""
        self.update(0, **values)

    def close(self, final_line: bool = True) -> None:
        """End the bar, or write the last line when steps were counted since the previous one."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and final_line and self.n != self._shown:
            self._write_line()
        self.enabled = False

    def line(self) -> str:
        """The log line of the current state."""
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = (self.n - self._initial) / elapsed
        parts = [f"{self.desc}: {self.unit} {self.n:,}" + (f"/{self.total:,}" if self.total else "")]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        if rate > 0:
            parts.append(f"{rate:.3g} {self.unit}s/s" if rate >= 0.1 else f"{1 / rate:.3g} s/{self.unit}")
        if self.total and rate > 0 and self.n < self.total:
            parts.append(f"ETA {_duration((self.total - self.n) / rate)}")
        elif self.total and self.n >= self.total:
            parts.append(f"done in {_duration(elapsed)}")
        if self.values:
            parts.append(" ".join(f"{k}={_short(v)}" for k, v in self.values.items()))
        return ", ".join(parts)

    def _write_line(self) -> None:
        self.stream.write(self.line() + "\n")
        self.stream.flush()
        self._last_line, self._shown = self._clock(), self.n

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, error_type: type | None, *exc_info: object) -> None:
        # a run that fails ends with its one-line error, not a progress line after it
        self.close(final_line=error_type is None)


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _in_notebook() -> bool:
    """A Jupyter kernel, whose output is no terminal but renders tqdm's widget in place."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def _interval() -> float:
    text = os.environ.get(INTERVAL_ENV, "")
    try:
        value = float(text) if text.strip() else DEFAULT_INTERVAL_S
    except ValueError:
        raise ValueError(f"{INTERVAL_ENV}={text!r} is not a number of seconds; unset it or give e.g. 5") from None
    if not value >= 0:  # NaN included
        raise ValueError(f"{INTERVAL_ENV}={text!r} must be 0 or more seconds")
    return value


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
