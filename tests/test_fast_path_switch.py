"""The fast-path switch is local to a thread (and context): a ``with fast_path(...)`` block in one thread changes
nothing in another, overlapping blocks restore their own thread's setting, and ``set_fast_path`` sets the default."""

from __future__ import annotations

import threading

import pytest

from albertlite.fast import fast_path, fast_path_enabled, set_fast_path


@pytest.fixture
def default_on():
    """The process default on for the test (conftest turns it off for the parity tests), restored after."""
    previous = fast_path_enabled()
    set_fast_path(True)
    yield
    set_fast_path(previous)


def _in_thread(function):
    """Run ``function`` in a new thread; return what it returned (re-raising what it raised)."""
    result: dict = {}

    def target():
        try:
            result["value"] = function()
        except Exception as error:  # noqa: BLE001 (handed to the test's thread)
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_block_in_one_thread_leaves_other_threads_alone(default_on):
    inside, seen_elsewhere = threading.Event(), []
    release = threading.Event()

    def switch_off():
        with fast_path(False):
            inside.set()
            release.wait(timeout=30)
            return fast_path_enabled()

    worker = threading.Thread(target=lambda: seen_elsewhere.append(switch_off()))
    worker.start()
    assert inside.wait(timeout=30)
    try:
        assert fast_path_enabled()  # the main thread, while the other thread's block is open
        assert _in_thread(fast_path_enabled)  # a third thread too
    finally:
        release.set()
        worker.join(timeout=30)
    assert seen_elsewhere == [False]
    assert fast_path_enabled()


def test_overlapping_blocks_in_two_threads_restore_their_own_setting(default_on):
    # thread A enters False, thread B enters False, A leaves, B leaves: with one global and "restore the previous
    # value", B restored the False that A had set and the fast path stayed off for good
    barrier = threading.Barrier(2, timeout=30)
    a_left = threading.Event()
    seen: dict[str, list[bool]] = {"a": [], "b": []}

    def thread_a():
        with fast_path(False):
            barrier.wait()  # both blocks are open
            seen["a"].append(fast_path_enabled())
        a_left.set()
        seen["a"].append(fast_path_enabled())

    def thread_b():
        with fast_path(False):
            barrier.wait()
            assert a_left.wait(timeout=30)  # A's block has ended, B's is still open
            seen["b"].append(fast_path_enabled())
        seen["b"].append(fast_path_enabled())

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == {"a": [False, True], "b": [False, True]}
    assert fast_path_enabled()
    assert _in_thread(fast_path_enabled)


def test_blocks_nest_and_restore(default_on):
    with fast_path(False):
        with fast_path(True):
            assert fast_path_enabled()
            with fast_path(False):
                assert not fast_path_enabled()
            assert fast_path_enabled()
        assert not fast_path_enabled()
    assert fast_path_enabled()


def test_a_block_is_restored_when_its_body_raises(default_on):
    with pytest.raises(RuntimeError, match="boom"), fast_path(False):
        raise RuntimeError("boom")
    assert fast_path_enabled()


def test_set_fast_path_sets_the_default_of_every_thread(default_on):
    set_fast_path(False)
    assert not _in_thread(fast_path_enabled)
    assert _in_thread(lambda: _with_block(True))  # a block still overrides it in its thread
    set_fast_path(True)
    assert _in_thread(fast_path_enabled)


def test_set_fast_path_inside_a_block_wins_until_the_block_ends(default_on):
    with fast_path(True):
        set_fast_path(False)
        assert not fast_path_enabled()
    assert not fast_path_enabled()  # the new default
    assert not _in_thread(fast_path_enabled)


def _with_block(enabled: bool) -> bool:
    with fast_path(enabled):
        return fast_path_enabled()
