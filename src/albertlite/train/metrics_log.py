"""Where training metrics go: a JSONL file (the record), TensorBoard (when installed) and a PNG of the curves."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from albertlite.checkpoints.files import atomic_write, atomic_write_text

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "curves.png"
TENSORBOARD_DIR = "tensorboard"


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a metrics.jsonl file (each has ``step`` and ``split``: "train" or "eval")."""
    text = Path(path).read_text(encoding="utf-8", errors="replace") if Path(path).is_file() else ""
    lines = [line for line in text.splitlines() if line.strip()]
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise ValueError(f"{path}, line {number}: not a JSON record") from None
            # the last line of a run killed (or out of disk space) mid-write: the records before it stand
            logger.warning("%s: ignoring its unfinished last line", path)
    return records


class MetricsLogger:
    """Appends records to ``metrics.jsonl`` and mirrors them to TensorBoard.

    On resume from step ``start_step`` the records of later steps (written after the checkpoint, before the
    process died) are dropped, so the file reads as one uninterrupted run.

    Args:
        output_dir: the run's output directory.
        start_step: the step training starts from.
        tensorboard: also write TensorBoard events (needs the ``tensorboard`` package).
    """

    def __init__(self, output_dir: str | os.PathLike, start_step: int = 0, tensorboard: bool = True) -> None:
        self.path = Path(output_dir) / METRICS_FILE
        kept = [r for r in read_metrics(self.path) if r["step"] <= start_step] if start_step > 0 else []
        atomic_write_text(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._writer = _summary_writer(Path(output_dir) / TENSORBOARD_DIR, start_step) if tensorboard else None

    def log(self, step: int, split: str, values: Mapping[str, float]) -> None:
        record = {"step": step, "split": split, **{k: float(v) for k, v in values.items()}}
        self._file.write(json.dumps(record, sort_keys=True) + "\n")
        self._file.flush()
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"{split}/{key}", float(value), step)

    def close(self) -> None:
        self._file.close()
        if self._writer is not None:
            self._writer.close()


def _summary_writer(directory: Path, start_step: int) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.warning("tensorboard is not installed; metrics go to %s only", METRICS_FILE)
        return None
    # purge_step hides events a killed run wrote past its last checkpoint
    return SummaryWriter(str(directory), purge_step=start_step if start_step > 0 else None)


PRETRAINING_PANELS = (("MLM loss", "mlm_loss"), ("MLM accuracy", "mlm_acc"), ("SOP accuracy", "sop_acc"),
                      ("learning rate", "lr"))  # fmt: skip


def plot_curves(
    metrics_path: str | os.PathLike,
    output_path: str | os.PathLike,
    panels: Sequence[tuple[str, str]] = PRETRAINING_PANELS,
) -> Path | None:
    """Draw the ``panels`` (title, metric key), train and eval, against step into a PNG; None without matplotlib.

    The default panels are pretraining's: masked-LM loss and accuracy, sentence-order accuracy, learning rate.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed; no %s", CURVES_FILE)
        return None
    records = read_metrics(metrics_path)
    rows = max(1, -(-len(panels) // 2))
    figure, axes = plt.subplots(rows, 2, figsize=(11, 3.5 * rows), squeeze=False)
    for axis in axes.flat[len(panels) :]:
        axis.set_visible(False)
    for axis, (title, key) in zip(axes.flat, panels):
        for split, style in (("train", "-"), ("eval", "o-")):
            points = [(r["step"], r[key]) for r in records if r["split"] == split and key in r]
            if points:
                steps, values = zip(*points)
                axis.plot(steps, values, style, label=split, markersize=3, linewidth=1)
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
    figure.tight_layout()
    target = Path(output_path)
    atomic_write(target, lambda tmp: figure.savefig(tmp, format="png", dpi=90))
    plt.close(figure)
    return target
