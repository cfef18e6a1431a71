"""Bad input as a matrix for the commands the other matrix files do not cover: serve, info, convert, export, predict,
fill-mask and evaluate. Each case ends in one line on stderr and exit 2, before any model loads where it can."""

from __future__ import annotations

import pytest

from albertlite.cli import main

# (category, case id, argv after "albertlite", fragment of the one-line error); MODEL is replaced by a real model
# directory, MISSING by a path that does not exist.
CASES = [
    ("out of range", "serve-port", ["serve", "MODEL", "--port", "70000"], "port must be 0 to 65535, got 70000"),
    ("out of range", "serve-batch-tokens-0", ["serve", "MODEL", "--max-batch-tokens", "0"], "max_batch_tokens"),
    ("out of range", "serve-workers-0", ["serve", "MODEL", "--workers", "0"], "workers"),
    ("not a number", "serve-wait-nan", ["serve", "MODEL", "--max-wait-ms", "nan"], "max_wait_ms"),
    ("conflicting settings", "serve-bf16-and-int8", ["serve", "MODEL", "--dtype", "bfloat16", "--quantize", "int8"],
     "Choose one of --dtype bfloat16 and --quantize int8"),
    ("empty", "serve-api-key-empty", ["serve", "MODEL", "--api-key", ""], "api_key must not be empty"),
    ("I/O fault", "serve-missing-model", ["serve", "MISSING"], "MISSING"),
    ("I/O fault", "info-missing-model", ["info", "MISSING"], "MISSING"),
    ("I/O fault", "convert-missing-checkpoint", ["convert", "google-checkpoint", "MISSING", "OUT"], "MISSING"),
    ("I/O fault", "export-missing-model", ["export", "onnx", "MISSING", "OUT.onnx"], "MISSING"),
    ("I/O fault", "predict-missing-input", ["predict", "--model", "MODEL", "--input", "MISSING", "--output", "OUT"],
     "MISSING"),
    ("empty", "fill-mask-no-mask", ["fill-mask", "--model", "MODEL", "no mask in this text"], "[MASK]"),
    ("I/O fault", "evaluate-missing-model", ["evaluate", "MISSING", "--input", "TEXT"], "MISSING is not a model"),
    ("I/O fault", "evaluate-missing-input", ["evaluate", "MODEL", "--input", "MISSING"],
     "--input MISSING is not a file"),
    ("out of range", "evaluate-batch-size-0", ["evaluate", "MODEL", "--input", "TEXT", "--batch-size", "0"],
     "--batch-size must be greater than 0"),
    ("not a number", "evaluate-masked-lm-prob-nan", ["evaluate", "MODEL", "--input", "TEXT", "--masked-lm-prob", "nan"],
     "masked_lm_prob must be in [0, 1], got nan"),
    ("out of range", "evaluate-seq-length-3", ["evaluate", "MODEL", "--input", "TEXT", "--max-seq-length", "3"],
     "max_seq_length must be at least 5"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "argv", "fragment"), CASES, ids=[c[1] for c in CASES])
def test_one_line_and_exit_2(category, case, argv, fragment, base_model, tmp_path, capsys):
    missing = str(tmp_path / "no-such-thing")
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat.\nit was warm.\n", encoding="utf-8")
    names = {"MODEL": str(base_model), "MISSING": missing, "OUT": str(tmp_path / "out"),
             "OUT.onnx": str(tmp_path / "out.onnx"), "TEXT": str(text)}  # fmt: skip
    argv = [names.get(a, a) for a in argv]
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], (code, err)
    assert fragment.replace("MISSING", missing) in err[0], err[0]
    assert err[0].startswith(f"albertlite {argv[0]}: error: ")
