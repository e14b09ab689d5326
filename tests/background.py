"""Slow work that tests wait for, done in the background from the session's start.

A test that runs the app or a command in a subprocess spends seconds waiting for it,
and pytest runs one test at a time: on a 2-core machine the other core idles. Work
declared with :func:`early` is queued when collection ends (only what the selected
tests need) and done by background threads, one per spare core; the test that needs
it reads its result, and rather than wait, it does queued work itself (that work if it
is still queued). The session's synths (``tests/conftest.py``) and the slowest command
runs are done this way.

The work must not touch jsii or monkeypatch anything: it runs beside the tests. It
starts its subprocesses with :func:`popen`, which runs them at a lower priority (the
tests running meanwhile keep their core) and stops them when the session ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

# Each piece of work, by the name of the fixture that returns its result.
_work: dict[str, tuple[Callable[[Path], Any], tuple[str, ...]]] = {}
_started: dict[str, Future] = {}
_processes: list[subprocess.Popen] = []
_lock = threading.Lock()
_closing = threading.Event()
_pool: ThreadPoolExecutor | None = None
_folder: Path | None = None


def early(*, needs: Iterable[str] = ()) -> Callable[[Callable[[Path], Any]], Any]:
    """Declare ``work(folder)`` as a session fixture of the same name, done in the
    background from the session's start. ``folder`` is a new, empty temporary folder;
    ``needs`` names other early work whose result ``work`` reads with :func:`result`."""

    def declare(work: Callable[[Path], Any]) -> Any:
        _work[work.__name__] = (work, tuple(needs))

        @pytest.fixture(scope="session", name=work.__name__)
        def fixture() -> Any:
            return result(work.__name__)

        fixture.__doc__ = work.__doc__
        return fixture

    return declare


def needed_by(fixture_names: Iterable[str]) -> set[str]:
    """The early work those fixtures need, with what that work needs in turn."""
    wanted: set[str] = set()
    pending = [name for name in fixture_names if name in _work]
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(_work[name][1])
    return wanted


def start(names: Iterable[str], folder: Path) -> None:
    """Queue the named work (once each): what it needs first, then in declaration order."""
    global _pool, _folder
    with _lock:
        _folder = folder
        if _pool is None:
            # One piece at a time per spare core: each keeps about a core busy (Python and
            # Node take turns); more at once would only compete with the tests for the CPU.
            _pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="early")
        for name in _in_order(set(names)):
            if name not in _started:
                place = folder / name
                place.mkdir(parents=True)
                _started[name] = _pool.submit(_work[name][0], place)


def _in_order(names: set[str]) -> list[str]:
    # Work waits only for work queued before it, so a single worker cannot deadlock.
    order: list[str] = []

    def visit(name: str) -> None:
        if name not in order:
            for need in _work[name][1]:
                visit(need)
            order.append(name)

    for name in _work:  # declaration order
        if name in names:
            visit(name)
    return order


def result(name: str) -> Any:
    """The result of the named early work. A test never just waits while work is queued:
    it does the named work itself if it is still queued, else other queued work (in queue
    order) until the named work is done, so that both cores stay busy."""
    if name not in _started:
        if _folder is None:
            raise RuntimeError(f"{name}: the session has not started the background work")
        start(needed_by([name]), _folder)
    while not _do_here(name) and not _started[name].done():
        if not any(_do_here(other) for other in _in_order(set(_started)) if other != name):
            break  # nothing left in the queue: wait
    try:
        return _started[name].result()
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"{name}: {' '.join(map(str, exc.cmd))} failed with exit code {exc.returncode}:\n{exc.stderr}\n{exc.output}")


def _do_here(name: str) -> bool:
    """Take ``name`` off the queue and do it in this thread; False if it was not queued."""
    with _lock:
        if not _started[name].cancel():  # a worker took it, or it is done
            return False
        future = _started[name] = Future()
        future.set_running_or_notify_cancel()  # so that nobody else cancels it
    try:
        future.set_result(_work[name][0](_folder / name))
    except BaseException as exc:  # noqa: BLE001 - kept for every test that reads it
        future.set_exception(exc)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise  # Ctrl-C ends the session, whichever work it came in
    return True


def popen(args: list[str], **options: Any) -> subprocess.Popen:
    """``subprocess.Popen`` for early work: in a session (process group) of its own, at a
    lower priority, stopped with everything it started when the session ends."""
    with _lock:
        if _closing.is_set():
            raise RuntimeError("the test session is ending")
        # nice(1), not preexec_fn: that is unsafe in a process with threads.
        process = subprocess.Popen(["nice", "-n", "10", *args], start_new_session=True, **options)
        _processes.append(process)
    return process


def run(args: list[str], *, check: bool = True, **options: Any) -> subprocess.CompletedProcess[str]:
    """Run to completion with :func:`popen`, capturing its text output; ``check``: raise
    ``CalledProcessError`` (reported by :func:`result`) on a non-zero exit."""
    process = popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)
    stdout, stderr = process.communicate()
    if check and process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, args, stdout, stderr)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def stop() -> None:
    """End of the session (finished, failed or interrupted): stop every process early
    work started, and wait for the work to end.

    SIGTERM first, to each process group: a command stops what it started itself
    (``local-up`` its emulator and CLI, which run in process groups of their own). What
    is still there after 10 s is killed."""
    _closing.set()
    with _lock:
        processes = list(_processes)
    running = [process for process in processes if process.poll() is None]
    _signal_groups(running, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    _signal_groups(processes, signal.SIGKILL)  # a group may outlive its leader
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)


def _signal_groups(processes: list[subprocess.Popen], signum: int) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
