"""`[fn(t) for t in tasks]` on several processes, by fork, where the parent works too (Linux).

Why not `ProcessPoolExecutor`: its workers get their tasks from a queue that a thread of the
parent refills, and that thread needs the GIL. While the parent loads libcst and the rules
(0.15 s, during the scan), the workers waited on it: 0.05 s each on an 84k-line tree. Each
pool also costs two worker processes, each of which grows its own heap, copies the pages of
the index it touches and warms its own caches, where the parent has all of that already.

Here every task is known before the fork, so the children inherit them; what is left is who
does which:

- The chunks of tasks (the largest files first, in chunks of a few) are numbered, and the
  numbers written to a pipe before the fork. Every process, the parent included, claims the
  next chunk by reading 4 bytes from it: Linux reads a pipe under a lock, and every read
  and every number is 4 bytes, so no chunk is claimed twice and none is skipped. An empty
  pipe whose writer is closed reads as end of file: nothing left.
- A child sends each chunk's results, pickled and length-prefixed, on its own pipe. It
  never waits for the parent: what the pipe cannot take yet stays in a buffer and goes
  with the next chunk, or at the end.
- The parent runs `meanwhile` (loading the rules), then claims chunks too, reading what
  the children sent between two of its own.

A child that dies (killed, out of memory) loses the chunks it had claimed and not sent:
`on_lost(task)` stands in for each of their results, and the run goes on. A task that
raises in a child is run again in the parent, where the exception surfaces as it would
in a single process.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
from typing import Callable, Dict, Iterator, List, Optional, Sequence

#: Chunks are numbered with 4-byte integers, all written to the pipe before the fork: no
#: more than it holds (64 KiB by default; one page when the user has used up the pipe
#: memory Linux allows, fs.pipe-user-pages-soft).
_TOKEN = struct.Struct("<I")
_MAX_CHUNKS = 65536 // _TOKEN.size
_LENGTH = struct.Struct("<Q")
#: F_SETPIPE_SZ: a child's result pipe grows to 1 MiB (the unprivileged maximum), so that
#: it rarely has to keep results while the parent is busy. F_GETPIPE_SZ: a pipe's capacity.
_F_SETPIPE_SZ = 1031
_F_GETPIPE_SZ = 1032
_PIPE_SIZE = 1 << 20

_MISSING = object()


def available() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def chunk_size(n: int, jobs: int) -> int:
    """Small chunks (at most 8 tasks, about 16 per process) so that no process is left with
    a big share at the end while the others idle (the process pool's chunks too)."""
    return max(1, min(8, n // (jobs * 16)))


def chunked(order: Sequence[int], jobs: int, limit: int = _MAX_CHUNKS) -> List[List[int]]:
    """`order` in chunks of `chunk_size`, never more than `limit` (what the token pipe holds)."""
    n = len(order)
    size = max(chunk_size(n, jobs), -(-n // limit))
    return [list(order[i:i + size]) for i in range(0, n, size)]


def _claims(token_r: int) -> Iterator[int]:
    """The chunk numbers this process claims, one 4-byte read each, until the pipe is empty."""
    while True:
        token = os.read(token_r, _TOKEN.size)
        if len(token) < _TOKEN.size:
            return
        yield _TOKEN.unpack(token)[0]


def fork_map(fn: Callable, tasks: Sequence, jobs: int, order: Sequence[int],
             on_lost: Callable, meanwhile: Optional[Callable[[], None]] = None) -> list:
    """`[fn(t) for t in tasks]` on the parent and `jobs - 1` forked children, claiming chunks
    of `order` (task indices, the biggest first)."""
    import fcntl

    results: list = [_MISSING] * len(tasks)
    token_r, token_w = os.pipe()
    try:
        try:
            capacity = fcntl.fcntl(token_w, _F_GETPIPE_SZ)
        except OSError:
            capacity = 4096  # the least a pipe holds
        chunks = chunked(order, jobs, min(_MAX_CHUNKS, capacity // _TOKEN.size))
        os.set_blocking(token_w, False)  # a pipe that holds less than it said never hangs the run
        tokens = b"".join(_TOKEN.pack(k) for k in range(len(chunks)))
        complete = os.write(token_w, tokens) == len(tokens)
    except BlockingIOError:
        complete = False
    finally:
        os.close(token_w)
    if not complete:
        os.close(token_r)
        return [fn(t) for t in tasks]
    children: Dict[int, int] = {}  # read end of its result pipe -> pid
    try:
        for _ in range(jobs - 1):
            r, w = os.pipe()
            try:
                fcntl.fcntl(w, _F_SETPIPE_SZ, _PIPE_SIZE)
            except OSError:
                pass
            try:
                pid = os.fork()
            except OSError:  # no more processes (ulimit -u, memory): fewer workers
                os.close(r)
                os.close(w)
                break
            if pid == 0:  # pragma: no cover (runs in the child, which never returns)
                os.close(r)
                for fd in children:
                    os.close(fd)
                _child(fn, tasks, chunks, token_r, w)
            os.close(w)
            children[r] = pid
        if meanwhile is not None:
            meanwhile()
        buffers = {fd: bytearray() for fd in children}
        failed: List[int] = []
        for k in _claims(token_r):
            for i in chunks[k]:
                results[i] = fn(tasks[i])
            _receive(buffers, chunks, results, failed, wait=False)
        while buffers:
            _receive(buffers, chunks, results, failed, wait=True)
        dead = _reap(children)
        children.clear()
        for k in failed:  # raised in a child: again here, where the exception surfaces
            for i in chunks[k]:
                results[i] = fn(tasks[i])
        for i, res in enumerate(results):
            if res is _MISSING:
                results[i] = on_lost(tasks[i], dead)
        return results
    finally:
        os.close(token_r)
        for fd, pid in children.items():  # interrupted: no child outlives the run
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            os.close(fd)


def _child(fn: Callable, tasks: Sequence, chunks: List[List[int]], token_r: int,
           out: int) -> None:  # pragma: no cover (runs in the child)
    code = 0
    try:
        os.set_blocking(out, False)
        pending = bytearray()
        for k in _claims(token_r):
            try:
                record = pickle.dumps((k, [fn(tasks[i]) for i in chunks[k]]), pickle.HIGHEST_PROTOCOL)
            except Exception:
                record = pickle.dumps((k, None), pickle.HIGHEST_PROTOCOL)
            pending += _LENGTH.pack(len(record))
            pending += record
            try:
                del pending[:os.write(out, pending)]
            except BlockingIOError:
                pass
        os.set_blocking(out, True)
        while pending:
            del pending[:os.write(out, pending)]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _receive(buffers: Dict[int, bytearray], chunks: List[List[int]], results: list, failed: List[int],
             wait: bool) -> None:
    """Read what the children sent (waiting for some with `wait`); a pipe at its end is
    dropped from `buffers`."""
    poller = select.poll()
    for fd in buffers:
        poller.register(fd, select.POLLIN)
    for fd, _ in poller.poll(None if wait else 0):
        data = os.read(fd, _PIPE_SIZE)
        buf = buffers[fd]
        if not data:
            del buffers[fd]
            continue
        buf += data
        start = 0
        view = memoryview(buf)
        try:
            while len(buf) - start >= _LENGTH.size:
                (length,) = _LENGTH.unpack_from(buf, start)
                end = start + _LENGTH.size + length
                if len(buf) < end:
                    break
                k, res = pickle.loads(view[start + _LENGTH.size:end])
                if res is None:
                    failed.append(k)
                else:
                    for i, r in zip(chunks[k], res):
                        results[i] = r
                start = end
        finally:
            view.release()
        del buf[:start]


def _reap(children: Dict[int, int]) -> List[str]:
    """Wait for the children; how those that did not exit cleanly ended."""
    dead = []
    for fd, pid in children.items():
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            dead.append(f"killed by signal {os.WTERMSIG(status)}")
        elif os.WEXITSTATUS(status):
            dead.append(f"exit status {os.WEXITSTATUS(status)}")
    return dead
