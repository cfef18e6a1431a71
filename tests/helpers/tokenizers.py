"""The tokenizer fixtures (tests/fixtures/tokenizer) and the transformers 4.57 outputs recorded on them."""

from __future__ import annotations

import base64
import functools
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

from albertlite.tokenization_fast import parse_sentencepiece_model

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tokenizer"
SPIECE = FIXTURES / "spiece.model"
CHARSMAP_PLACEHOLDER = "<precompiled_charsmap of spiece.model>"


@functools.cache
def reference() -> dict[str, Any]:
    """transformers 4.57's outputs."""
    return json.loads(gzip.decompress((FIXTURES / "hf457_outputs.json.gz").read_bytes()))


@functools.cache
def stress() -> dict[str, Any]:
    """The stress corpus and the call modes the fixture script ran."""
    return json.loads((FIXTURES / "stress.json").read_text(encoding="utf-8"))


def plain(value: Any) -> Any:
    """Lists and dicts of a tokenizer output (tuples become lists), comparable with the JSON fixtures."""
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def mode_inputs(name: str) -> tuple[Any, Any]:
    text, pair = stress()["mode_inputs"][name]
    if name == "pair_tuples":
        text = [tuple(p) for p in text]
    return text, pair


def mode_cases() -> list[tuple[str, int]]:
    return [(name, i) for name in stress()["mode_inputs"] for i in range(len(stress()["modes"]))]


def restore_hf457_dir(label: str, target: Path) -> Path:
    """Rebuild a directory saved by 4.57 (hf457_slow or hf457_fast) from the fixture's small files."""
    target.mkdir(parents=True, exist_ok=True)
    for path in (FIXTURES / label).iterdir():
        if path.name == "tokenizer.json.gz":
            state = json.loads(gzip.decompress(path.read_bytes()))
            charsmap = base64.b64encode(parse_sentencepiece_model(SPIECE.read_bytes()).precompiled_charsmap).decode()
            for step in state["normalizer"]["normalizers"]:
                if step.get("precompiled_charsmap") == CHARSMAP_PLACEHOLDER:
                    step["precompiled_charsmap"] = charsmap
            (target / "tokenizer.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        else:
            shutil.copy(path, target / path.name)
    shutil.copy(SPIECE, target / "spiece.model")
    return target
