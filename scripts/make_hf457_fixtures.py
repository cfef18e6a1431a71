"""Write reference fixtures from transformers 4.57 for ALBERT relative positions and head_mask.

transformers 5 removed relative_key / relative_key_query positions and head_mask from ALBERT, so the tests compare
albertlite against outputs recorded here with transformers 4.57 (eager attention, eval mode). Each case becomes
tests/fixtures/hf457/<case>/ holding config.json + model.safetensors (written by 4.57's save_pretrained), io.npz
(inputs and outputs) and meta.json (what is comparable). tests/fixtures/hf457/README.md documents the file format.

Run with the reference venv (it refuses any other transformers version):

    .venv-hf457/bin/python scripts/make_hf457_fixtures.py   (or: make fixtures, which makes that venv)

The run is deterministic: weights come from numpy's PCG64 generator with fixed seeds (not torch's RNG, so they do not
depend on the torch version) and torch runs on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The reference venv also holds TensorFlow and Flax; keep transformers from importing them (slow, noisy, unused).
os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_FLAX", "0")

import numpy as np
import transformers

if not transformers.__version__.startswith("4.57"):
    sys.exit(f"make_hf457_fixtures.py needs transformers 4.57.x, found {transformers.__version__}")

import torch  # after the version gate, so a wrong venv fails fast
from transformers import AlbertConfig, AlbertForPreTraining

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "hf457"

BATCH, SEQ = 3, 9
# Real (unpadded) length of each row: two rows end in padding, one is full.
ROW_LENGTHS = (9, 6, 4)
# Where the second segment (token type 1) starts in each row.
SEGMENT_B_START = (5, 3, 2)
SENTENCE_ORDER_LABEL = (0, 1, 1)

BASE_CONFIG: dict[str, Any] = {
    "vocab_size": 99,
    "embedding_size": 16,
    "hidden_size": 32,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 20,
    "type_vocab_size": 2,
    "hidden_act": "gelu_new",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "classifier_dropout_prob": 0.0,
    # Larger than HF's 0.02 so attention scores (and the relative-position terms in them) are O(1): with 0.02 the
    # softmax is nearly uniform and a wrong relative-position formula would still pass a 1e-5 comparison.
    "initializer_range": 0.2,
}

# A 1-D mask: one head off, others scaled, so both "drop" and "scale" paths are exercised.
HEAD_MASK_1D = np.array([1.0, 0.0, 0.5, 0.25], dtype=np.float32)
# A 2-D mask, one row per layer (num_hidden_groups == num_hidden_layers == 3, inner_group_num 1).
HEAD_MASK_2D = np.array(
    [[1.0, 0.0, 0.5, 1.0], [0.0, 1.0, 1.0, 0.75], [0.3, 1.0, 0.0, 1.0]],
    dtype=np.float32,
)


@dataclass(frozen=True)
class Case:
    """One fixture: a config override, an optional head_mask and a human description."""

    name: str
    description: str
    config: dict[str, Any]
    seed: int
    head_mask: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


CASES: tuple[Case, ...] = (
    Case(
        name="relative_key",
        description="relative_key positions, 3 layers, 1 group, inner_group_num 1 (one shared layer applied 3 times).",
        config={
            "position_embedding_type": "relative_key",
            "num_hidden_layers": 3,
            "num_hidden_groups": 1,
            "inner_group_num": 1,
        },
        seed=101,
    ),
    Case(
        name="relative_key_query_groups",
        description="relative_key_query positions, 4 layers, 2 groups, inner_group_num 1 (layers 0-1 use group 0, "
        "layers 2-3 use group 1).",
        config={
            "position_embedding_type": "relative_key_query",
            "num_hidden_layers": 4,
            "num_hidden_groups": 2,
            "inner_group_num": 1,
        },
        seed=102,
    ),
    Case(
        name="relative_key_query_inner2",
        description="relative_key_query positions, 2 layers, 1 group, inner_group_num 2 (4 applied layers).",
        config={
            "position_embedding_type": "relative_key_query",
            "num_hidden_layers": 2,
            "num_hidden_groups": 1,
            "inner_group_num": 2,
        },
        seed=103,
        notes=[
            "transformers 4.57 appends a hidden state once per group call, not once per applied layer: hidden_states "
            "has num_hidden_layers + 1 = 3 entries. Entry k equals albertlite hidden_states[k * inner_group_num] "
            "(albertlite has num_hidden_layers * inner_group_num + 1 = 5). attentions has one entry per applied "
            "layer (4) in both libraries.",
        ],
    ),
    Case(
        name="head_mask_1d",
        description="absolute positions, head_mask 1-D [heads] applied to every layer, 3 layers, 1 group, "
        "inner_group_num 1.",
        config={
            "position_embedding_type": "absolute",
            "num_hidden_layers": 3,
            "num_hidden_groups": 1,
            "inner_group_num": 1,
        },
        seed=104,
        head_mask=HEAD_MASK_1D,
    ),
    Case(
        name="head_mask_2d",
        description="absolute positions, head_mask 2-D [num_hidden_layers, heads], 3 layers, 3 groups, "
        "inner_group_num 1 (the only 2-D layout where 4.57's row = group_idx * layers_per_group + j equals "
        "'row k masks the k-th applied layer').",
        config={
            "position_embedding_type": "absolute",
            "num_hidden_layers": 3,
            "num_hidden_groups": 3,
            "inner_group_num": 1,
        },
        seed=105,
        head_mask=HEAD_MASK_2D,
    ),
    Case(
        name="relative_key_head_mask_2d",
        description="relative_key positions with a 2-D head_mask [num_hidden_layers, heads], 3 layers, 3 groups, "
        "inner_group_num 1.",
        config={
            "position_embedding_type": "relative_key",
            "num_hidden_layers": 3,
            "num_hidden_groups": 3,
            "inner_group_num": 1,
        },
        seed=106,
        head_mask=HEAD_MASK_2D,
    ),
)


def make_inputs(rng: np.random.Generator, vocab_size: int) -> dict[str, np.ndarray]:
    """Build a padded batch (trailing zeros), token types, MLM labels and sentence-order labels."""
    positions = np.arange(SEQ)
    lengths = np.array(ROW_LENGTHS)[:, None]
    attention_mask = (positions[None, :] < lengths).astype(np.int64)  # (B, S)
    # Ids 1.. avoid the pad id 0 at real positions; padded positions hold the pad id as a tokenizer would.
    input_ids = rng.integers(1, vocab_size, size=(BATCH, SEQ), dtype=np.int64) * attention_mask
    token_type_ids = ((positions[None, :] >= np.array(SEGMENT_B_START)[:, None]) * attention_mask).astype(np.int64)
    # Labels on roughly half the real positions, -100 elsewhere (including all padding).
    labelled = (rng.random((BATCH, SEQ)) < 0.5) & (attention_mask == 1)
    labelled[:, 1] = True  # at least one labelled token per row
    labels = np.where(labelled, rng.integers(0, vocab_size, size=(BATCH, SEQ)), -100).astype(np.int64)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
        "labels": labels,
        "sentence_order_label": np.array(SENTENCE_ORDER_LABEL, dtype=np.int64),
    }


def randomize_weights(model: AlbertForPreTraining, rng: np.random.Generator, init_std: float, pad_id: int) -> None:
    """Overwrite every parameter from a numpy generator, so weights do not depend on torch's RNG.

    Biases and LayerNorm parameters are made non-trivial (HF initialises them to 0 and 1), so a fixture also catches
    a bias or LayerNorm applied in the wrong place. named_parameters() yields tied tensors once (decoder <- embeddings).
    """
    with torch.no_grad():
        for name, param in model.named_parameters():
            shape = tuple(param.shape)
            if "LayerNorm.weight" in name:
                values = 1.0 + rng.normal(0.0, 0.1, size=shape)
            elif name.endswith("bias"):
                values = rng.normal(0.0, 0.1, size=shape)
            else:
                values = rng.normal(0.0, init_std, size=shape)
            param.copy_(torch.from_numpy(values.astype(np.float32)))
        # Keep HF's convention of a zero embedding row for the padding id.
        model.albert.embeddings.word_embeddings.weight[pad_id].zero_()


def run_model(model: AlbertForPreTraining, inputs: dict[str, np.ndarray], head_mask: np.ndarray | None) -> dict:
    """Run one eager forward pass and collect every output as float32 numpy arrays."""
    captured: dict[str, Any] = {}

    # AlbertForPreTrainingOutput has no last_hidden_state / pooler_output: read them from the base model's output.
    def keep_base_output(_module: torch.nn.Module, _args: Any, output: Any) -> None:
        captured["base"] = output

    handle = model.albert.register_forward_hook(keep_base_output)
    try:
        with torch.no_grad():
            out = model(
                input_ids=torch.from_numpy(inputs["input_ids"]),
                attention_mask=torch.from_numpy(inputs["attention_mask"]),
                token_type_ids=torch.from_numpy(inputs["token_type_ids"]),
                head_mask=None if head_mask is None else torch.from_numpy(head_mask),
                labels=torch.from_numpy(inputs["labels"]),
                sentence_order_label=torch.from_numpy(inputs["sentence_order_label"]),
                output_hidden_states=True,
                output_attentions=True,
                return_dict=True,
            )
    finally:
        handle.remove()
    base = captured["base"]
    return {
        "last_hidden_state": base.last_hidden_state.numpy(),
        "pooler_output": base.pooler_output.numpy(),
        "prediction_logits": out.prediction_logits.numpy(),
        "sop_logits": out.sop_logits.numpy(),
        "hidden_states": torch.stack(out.hidden_states).numpy(),  # (n, B, S, H)
        "attentions": torch.stack(out.attentions).numpy(),  # (n, B, heads, S, S)
        "loss": out.loss.numpy().astype(np.float32),  # () scalar
    }


def build_model(case: Case) -> tuple[AlbertForPreTraining, dict[str, np.ndarray]]:
    """Create the case's model with seeded weights, plus its seeded inputs."""
    config = AlbertConfig(**BASE_CONFIG, **case.config, attn_implementation="eager")
    model = AlbertForPreTraining(config).eval()
    rng = np.random.default_rng(case.seed)
    randomize_weights(model, rng, BASE_CONFIG["initializer_range"], config.pad_token_id)
    inputs = make_inputs(rng, config.vocab_size)
    return model, inputs


def meta_for(case: Case, outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Describe the case and say which stored outputs a per-applied-layer implementation can compare."""
    cfg = case.config
    inner = cfg["inner_group_num"]
    n_hidden = outputs["hidden_states"].shape[0]
    return {
        "case": case.name,
        "description": case.description,
        "generator": {
            "script": "scripts/make_hf457_fixtures.py",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "seed": case.seed,
            "attn_implementation": "eager",
            "mode": "eval",
        },
        "position_embedding_type": cfg["position_embedding_type"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_hidden_groups": cfg["num_hidden_groups"],
        "inner_group_num": inner,
        "applied_layers": cfg["num_hidden_layers"] * inner,
        "head_mask": None if case.head_mask is None else f"{case.head_mask.ndim}-D {list(case.head_mask.shape)}",
        "comparable": {
            "outputs": ["last_hidden_state", "pooler_output", "prediction_logits", "sop_logits", "attentions", "loss"],
            # albertlite keeps one hidden state per applied layer; 4.57 one per group call (see README).
            "hidden_states": {
                "count": n_hidden,
                "albertlite_indices": [k * inner for k in range(n_hidden)],
            },
            "attentions_albertlite_indices": list(range(cfg["num_hidden_layers"] * inner)),
        },
        "real_positions_only": "padded positions (attention_mask == 0) hold values too; compare hidden states and "
        "logits at attention_mask == 1 (attentions, pooler, sop_logits and loss are compared whole)",
        "notes": case.notes,
    }


def write_case(case: Case, out_root: Path) -> dict[str, np.ndarray]:
    """Write one case directory, reload it and check the reload reproduces the stored outputs bit for bit."""
    model, inputs = build_model(case)
    outputs = run_model(model, inputs, case.head_mask)
    case_dir = out_root / case.name
    if case_dir.exists():
        shutil.rmtree(case_dir)
    model.save_pretrained(case_dir, safe_serialization=True)

    arrays = {k: inputs[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    if case.head_mask is not None:
        arrays["head_mask"] = case.head_mask
    arrays |= {"labels": inputs["labels"], "sentence_order_label": inputs["sentence_order_label"]}
    arrays |= outputs
    np.savez_compressed(case_dir / "io.npz", **arrays)
    (case_dir / "meta.json").write_text(json.dumps(meta_for(case, outputs), indent=2) + "\n")

    verify_reload(case, case_dir)
    return arrays


def verify_reload(case: Case, case_dir: Path) -> None:
    """Reload the saved directory with 4.57 and require identical outputs; print max abs values."""
    reloaded = AlbertForPreTraining.from_pretrained(case_dir, attn_implementation="eager").eval()
    with np.load(case_dir / "io.npz") as npz:
        stored = {k: npz[k] for k in npz.files}
    inputs = {k: stored[k] for k in ("input_ids", "attention_mask", "token_type_ids", "labels", "sentence_order_label")}
    again = run_model(reloaded, inputs, stored.get("head_mask"))
    report = []
    for key, value in again.items():
        diff = float(np.max(np.abs(value - stored[key])))
        if diff != 0.0:
            raise SystemExit(f"{case.name}: reloaded {key} differs from the stored one by {diff}")
        report.append(f"{key}={float(np.max(np.abs(value))):.4g}")
    print(f"{case.name}: reload identical (max diff 0); max abs " + ", ".join(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output root (default {DEFAULT_OUT})")
    args = parser.parse_args()
    # One thread: reductions then run in a fixed order, so reruns write identical bytes.
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        arrays = write_case(case, args.out)
        for key, value in arrays.items():
            print(f"  {key:22s} {value.dtype!s:8s} {list(value.shape)}")
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"total size of {args.out}: {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
