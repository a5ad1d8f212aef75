"""Rendering on both cores. A build's outputs are independent, so the feeds
can be rendered by a forked child while the parent renders the post, the
email and the website (``in_background``), and a first build of a large
archive renders its issue pages in several children (``map_forked``); each
child's result (bytes) comes back through a pipe. Where forking is
unavailable or unsafe (no ``fork``, one core, other threads running), the
work simply runs in this process: the outputs are the same either way
(tests check)."""

from __future__ import annotations

import functools
import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
ENABLED = True  # tests switch it off to compare both ways


class Job(Generic[T]):
    def result(self) -> T:
        raise NotImplementedError

    def abandon(self) -> None:
        """Not needed after all (the parent failed): wait for it, drop its result."""


class _Inline(Job[T]):
    def __init__(self, fn: Callable[[], T]):
        self.fn = fn

    def result(self) -> T:
        return self.fn()


class _Forked(Job[T]):
    def __init__(self, pid: int, fd: int):
        self.pid, self.fd = pid, fd

    def result(self) -> T:
        with os.fdopen(self.fd, "rb") as f:
            payload = f.read()
        _, status = os.waitpid(self.pid, 0)
        if not payload:
            raise RuntimeError(f"a background renderer died (wait status {status}); run again")
        ok, value = pickle.loads(payload)
        if not ok:
            raise value
        result: T = value
        return result

    def abandon(self) -> None:
        try:
            self.result()
        except Exception:
            pass


def done(value: T) -> Job[T]:
    """A job whose result is already known."""
    return _Inline(lambda: value)


def can_fork() -> bool:
    # a child of a process with other threads may inherit their held locks
    return (ENABLED and hasattr(os, "fork") and sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1)


def in_background(fn: Callable[[], T]) -> Job[T]:
    """Start ``fn()`` in a forked child; ``.result()`` waits for it and returns
    its value or raises its exception (which must pickle; others become a
    RuntimeError that names them)."""
    if not can_fork():
        return _Inline(fn)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's exit handlers
        code = 0
        try:
            os.close(read)
            try:
                payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                try:
                    payload = pickle.dumps((False, exc))
                    pickle.loads(payload)  # some exceptions pickle but do not unpickle
                except Exception:
                    payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write, "wb") as f:
                f.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    return _Forked(pid, read)


def map_forked(fn: Callable[[list[T]], list[R]], items: list[T], *, min_items: int = 200) -> list[R]:
    """``fn`` over ``items`` split in one chunk per core, each chunk in a
    forked child (which inherits everything loaded, so nothing is read
    again); results in no particular order. Few items, or no safe fork: one
    call here."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < min_items or workers < 2 or not can_fork():
        return fn(items)
    chunks = [items[i::workers] for i in range(workers)]
    jobs: list[Job[list[R]]] = []
    try:
        for chunk in chunks[1:]:
            jobs.append(in_background(functools.partial(fn, chunk)))
        out = fn(chunks[0])
    except BaseException:
        for job in jobs:
            job.abandon()
        raise
    for i, job in enumerate(jobs):
        try:
            out += job.result()
        except BaseException:
            for rest in jobs[i + 1:]:
                rest.abandon()
            raise
    return out
