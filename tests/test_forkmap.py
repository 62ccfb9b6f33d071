"""The forked map of the engine (`fastapi_lint.forkmap`): results in task order whoever
computes them, children that die or raise, results bigger than a pipe, no child left behind."""

import os
import signal
import time

import pytest

from fastapi_lint import forkmap

pytestmark = pytest.mark.skipif(not forkmap.available(), reason="forks on Linux only")

PARENT = os.getpid()


def _square(task):
    return task * task, os.getpid()


def _mark(directory):
    """A task function that leaves the pid of the process that ran it in `directory`."""
    def run(task):
        open(os.path.join(directory, str(os.getpid())), "w").close()
        return task
    return run


def _until_children_worked(directory, children):
    """`meanwhile` that waits (10 s at most) until `children` children have run a task."""
    def wait():
        deadline = time.monotonic() + 10
        while len(set(os.listdir(directory)) - {str(PARENT)}) < children and time.monotonic() < deadline:
            time.sleep(0.005)
    return wait


def _lost(task, dead):
    return ("lost", task, tuple(dead))


def _no_children_left():
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("jobs", [2, 3])
def test_results_in_task_order_and_every_process_works(jobs, tmp_path):
    tasks = list(range(400))
    order = sorted(tasks, key=lambda t: -t)  # the biggest first, as the engine orders them
    mark = _mark(str(tmp_path))
    def slow_square(t):
        time.sleep(0.001)  # slow enough that the parent, once `meanwhile` returns, gets chunks too
        return mark(t) * t, os.getpid()

    out = forkmap.fork_map(slow_square, tasks, jobs, order, _lost,
                           meanwhile=_until_children_worked(str(tmp_path), jobs - 1))
    assert [r for r, _ in out] == [t * t for t in tasks]
    workers = {pid for _, pid in out}
    assert PARENT in workers and len(workers) == jobs
    _no_children_left()


def test_the_parent_runs_meanwhile_while_children_work():
    seen = []
    out = forkmap.fork_map(_square, list(range(100)), 2, list(range(100)), _lost,
                           meanwhile=lambda: seen.append(os.getpid()))
    assert seen == [PARENT] and [r for r, _ in out] == [t * t for t in range(100)]


def test_a_child_that_dies_loses_its_chunk_only(tmp_path):
    """Killed in the middle of a chunk (its third task): the chunk's tasks get `on_lost`,
    told how the child ended; every other task has its result."""
    mark = _mark(str(tmp_path))
    done = []

    def die_on_third(task):
        if os.getpid() != PARENT:
            done.append(task)
            if len(done) == 3:
                mark(task)
                os.kill(os.getpid(), signal.SIGKILL)
        return task

    tasks = list(range(200))
    out = forkmap.fork_map(die_on_third, tasks, 2, tasks, _lost, meanwhile=_until_children_worked(str(tmp_path), 1))
    lost = [r for r in out if isinstance(r, tuple)]
    assert len(lost) == len(forkmap.chunked(tasks, 2)[0]) == 6
    assert all(r[2] == (f"killed by signal {signal.SIGKILL}",) for r in lost)
    assert [r for r in out if not isinstance(r, tuple)] == [t for t in tasks if t not in {r[1] for r in lost}]
    _no_children_left()


def _raise_in_child(task):
    if os.getpid() != PARENT:
        raise ValueError("only in a child")
    return task + 1


def test_a_task_that_raises_in_a_child_runs_again_in_the_parent():
    out = forkmap.fork_map(_raise_in_child, list(range(50)), 2, list(range(50)), _lost)
    assert out == [t + 1 for t in range(50)]


def _raise_on_7(task):
    if task == 7:
        raise KeyError(task)
    return task


def test_an_exception_surfaces_in_the_parent_and_no_child_outlives_it():
    with pytest.raises(KeyError):
        forkmap.fork_map(_raise_on_7, list(range(300)), 3, list(range(300)), _lost)
    _no_children_left()


def _big(task):
    return str(task) * 200_000  # 0.2-0.6 MB each: the children's pipes fill


def test_results_bigger_than_the_pipes():
    tasks = list(range(40))
    out = forkmap.fork_map(_big, tasks, 2, tasks, _lost, meanwhile=lambda: None)
    assert out == [str(t) * 200_000 for t in tasks]


def test_chunks_never_overflow_the_token_pipe():
    order = list(range(100_000))
    chunks = forkmap.chunked(order, 2)
    assert len(chunks) <= forkmap._MAX_CHUNKS
    assert [i for c in chunks for i in c] == order
    assert max(len(c) for c in forkmap.chunked(list(range(100)), 2)) == 3  # about 16 per process
    out = forkmap.fork_map(int, [str(i) for i in order], 2, order, _lost)
    assert out == order


def test_no_fork_left_the_parent_does_everything(monkeypatch):
    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    out = forkmap.fork_map(_square, list(range(60)), 3, list(range(60)), _lost)
    assert out == [(t * t, PARENT) for t in range(60)]


def test_a_token_pipe_smaller_than_the_chunks_is_no_hang(monkeypatch):
    """Where a pipe holds one page (the user's pipe memory used up), the chunks are sized to
    fit it; a pipe that holds less than it says runs the tasks in the parent."""
    assert len(forkmap.chunked(list(range(100_000)), 2, 4096 // 4)) <= 1024
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:8]))
    out = forkmap.fork_map(_square, list(range(500)), 2, list(range(500)), _lost)
    assert out == [(t * t, PARENT) for t in range(500)]
