"""Run an albertlite command with a fault injected at a fixed point: the tests' fault-injection harness.

    python tests/fault_runner.py PLAN COMMAND [ARGS...]

PLAN is one of
- ``count:FILE``: run normally and write to FILE how many file-system steps the command took;
- ``kill:N``: SIGKILL this process just before its N-th file-system step;
- ``enospc:N``: the N-th fsync fails with ENOSPC ("No space left on device"), as a full disk reports it;
- ``metrics-full:N``: the N-th metrics record is half written, then the disk is full;
- ``none``: no fault (with ``FAULT_FSIZE=BYTES`` in the environment: a disk that takes no file larger than that,
  as RLIMIT_FSIZE, set once the imports are done).

A file-system step is a call of os.replace, os.rename, os.fsync, os.link, os.unlink, os.rmdir, os.mkdir or
os.open made by the command once it has started (imports excluded), so a plan names the same moment on every run.
COMMAND is ``cli`` (the rest are albertlite's arguments), ``save-model SRC DST`` (load the PyTorch model in SRC and
save it over DST) or ``save-tokenizer SRC DST``.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import sys

STEPS = ("replace", "rename", "fsync", "link", "unlink", "rmdir", "mkdir", "open")


class _Plan:
    def __init__(self, text: str) -> None:
        kind, _, value = text.partition(":")
        self.kind, self.value, self.count, self.fsyncs = kind, value, 0, 0

    def before(self, name: str) -> None:
        self.count += 1
        if self.kind == "kill" and self.count == int(self.value):
            os.kill(os.getpid(), signal.SIGKILL)
        if name == "fsync":
            self.fsyncs += 1
            if self.kind == "enospc" and self.fsyncs == int(self.value):
                raise OSError(errno.ENOSPC, "No space left on device")

    def report(self) -> None:
        if self.kind == "count":
            with open(self.value, "w") as handle:  # through the real open: the plan is disarmed by now
                json.dump({"steps": self.count, "fsyncs": self.fsyncs}, handle)


def _arm(plan: _Plan) -> None:
    for name in STEPS:
        original = getattr(os, name)

        def wrapped(*args, _original=original, _name=name, **kwargs):
            plan.before(_name)
            return _original(*args, **kwargs)

        setattr(os, name, wrapped)


def _disarm(originals: dict) -> None:
    for name, function in originals.items():
        setattr(os, name, function)


def _fill_metrics_at(record: int) -> None:
    from albertlite.train import metrics_log

    original = metrics_log.MetricsLogger.log
    calls = {"n": 0}

    def log(self, step, split, values):
        calls["n"] += 1
        if calls["n"] == record:
            self._file.write('{"step": ')  # half a line reaches the disk, then nothing more fits
            self._file.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, step, split, values)

    metrics_log.MetricsLogger.log = log


def _command(argv: list[str]) -> int:
    if argv[0] == "cli":
        from albertlite.cli import main

        return main(argv[1:])
    source, target = argv[1], argv[2]
    if argv[0] == "save-model":
        from albertlite import AlbertForSequenceClassification

        AlbertForSequenceClassification.from_pretrained(source).save_pretrained(target)
    elif argv[0] == "save-tokenizer":
        from albertlite import AlbertTokenizer

        AlbertTokenizer.from_pretrained(source).save_pretrained(target)
    else:
        raise SystemExit(f"unknown command {argv[0]}")
    return 0


def main() -> int:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over RLIMIT_FSIZE a write fails (EFBIG) instead of killing
    plan = _Plan(sys.argv[1])
    import torch  # noqa: F401

    import albertlite.cli  # noqa: F401 (imports before arming: they are not the command's steps)

    if os.environ.get("FAULT_FSIZE"):
        limit = int(os.environ["FAULT_FSIZE"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    if plan.kind == "metrics-full":
        _fill_metrics_at(int(plan.value))
    originals = {name: getattr(os, name) for name in STEPS}
    _arm(plan)
    try:
        code = _command(sys.argv[2:])
    finally:
        _disarm(originals)
        plan.report()
    return code


if __name__ == "__main__":
    sys.exit(main())
