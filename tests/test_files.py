"""Whole-or-nothing writes: atomic files, staged directories, file modes."""

import os
import stat

import pytest

from albertlite.checkpoints import files
from albertlite.checkpoints.files import atomic_write, atomic_write_text, staged_directory, staging_leftovers


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_and_uses_normal_permissions(tmp_path):
    target = tmp_path / "config.json"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert _mode(target) == 0o666 & ~files.umask()
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_a_writer_that_replaces_its_file_still_gets_normal_permissions(tmp_path):
    def replace_privately(tmp):  # what safetensors 0.8 does: a new private file renamed over the temporary one
        other = tmp.with_suffix(".other")
        other.write_text("data")
        os.chmod(other, 0o600)
        os.replace(other, tmp)

    atomic_write(tmp_path / "model.safetensors", replace_privately)
    assert _mode(tmp_path / "model.safetensors") == 0o666 & ~files.umask()


def test_saved_model_files_all_have_the_same_mode(tmp_path):
    from albertlite import AlbertConfig, AlbertModel

    config = AlbertConfig(vocab_size=30, embedding_size=8, hidden_size=16, num_attention_heads=2,
                          intermediate_size=20, num_hidden_layers=1, max_position_embeddings=16)  # fmt: skip
    AlbertModel(config).save_pretrained(tmp_path / "model")
    modes = {p.name: _mode(p) for p in (tmp_path / "model").iterdir()}
    assert modes == dict.fromkeys(["config.json", "model.safetensors"], 0o666 & ~files.umask())
    assert _mode(tmp_path / "model") == 0o777 & ~files.umask()


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.safetensors"
    atomic_write_text(target, "good")

    def crash(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def _tree(root) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _old_model_dir(tmp_path):
    target = tmp_path / "model"
    (target / "checkpoints" / "step-1").mkdir(parents=True)
    for name, text in {"config.json": "old config", "model-00001-of-00002.safetensors": "old shard 1",
                       "model-00002-of-00002.safetensors": "old shard 2", "model.safetensors.index.json": "index",
                       "spiece.model": "tokenizer", "checkpoints/step-1/state": "resume"}.items():  # fmt: skip
        (target / name).write_text(text)
    return target


def test_staged_directory_replaces_its_files_and_keeps_the_others(tmp_path):
    target = _old_model_dir(tmp_path)
    with staged_directory(target, replaces=files.MODEL_FILES) as staging:
        assert staging != target and staging.parent == target.parent and not any(staging.iterdir())
        (staging / "config.json").write_text("new config")
        (staging / "model.safetensors").write_text("new weights")
        assert (target / "config.json").read_text() == "old config"  # nothing visible until the end
    assert _tree(target) == {"checkpoints/step-1/state": "resume", "config.json": "new config",
                             "model.safetensors": "new weights", "spiece.model": "tokenizer"}  # fmt: skip
    assert not staging_leftovers(target)
    assert (target / "spiece.model").stat().st_nlink == 1  # the old copy is gone, the link is the file


def test_a_failure_while_staging_leaves_the_previous_directory(tmp_path):
    target = _old_model_dir(tmp_path)
    before = _tree(target)
    with pytest.raises(OSError, match="No space"), staged_directory(target, replaces=files.MODEL_FILES) as staging:
        (staging / "config.json").write_text("new config")
        raise OSError(28, "No space left on device")
    assert _tree(target) == before
    assert not staging_leftovers(target)


def test_nested_staging_publishes_once_at_the_outer_level(tmp_path):
    target = tmp_path / "out"
    with staged_directory(target) as outer:
        with staged_directory(outer) as inner:
            assert inner == outer
            (inner / "a").write_text("1")
        assert not target.exists()
        (outer / "b").write_text("2")
    assert _tree(target) == {"a": "1", "b": "2"}


def test_staged_directory_follows_a_symlink_and_makes_a_missing_directory(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "keep").write_text("k")
    (tmp_path / "link").symlink_to(real)
    with staged_directory(tmp_path / "link") as staging:
        (staging / "new").write_text("n")
    assert (tmp_path / "link").is_symlink() and _tree(real) == {"keep": "k", "new": "n"}
    with staged_directory(tmp_path / "a" / "b") as staging:
        (staging / "x").write_text("x")
    assert _tree(tmp_path / "a" / "b") == {"x": "x"}
    with pytest.raises(NotADirectoryError), staged_directory(tmp_path / "a" / "b" / "x"):
        pass


def test_without_an_atomic_exchange_an_interrupted_swap_is_undone(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    target = _old_model_dir(tmp_path)
    with staged_directory(target, replaces=files.MODEL_FILES) as staging:
        (staging / "config.json").write_text("new")
    assert (target / "config.json").read_text() == "new" and not staging_leftovers(target)
    # a process killed between the two renames left the old directory aside and none in place
    aside = tmp_path / f".model{files._STAGING_MARK}123-replaced"
    os.replace(target, aside)
    with staged_directory(target, replaces=("notes",)) as staging:
        (staging / "notes").write_text("n")
    assert (target / "config.json").read_text() == "new" and (target / "notes").read_text() == "n"


def test_staging_left_by_a_dead_process_is_removed_but_a_live_ones_is_not(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    dead = tmp_path / f".out{files._STAGING_MARK}999999999-abc"
    live = tmp_path / f".out{files._STAGING_MARK}{os.getppid()}-abc"
    dead.mkdir()
    live.mkdir()
    with staged_directory(target):
        pass
    assert not dead.exists() and live.exists()
