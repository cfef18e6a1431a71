"""Does pretraining carry beyond its training text? Pretrain on docstrings, score on text of other kinds.

Pretrains the 4-layer, hidden-128 model of ``pretrain_quality.py`` on the standard library's docstrings (its
corpus, tokenizer and shards), then scores, with ``albertlite evaluate``'s fixed seeded masks, the pretrained
model and the same architecture untrained (the same tokenizer and unigram counts, fresh weights) on:

- held-out docstrings (the same kind of text, files the run never saw);
- the Python Language Reference prose that ships with every CPython install (``pydoc_data/topics.py``: the
  reference manual's sections, as ``help()`` shows them), a different kind of text: a manual written as a book;
- CPython's ``LICENSE.txt`` (legal English, the furthest from docstrings).

Per text: masked-LM loss and accuracy, sentence-order accuracy, and the unigram baseline of the training text on
the same masked positions. Writes benchmarks/results/pretrain_transfer/<cpu kind>.{json,md} (``--output`` elsewhere)
and the index benchmarks/results/pretrain_transfer.md.

Run: ``.venv/bin/python benchmarks/pretrain_transfer.py [--steps 1250] [--work DIR]``; about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import torch

from albertlite import AlbertConfig, AlbertForPreTraining
from albertlite.data.sentences import split_sentences
from albertlite.train.evaluation import evaluate_model

sys.path.insert(0, str(Path(__file__).parent))
import machine_info
import pretrain_quality

RESULTS = Path(__file__).parent / "results"
MAX_SEQ_LENGTH = 64  # pretrain_quality.py's instances (its acceptance run learns sentence order at this length)


def write_reference(path: Path) -> int:
    """The Language Reference's sections, one document each, prose paragraphs only (code is indented there)."""
    from pydoc_data.topics import topics

    documents = []
    for text in topics.values():
        paragraphs = [p.splitlines() for p in text.split("\n\n")]
        documents.append([s for lines in paragraphs if lines and not _code_or_underlined(lines) for s in _prose(lines)])
    return _write_documents(path, documents)


def write_license(path: Path) -> int:
    """CPython's licence text: a document per section (the text under each underlined heading), prose only."""
    text = (Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt").read_text(encoding="utf-8")
    documents: list[list[str]] = [[]]
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.strip().splitlines()]
        if len(lines) >= 2 and set(lines[-1]) <= set("=-"):
            documents.append([])  # a heading starts the next section
        else:
            documents[-1] += _prose(lines)
    return _write_documents(path, documents)


def _code_or_underlined(lines: list[str]) -> bool:
    return lines[0].startswith(" ") or set(lines[-1].strip()) <= set("*=-~^")


def _prose(lines: list[str]) -> list[str]:
    """A paragraph's sentences of at least three words."""
    return [s for s in split_sentences(" ".join(line.strip() for line in lines)) if len(s.split()) >= 3]


def _write_documents(path: Path, documents: list[list[str]]) -> int:
    """Write the documents of at least two sentences (a sentence per line, blank lines between); how many."""
    kept = [doc for doc in documents if len(doc) >= 2]
    path.write_text("".join("\n".join(doc) + "\n\n" for doc in kept), encoding="utf-8")
    return len(kept)


def untrained_copy(run: Path, out: Path, seed: int) -> Path:
    """The run's directory (tokenizer, unigram counts) with the architecture's freshly initialised weights."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(run, out, ignore=shutil.ignore_patterns("model.safetensors", "checkpoint*", "*.pt"))
    torch.manual_seed(seed)
    AlbertForPreTraining(AlbertConfig.from_pretrained(run)).save_pretrained(out)
    return out


def markdown(results: dict) -> str:
    r = results["run"]
    lines = [*machine_info.heading(results), "",
             f"Pretrained with `albertlite pretrain`: {r['steps']} steps of {r['batch_size']} x {r['max_seq_length']} "
             f"tokens, learning rate {r['lr']}, on {r['train_documents']} docstrings ({r['train_s']:.0f} s); scored "
             f"by `albertlite evaluate` (seed 12345, 15% masked).", "",
             "| text | documents | instances | model | MLM loss | unigram baseline | MLM accuracy | SOP accuracy |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    for name, t in results["texts"].items():
        for model in ("untrained", "pretrained"):
            s = t[model]
            lines.append(f"| {name} | {t['documents']} | {s['instances']} | {model} | {s['mlm_loss']:.3f} | "
                         f"{s['unigram_mlm_loss']:.3f} | {s['mlm_acc']:.3f} | {s['sop_acc']:.3f} |")  # fmt: skip
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1250)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, help="Working directory (default: a temporary one).")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        quality = pretrain_quality.run(pretrain_quality.parse_args([
            "--work", str(work), "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--lr",
            str(args.lr), "--max-seq-length", str(MAX_SEQ_LENGTH), "--threads", str(args.threads), "--quiet",
        ]))  # fmt: skip
        run = work / "run"
        results["run"] = {"steps": args.steps, "batch_size": args.batch_size, "max_seq_length": MAX_SEQ_LENGTH,
                          "lr": args.lr, "train_documents": quality["corpus"]["train_documents"],
                          "train_s": quality["train_s"]}  # fmt: skip
        texts = {
            "held-out docstrings": (work / "held_out.txt", quality["corpus"]["held_out_documents"]),
            "Language Reference (pydoc_data)": (work / "reference.txt", write_reference(work / "reference.txt")),
            "CPython LICENSE.txt": (work / "license.txt", write_license(work / "license.txt")),
        }
        models = {"untrained": untrained_copy(run, work / "untrained", seed=0), "pretrained": run}
        results["texts"] = {
            name: {"documents": documents,
                   **{m: evaluate_model(d, [path], max_seq_length=MAX_SEQ_LENGTH) for m, d in models.items()}}
            for name, (path, documents) in texts.items()
        }  # fmt: skip
    results["machine"]["load_average_end"] = os.getloadavg()
    title = "Pretraining beyond its training text: docstrings in, other kinds of text scored, one section per CPU kind"
    written = machine_info.write_results(args.output, "pretrain_transfer", results, markdown(results), title)
    print(written.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
