"""``make demo``: build a small ALBERT, save it, load it back (here and in every installed framework), run it.

The full main job (corpus, vocabulary, pretraining, fine-tuning) replaces this once fine-tuning lands;
until then this shows the checkpoint format working end to end.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from pathlib import Path

import numpy as np

from albertlite import AlbertConfig


def run(output_dir: Path) -> dict[str, float]:
    import torch

    from albertlite import AlbertForSequenceClassification

    config = AlbertConfig(
        vocab_size=1000, embedding_size=32, hidden_size=128, num_hidden_layers=4, num_hidden_groups=1,
        num_attention_heads=4, intermediate_size=256, id2label={0: "negative", 1: "positive"},
    )  # fmt: skip
    torch.manual_seed(0)
    model = AlbertForSequenceClassification(config).eval()
    print(f"built   AlbertForSequenceClassification: {model.num_parameters():,} parameters "
          f"({config.num_hidden_layers} layers sharing one set of weights)")  # fmt: skip
    model.save_pretrained(output_dir)
    files = ", ".join(sorted(p.name for p in output_dir.iterdir()))
    print(f"saved   {output_dir} ({files})")

    input_ids = torch.tensor([[2, 17, 254, 91, 3, 0, 0], [2, 40, 41, 42, 43, 44, 3]])
    attention_mask = (input_ids != 0).long()
    loaded = AlbertForSequenceClassification.from_pretrained(output_dir)
    with torch.no_grad():
        before = model(input_ids, attention_mask=attention_mask).logits
        after = loaded(input_ids, attention_mask=attention_mask).logits
    difference = float((before - after).abs().max())
    print(f"loaded  back in PyTorch: max |logit difference| = {difference:.2e}")
    for row, logits in enumerate(after.softmax(-1)):
        label = config.id2label[int(logits.argmax())]
        print(f"        sequence {row}: {label} (p={float(logits.max()):.3f})")
    figures = {"pytorch": difference}
    figures.update(_other_frameworks(output_dir, input_ids.numpy(), attention_mask.numpy(), after.numpy()))
    return figures


def _other_frameworks(directory: Path, input_ids: np.ndarray, mask: np.ndarray, reference: np.ndarray) -> dict:
    figures = {}
    if importlib.util.find_spec("tensorflow") and importlib.util.find_spec("albertlite.modeling_tf"):
        from albertlite import TFAlbertForSequenceClassification

        tf_model = TFAlbertForSequenceClassification.from_pretrained(directory)
        logits = np.asarray(tf_model(input_ids, attention_mask=mask).logits)
        figures["tensorflow"] = float(np.abs(logits - reference).max())
        print(f"loaded  in TensorFlow: max |logit difference| vs PyTorch = {figures['tensorflow']:.2e}")
    if importlib.util.find_spec("flax") and importlib.util.find_spec("albertlite.modeling_flax"):
        from albertlite import FlaxAlbertForSequenceClassification

        flax_model = FlaxAlbertForSequenceClassification.from_pretrained(directory)
        logits = np.asarray(flax_model(input_ids, attention_mask=mask).logits)
        figures["flax"] = float(np.abs(logits - reference).max())
        print(f"loaded  in Flax: max |logit difference| vs PyTorch = {figures['flax']:.2e}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=None, help="Where to leave the model (default: a temp dir).")
    args = parser.parse_args(argv)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        run(args.output)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp) / "albert-demo")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
