"""Progress on stderr for long builds (the rows of a ``--csv`` build): a one-line bar on a terminal, a
line every so many items elsewhere (CI logs), nothing with ``-q``.

The pipeline talks to a :class:`Progress`: ``progress("text")`` prints a message line; ``progress.meter(
total, "building")`` returns a :class:`Meter` that is advanced as items are done and closed at the end.
Standard library only (start-up stays light).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

LOG_LINES = 10
"""Off a terminal, a meter prints about this many lines (one every ``total / LOG_LINES`` items)."""


class Meter:
    """Items done out of ``total`` (``failed`` of them failed), the rate and the time left, shown as
    ``label``."""

    REDRAW_S = 0.1

    def __init__(
        self,
        total: int,
        label: str,
        write: Callable[[str], None],
        *,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.label, self.done, self.failed = total, label, 0, 0
        self._write, self._tty, self._clock = write, tty, clock
        self._start = self._last = clock()
        self._every = max(1, -(-total // LOG_LINES))
        self._next_line = self._every
        self._shown = False

    def advance(self, n: int = 1, *, failed: int = 0) -> None:
        """``n`` more items done, ``failed`` of them failed."""
        self.done = min(self.total, self.done + n)
        self.failed += failed
        if self._tty:
            now = self._clock()
            if now - self._last >= self.REDRAW_S or self.done == self.total:
                self._last = now
                self._write("\r" + self.line() + "\x1b[K")
                self._shown = True
        elif self.done >= self._next_line or (self.done == self.total and not self._shown):
            self._write(self.line() + "\n")
            self._next_line = (self.done // self._every + 1) * self._every
            self._shown = self.done == self.total

    def close(self) -> None:
        if self._tty and self._shown:
            self._write("\r" + self.line() + "\x1b[K\n")

    def line(self) -> str:
        """``building 412/1000 [=====>      ]  41%  57.1/s  ETA 10 s`` (``, 3 failed`` after the percentage
        once an item failed)."""
        elapsed = max(self._clock() - self._start, 1e-9)
        rate = self.done / elapsed
        width = 24
        filled = width * self.done // max(self.total, 1)
        bar = "=" * filled + (">" if filled < width else "") + " " * (width - filled - 1)
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = (
            "ETA --"
            if left is None
            else f"ETA {_duration(left)}"
            if self.done < self.total
            else f"in {_duration(elapsed)}"
        )
        percent = 100 * self.done // max(self.total, 1)
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.label} {self.done}/{self.total} [{bar}] {percent:3d}%{failed}  {rate:.1f}/s  {eta}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


class Progress:
    """Where the pipeline reports to: message lines and meters, on ``stream`` (stderr)."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None, messages: bool = True) -> None:
        self._stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.messages = messages  # False: meters only (``validate`` shows no per-spec lines)

    def __call__(self, text: str) -> None:
        if self.messages:
            self._write(text + "\n")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def meter(self, total: int, label: str) -> Meter:
        return Meter(total, label, self._write, tty=self.tty)


def meter_of(progress: Callable[[str], None] | None, total: int, label: str) -> Meter | None:
    """A meter on ``progress`` when it can show one (a :class:`Progress`), else None."""
    return progress.meter(total, label) if isinstance(progress, Progress) else None


__all__ = ["LOG_LINES", "Meter", "Progress", "meter_of"]
