"""SIGINT and SIGTERM unwind like an exception, so that every ``finally`` and ``with`` of a
command runs: staging folders, git worktrees and temporary folders are removed, child
processes are stopped, and the command says it was interrupted instead of printing a
traceback.

Python turns SIGINT into ``KeyboardInterrupt`` but lets SIGTERM (what CI runners, ``kill``
and ``timeout`` send) end the process at once, skipping all clean-up. Inside
:func:`handled`, both raise :class:`Interrupted`. Clean-up that an interrupt must not cut
short (stopping an emulator and every process of its run) runs under :func:`ignored`, or
under ``handled(once=True)``, which ignores every signal after the first by itself; steps
that must happen together run under :func:`deferred`.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A command was interrupted by ``signum``; ``exit_code`` is the shell's 128 + signum.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that ``except Exception`` handlers
    do not swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _raise_once(signum: int, frame: object) -> None:
    # Ignoring starts here, in the handler, so that no second signal can come in between.
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def handled(*, once: bool = False) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` (main thread only).

    ``once``: only the first one does; from then to the end of the block both are ignored,
    so that the clean-up it started (``except`` and ``finally`` inside the block) runs to its
    end however often Ctrl-C is pressed. Only for clean-up that ends by itself in bounded
    time; a child started after the first signal inherits the ignoring. (A deployment does
    not use it: a second Ctrl-C there is meant for Terraform, which stops at once.)"""
    previous = {sig: signal.signal(sig, _raise_once if once else _raise) for sig in SIGNALS}
    try:
        yield
    finally:
        _restore(previous)


@contextlib.contextmanager
def ignored() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are ignored (and lost): for clean-up that what the
    user asks for by pressing Ctrl-C (stopping) must not interrupt (main thread only)."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in SIGNALS}
    try:
        yield
    finally:
        _restore(previous)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM wait (blocked) and arrive when it ends: for a few
    steps that must happen together (two renames), whose interruption still counts."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _restore(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def stop(process: subprocess.Popen, signum: int = signal.SIGTERM, timeout: float = 60) -> None:
    """Ask a child to stop (it cleans up after itself the same way) and wait; kill it after ``timeout``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signum)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
