"""Write tests/fixtures/tokenizer/: a vocabulary trained the ALBERT way and transformers 4.57's outputs on it.

Run with the transformers 4.57 venv (it cannot share a venv with transformers 5):

    .venv-hf457/bin/python scripts/make_tokenizer_fixtures.py   (or: make fixtures, which makes that venv)

It writes
- corpus.txt.gz: the training text, docstrings of Python's standard library (real prose nobody here wrote);
- spiece.model: a 1000-piece unigram model trained on it by ``albertlite.train_tokenizer`` (the authors' recipe);
- stress.json: the stress corpus and the call modes the tests replay;
- hf457_outputs.json.gz: 4.57's AlbertTokenizer and AlbertTokenizerFast outputs (tokens, ids, offsets, decode,
  every truncation/padding/overflow mode), 4.57's slow tokenizer loaded from its fast tokenizer's directory
  (where the two disagree), and 4.57's ids on a directory albertlite wrote;
- hf457_slow/, hf457_fast/: the small files of directories saved by 4.57. spiece.model is byte-identical to ours and
  left out, tokenizer.json is gzipped with its precompiled_charsmap (spiece.model's) blanked: the tests put both back.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import inspect
import io
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import transformers  # noqa: E402

from albertlite.tokenizer_training import train_tokenizer  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "tokenizer"
VOCAB_SIZE = 1000
CORPUS_CHARS = 250_000
SKIP_MODULES = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "pydoc_data"}

LONG = " ".join(["The quick brown fox, 1,234 times, jumps over the lazy dog (again) – for £5 or €6."] * 12)
STRESS_TEXTS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café naïve résumé Ångström façade coöperate",
    "ÉCOLE Über ÑANDÚ",
    "東京は日本の首都です。",
    "你好，世界",
    "안녕하세요 세계",
    "مرحبا بالعالم",
    "שלום עולם",
    "I ❤️ tokenizers 🤗🚀 👍🏽",
    "1,000,000 people; 3,14 and 9,9 and 12, and 2019,",
    "a,1, 22,b ,3,",
    "``quoted'' and 'single' and \"double\" quotes",
    "many     spaces   between\twords",
    "tabs\tand\nnew\r\nlines\n\nhere",
    "  leading and trailing spaces  ",
    "",
    " ",
    "\t\n",
    LONG,
    "hello [MASK] world",
    "hello[MASK]world and [MASK]",
    "[CLS] begins and [SEP] ends <unk> <pad>",
    "lower [mask] and [Mask] are not special",
    "ΟΔΟΣ ΣΟΦΙΑΣ",
    "İstanbul straße ǅ",
    "ＡＢＣ　１２３ ﬁnance x² ½",
    "zero\u200bwidth and soft\u00adhyphen",
    "f(x) = (a - b) - c.d – £5 – €3.5",
    "def f(x): return x ** 2  # comment",
    "Mixed CASE Words With Numbers 123 and 4,5",
    "e\u0301 combining vs é precomposed",
]
PAIR_TEXTS = [
    ("Short question?", "A much longer context paragraph about the lazy dog, 1,234 foxes and the (quick) brown fox."),
    ("A rather long first sequence with several words in it, more than the second.", "tiny"),
    ("Equal length one", "equal length two"),
    ("Café façade", "東京 and 🤗"),
]
WORD_LISTS = [
    ["Hello", "world", "!"],
    ["Café", "1,000", "[MASK]", "东京"],
    ["multi word", "", "x"],
]
MODES = [
    {},
    {"return_special_tokens_mask": True},
    {"padding": True},
    {"padding": "max_length", "max_length": 24},
    {"padding": True, "pad_to_multiple_of": 8},
    {"padding": True, "padding_side": "left", "return_special_tokens_mask": True},
    {"truncation": True, "max_length": 10},
    {"max_length": 9},
    {"truncation": "longest_first", "max_length": 12, "padding": "max_length"},
    {"truncation": "only_first", "max_length": 12},
    {"truncation": "only_second", "max_length": 12},
    {"truncation": True, "max_length": 8, "stride": 2, "return_overflowing_tokens": True},
    {"truncation": "only_first", "max_length": 14, "stride": 3, "return_overflowing_tokens": True},
    {"truncation": "only_second", "max_length": 14, "stride": 3, "return_overflowing_tokens": True, "padding": True},
    {"add_special_tokens": False},
    {"padding": True, "return_length": True},
    {"truncation": True, "max_length": 16, "padding": True, "pad_to_multiple_of": 8},
]
FAST_ONLY_MODE_KEYS = {"return_offsets_mapping": True}
CHARSMAP_PLACEHOLDER = "<precompiled_charsmap of spiece.model>"
USER_SYMBOL_TEXTS = ["f(x) - y.", "a (b) c", "£5.99 – €3", 'say "hi"-there.']


def collect_corpus() -> list[str]:
    """Paragraphs of the docstrings of the standard library's public modules, functions and classes."""
    seen: set[str] = set()
    paragraphs: list[str] = []
    total = 0
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in SKIP_MODULES:
            continue
        module = _quiet_import(name)
        if module is None:
            continue
        for doc in _docstrings(module):
            for paragraph in doc.split("\n\n"):
                line = " ".join(paragraph.split())
                if len(line) < 40 or line in seen:
                    continue
                seen.add(line)
                paragraphs.append(line)
                total += len(line) + 1
                if total >= CORPUS_CHARS:
                    return paragraphs
    return paragraphs


def _quiet_import(name: str):
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - platform modules that do not import here are skipped
        return None


def _docstrings(module) -> list[str]:
    docs = [inspect.getdoc(module) or ""]
    for attr in sorted(vars(module)):
        value = vars(module)[attr]
        if attr.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            docs.append(inspect.getdoc(value) or "")
    return [d for d in docs if d]


def plain(value):
    """JSON-able copy of a tokenizer output."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def run_mode(tokenizer, text, pair, mode: dict) -> dict:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return plain(tokenizer(text, pair, **mode))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - the reference's errors (Rust panics too) are recorded
        return {"error": type(error).__name__}


def inputs_for_modes() -> dict[str, tuple]:
    batch = [STRESS_TEXTS[1], STRESS_TEXTS[2], STRESS_TEXTS[10], STRESS_TEXTS[0]]
    return {
        "single": (STRESS_TEXTS[1], None),
        "single_long": (LONG, None),
        "batch": (batch, None),
        "pair": PAIR_TEXTS[0],
        "pair_batch": ([a for a, _ in PAIR_TEXTS], [b for _, b in PAIR_TEXTS]),
        "pair_tuples": ([list(p) for p in PAIR_TEXTS], None),
        "pair_empty_second": (STRESS_TEXTS[0], ""),
    }


def reference_outputs(slow, fast) -> dict:
    out: dict = {"texts": {}, "modes": {}, "words": {}, "tokenize_batch_fast": {}}
    for text in STRESS_TEXTS:
        ids = slow.encode(text)
        fast_enc = fast(text, return_offsets_mapping=True, return_special_tokens_mask=True)
        out["texts"][text] = {
            "slow_tokens": slow.tokenize(text),
            "slow_ids": ids,
            "slow_decode": slow.decode(ids),
            "slow_decode_skip": slow.decode(ids, skip_special_tokens=True),
            "fast_tokens": fast.tokenize(text),
            "fast_ids": fast_enc["input_ids"],
            "fast_offsets": plain(fast_enc["offset_mapping"]),
            "fast_special_tokens_mask": fast_enc["special_tokens_mask"],
            "fast_decode": fast.decode(fast_enc["input_ids"]),
            "fast_decode_skip": fast.decode(fast_enc["input_ids"], skip_special_tokens=True),
            "slow_decode_of_fast_ids": slow.decode(fast_enc["input_ids"]),
        }
    for name, (text, pair) in inputs_for_modes().items():
        for index, mode in enumerate(MODES):
            key = f"{name}/{index}"
            out["modes"][key] = {
                "slow": run_mode(slow, text, pair, mode),
                "fast": run_mode(fast, text, pair, mode | FAST_ONLY_MODE_KEYS),
            }
            fast_out = None if "error" in out["modes"][key]["fast"] else fast(text, pair, **mode)
            if fast_out is not None:
                rows = len(fast_out.encodings)
                out["modes"][key]["fast_word_ids"] = [fast_out.word_ids(i) for i in range(rows)]
                out["modes"][key]["fast_sequence_ids"] = [fast_out.sequence_ids(i) for i in range(rows)]
    for index, mode in enumerate([{}, {"padding": True}, {"truncation": True, "max_length": 5}]):
        out["words"][str(index)] = {
            "slow": run_mode(slow, WORD_LISTS, None, mode | {"is_split_into_words": True}),
            "fast": run_mode(fast, WORD_LISTS, None, mode | {"is_split_into_words": True} | FAST_ONLY_MODE_KEYS),
        }
        enc = fast(WORD_LISTS, is_split_into_words=True, **mode)
        out["words"][str(index)]["fast_word_ids"] = [enc.word_ids(i) for i in range(len(WORD_LISTS))]
    return out


def save_reference_dirs(slow, fast, model_path: Path) -> dict:
    """Directories saved by 4.57; returns 4.57's slow tokenizer loaded from the fast one's directory."""
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, tok in (("hf457_slow", slow), ("hf457_fast", fast)):
            directory = Path(tmp) / label
            tok.save_pretrained(directory)
            target = OUT / label
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for path in sorted(directory.iterdir()):
                if path.name == "spiece.model":
                    assert path.read_bytes() == model_path.read_bytes(), "4.57 rewrote spiece.model"
                elif path.name == "tokenizer.json":
                    (target / "tokenizer.json.gz").write_bytes(gzip.compress(_without_charsmap(path), mtime=0))
                else:
                    shutil.copy(path, target / path.name)
        slow_from_fast = transformers.AlbertTokenizer.from_pretrained(Path(tmp) / "hf457_fast")
        for text in USER_SYMBOL_TEXTS:
            result[text] = {
                "slow_from_spiece": slow.tokenize(text),
                "slow_from_fast_dir": slow_from_fast.tokenize(text),
                "fast": fast.tokenize(text),
                "slow_from_spiece_ids": slow.encode(text),
                "slow_from_fast_dir_ids": slow_from_fast.encode(text),
                "fast_ids": fast.encode(text),
            }
    return result


def _without_charsmap(path: Path) -> bytes:
    """tokenizer.json with its precompiled_charsmap blanked: it is spiece.model's, which the tests put back.

    The map is most of the file (and does not compress); keeping it would double the fixture size.
    """
    state = json.loads(path.read_text(encoding="utf-8"))
    for step in state["normalizer"]["normalizers"]:
        if step["type"] == "Precompiled":
            step["precompiled_charsmap"] = CHARSMAP_PLACEHOLDER
    return json.dumps(state, ensure_ascii=False, indent=2).encode("utf-8")


def ours_loaded_in_457(model_path: Path) -> dict:
    """4.57's ids on directories written by albertlite (slow-only and fast) so the tests can compare."""
    from albertlite.tokenization import AlbertTokenizer
    from albertlite.tokenization_fast import AlbertTokenizerFast

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        ours_slow = AlbertTokenizer(model_path)
        ours_slow.save_pretrained(Path(tmp) / "slow")
        AlbertTokenizerFast.from_slow(ours_slow).save_pretrained(Path(tmp) / "fast")
        for label in ("slow", "fast"):
            hf_slow = transformers.AlbertTokenizer.from_pretrained(Path(tmp) / label)
            hf_fast = transformers.AlbertTokenizerFast.from_pretrained(Path(tmp) / label)
            hf_auto = transformers.AutoTokenizer.from_pretrained(Path(tmp) / label)
            out[label] = {
                "slow_ids": [hf_slow.encode(t) for t in STRESS_TEXTS],
                "fast_ids": [hf_fast.encode(t) for t in STRESS_TEXTS],
                "auto_class": type(hf_auto).__name__,
                "auto_ids": [hf_auto.encode(t) for t in STRESS_TEXTS],
            }
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = collect_corpus()
    corpus_text = "\n".join(corpus) + "\n"
    (OUT / "corpus.txt.gz").write_bytes(gzip.compress(corpus_text.encode("utf-8"), mtime=0))
    with tempfile.TemporaryDirectory() as tmp:
        corpus_path = Path(tmp) / "corpus.txt"
        corpus_path.write_text(corpus_text, encoding="utf-8")
        trained = train_tokenizer([corpus_path], vocab_size=VOCAB_SIZE)
    model_path = OUT / "spiece.model"
    model_path.write_bytes(trained.sp_model.serialized_model_proto())
    slow = transformers.AlbertTokenizer(str(model_path))
    fast = transformers.AlbertTokenizerFast(vocab_file=str(model_path))
    stress = {
        "texts": STRESS_TEXTS,
        "pairs": PAIR_TEXTS,
        "words": WORD_LISTS,
        "modes": MODES,
        "mode_inputs": {k: list(v) for k, v in inputs_for_modes().items()},
        "user_symbol_texts": USER_SYMBOL_TEXTS,
    }
    (OUT / "stress.json").write_text(json.dumps(stress, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    outputs = reference_outputs(slow, fast)
    outputs["slow_fast_disagreement"] = save_reference_dirs(slow, fast, model_path)
    outputs["ours_loaded_in_457"] = ours_loaded_in_457(model_path)
    outputs["transformers_version"] = transformers.__version__
    payload = json.dumps(outputs, ensure_ascii=False).encode("utf-8")
    (OUT / "hf457_outputs.json.gz").write_bytes(gzip.compress(payload, mtime=0))
    sizes = {p.relative_to(OUT).as_posix(): p.stat().st_size for p in sorted(OUT.rglob("*")) if p.is_file()}
    print(json.dumps(sizes, indent=1), "total", sum(sizes.values()))


if __name__ == "__main__":
    main()
