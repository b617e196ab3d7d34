"""All or nothing: a build's files enter the output folder together (a small commit protocol).

Staging. A build writes each file, fsync'ed, into its own staging folder inside the output folder,
``.dcmspec-staging-XXXXXXXX/``, which holds a ``lock`` file that the build keeps locked (``flock``) while
it runs. Nothing outside the staging folder changes yet.

Commit. Holding the output folder's lock (``flock`` on the folder itself), the build
1. completes or removes what dead builds left in the folder (:func:`recover_folder`),
2. checks again that no target exists (unless ``--force``),
3. stages the manifest (the folder's current manifest merged with this build's entries),
4. writes ``JOURNAL`` (the commit point: from here on the build is completed, not undone),
5. puts each file in place, the manifest last: a hard link, which never replaces a file (with
   ``--force``: a rename over the old file, from a second hard link), so the staged file stays;
6. removes its staging folder.

A failure before step 4 removes the staging folder: the output folder is as it was. An I/O error in step 5
undoes the steps done (old files are kept as hard links in the staging folder until then). SIGINT, SIGTERM
and SIGHUP while staging remove the staging folder; from step 4 on they wait until the commit ends.
After SIGKILL or a power loss, the next build in the folder removes a staging folder that has no JOURNAL
and completes one that has (each step of 5 is idempotent: a file is in place when it is the staged file).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, no recovery (docs/guide/guarantees.md: POSIX only)
    fcntl = None  # type: ignore[assignment]

from ..errors import Location, OutputError
from .targets import MANIFEST_NAME, STAGING_PREFIX, existing_targets

#: ``flock`` is there (POSIX); without it (Windows) builds take no locks and recover nothing.
_FLOCK = fcntl is not None
LOCK_NAME = "lock"
JOURNAL_NAME = "JOURNAL"
STAGED_MANIFEST = "manifest.json"
# Hidden temporary files of dcmspec before 2026-11 (tempfile.mkstemp(prefix=".NAME.", suffix=".part")).
_LEGACY_PART = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}

Notice = Callable[[str, Path], None]  # (message, where): what recovery did, for stderr
Move = tuple[str, str, bool]  # staged name, target name, replace an existing target


class BuildInterrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP stopped the build; ``committed``: its files had been written completely."""

    def __init__(self, signum: int, committed: bool = False) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.committed = committed


class _Interrupts:
    """While writing, the stop signals raise :class:`BuildInterrupted` in the main thread (so that the
    staging folder is removed), except inside :meth:`deferred` (a commit), where they wait for its end."""

    SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))

    def __init__(self) -> None:
        self._depth = 0
        self._pending: int | None = None

    @contextmanager
    def handled(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {}
        for signum in self.SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not signal.SIG_IGN:
                previous[signum] = handler
                signal.signal(signum, self._handle)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            pending, self._pending = self._pending, None
            if pending is not None:  # arrived during a commit that then failed: deliver it as before
                signal.raise_signal(pending)

    def _handle(self, signum: int, frame: Any) -> None:
        if self._depth:
            self._pending = signum
            return
        raise BuildInterrupted(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._pending is not None:
            signum, self._pending = self._pending, None
            raise BuildInterrupted(signum)


INTERRUPTS = _Interrupts()


@contextmanager
def folder_lock(out_dir: Path) -> Iterator[int]:
    """Hold the output folder's lock (``flock`` on the folder); yield the folder's descriptor (-1 where
    folders cannot be opened, on Windows: no lock there)."""
    if not _FLOCK:
        yield -1
        return
    fd = os.open(out_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make the folder's entries (renames, links) durable; POSIX only."""
    if not _FLOCK:
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _put(staging: Path, out_dir: Path, move: Move) -> bool:
    """Put the staged file at its target; idempotent. False: a file we may not replace holds the name."""
    staged, target, replace = move
    src, dst = staging / staged, out_dir / target
    if not os.path.lexists(src) or _same_file(src, dst):
        return True  # done already (src gone: renamed on a file system without hard links)
    if replace:
        second = staging / f"{staged}.mv"
        if os.path.lexists(second):
            os.unlink(second)
        try:
            os.link(src, second)
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            os.replace(src, dst)
            return True
        os.replace(second, dst)
        return True
    try:
        os.link(src, dst)  # never replaces a file (unlike rename)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(dst):  # no hard links here: check, then rename (we hold the folder lock)
            return False
        os.rename(src, dst)
    return True


class Staging:
    """This build's staging folder in ``out_dir``: write files into it, then :meth:`commit` them."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._lock_fd: int | None = None
        self.committed = False  # every file is in place
        self._keep = False  # a commit that could neither finish nor be undone: the next build completes it
        made: Path | None = None
        try:
            with folder_lock(out_dir):  # so that no other build's recovery sees it before it is locked
                while made is None:
                    path = out_dir / f"{STAGING_PREFIX}{os.urandom(4).hex()}"
                    try:
                        os.mkdir(path, 0o700)
                    except FileExistsError:
                        continue
                    made = path
                self.path: Path = made
                self._lock_fd = os.open(self.path / LOCK_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                if _FLOCK:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                _fsync_dir(out_dir)  # the staging folder survives a power loss with what the journal names
        except BaseException:
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            raise

    def write(self, name: str, write: Callable[[BinaryIO], object]) -> None:
        """Write the staged file ``name`` through ``write(fileobj)``; flushed and fsync'ed."""
        path = self.path / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(path, 0o644)

    def remove(self, *, locked: bool = False) -> None:
        """Remove the staging folder (idempotent), holding the folder's lock (``locked``: held already)
        so that another build's recovery never sees it half removed."""
        if self._lock_fd is None:
            return
        if not self._keep and self.path is not None:
            if locked:
                shutil.rmtree(self.path, ignore_errors=True)
            else:
                try:
                    with folder_lock(self.out_dir):
                        shutil.rmtree(self.path, ignore_errors=True)
                except OSError:
                    shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)
        self._lock_fd = None

    def commit(
        self,
        files: list[tuple[str, str]],
        manifest: Callable[[], dict[str, Any]],
        *,
        force: bool,
        notice: Notice | None = None,
    ) -> dict[str, Any]:
        """Put the staged ``files`` ((staged name, target name)) and the manifest in place, all or none.

        ``manifest()`` is called holding the folder's lock, after recovery: it merges the folder's
        current manifest. Raises :class:`OutputError` (nothing changed) when a target exists
        (without ``force``) or an I/O error stops the commit.
        """
        with folder_lock(self.out_dir) as dir_fd:
            recover_folder(self.out_dir, notice, locked=True)
            if not force:
                clash = existing_targets([target for _, target in files], self.out_dir)
                if clash is not None:
                    raise clash
            data = manifest()
            text = json.dumps(data, indent=2, sort_keys=False) + "\n"
            self.write(STAGED_MANIFEST, lambda fh: fh.write(text.encode("utf-8")))
            moves: list[Move] = [(staged, target, force) for staged, target in files]
            moves.append((STAGED_MANIFEST, MANIFEST_NAME, True))
            for staged, target, _ in moves:  # old files, to undo an I/O error half-way
                if os.path.isfile(self.out_dir / target):
                    try:
                        os.link(self.out_dir / target, self.path / f"{staged}.old")
                    except OSError as exc:
                        if exc.errno not in _NO_HARD_LINKS:
                            raise
            journal = json.dumps({"dcmspec_journal": 1, "moves": moves}).encode("utf-8")
            self.write(JOURNAL_NAME + ".new", lambda fh: fh.write(journal))
            with INTERRUPTS.deferred():
                os.rename(self.path / (JOURNAL_NAME + ".new"), self.path / JOURNAL_NAME)  # the commit point
                _fsync_dir(self.path)
                done: list[Move] = []
                placing: Path | None = None
                try:
                    for move in moves:
                        placing = self.out_dir / move[1]
                        if not _put(self.path, self.out_dir, move):
                            raise FileExistsError(errno.EEXIST, "another program wrote this file meanwhile")
                        done.append(move)
                    placing = None
                    if dir_fd >= 0:
                        os.fsync(dir_fd)
                    self.committed = True
                except OSError as exc:
                    where = Location(str(placing or self.out_dir))
                    try:
                        self._undo(done)
                    except OSError as again:
                        self._keep = True
                        raise OutputError(
                            f"cannot write the file: {exc.strerror}; undoing that failed too ({again.strerror}): "
                            "the folder holds part of this build",
                            location=where,
                            hint="the next dcmspec build into this folder completes this one",
                        ) from None
                    raise OutputError(
                        f"cannot write the file: {exc.strerror}; nothing was written", location=where
                    ) from None
                self.remove(locked=True)
        return data

    def _undo(self, done: list[Move]) -> None:
        """Put back what the moves in ``done`` replaced; then drop the journal (a crash during this
        leaves the journal, and the next build completes the commit instead)."""
        for staged, target, _ in reversed(done):
            dst = self.out_dir / target
            old = self.path / f"{staged}.old"
            if os.path.lexists(old):
                os.replace(old, dst)
            elif _same_file(self.path / staged, dst):
                os.unlink(dst)
        os.unlink(self.path / JOURNAL_NAME)


def recover_folder(out_dir: Path, notice: Notice | None = None, *, locked: bool = False) -> None:
    """Complete or remove what builds killed in ``out_dir`` left there: a staging folder with a JOURNAL
    is committed, one without is removed, one whose build still runs (its lock is held) is left alone.
    Old-style hidden ``.part`` files are removed. Each action is reported through ``notice``."""
    if not _FLOCK or not out_dir.is_dir():
        return
    if not locked:
        with folder_lock(out_dir):
            recover_folder(out_dir, notice, locked=True)
        return
    entries = list(os.scandir(out_dir))
    for entry in entries:
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir(follow_symlinks=False):
            _recover_staging(Path(entry.path), out_dir, notice)
        elif _LEGACY_PART.match(entry.name) and entry.is_file(follow_symlinks=False):
            size = entry.stat(follow_symlinks=False).st_size
            os.unlink(entry.path)
            if notice:
                notice(f"removed a temporary file ({size} bytes) that an interrupted build had left", Path(entry.path))


def _recover_staging(path: Path, out_dir: Path, notice: Notice | None) -> None:
    try:
        fd: int | None = os.open(path / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        fd = None  # its build died between creating the folder and its lock
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a running build's staging folder
        journal = path / JOURNAL_NAME
        if not os.path.lexists(journal):
            files = [p for p in path.iterdir() if p.name != LOCK_NAME]
            size = sum(p.stat().st_size for p in files if p.is_file())
            shutil.rmtree(path)
            if notice:
                notice(
                    f"removed what a build killed before its commit had staged ({len(files)} file(s), "
                    f"{size} bytes); the folder is as that build found it",
                    path,
                )
            return
        try:
            moves = [tuple(m) for m in json.loads(journal.read_text(encoding="utf-8"))["moves"]]
        except (OSError, ValueError, KeyError, TypeError):
            raise OutputError(
                "the journal of an interrupted commit is unreadable; the folder may hold part of that build",
                location=Location(str(journal)),
                hint="check the folder against its manifest, then remove this staging folder",
            ) from None
        kept = []
        with INTERRUPTS.deferred():
            for move in moves:
                staged, target, replace = str(move[0]), str(move[1]), bool(move[2])
                if not _put(path, out_dir, (staged, target, replace)):
                    kept.append(target)
            _fsync_dir(out_dir)
            shutil.rmtree(path)
        if notice:
            extra = f"; kept {', '.join(kept)}, written by another program since" if kept else ""
            notice(
                f"completed the commit of a build that was killed while committing "
                f"({len(moves) - 1} file(s) and the manifest){extra}",
                path,
            )
    finally:
        if fd is not None:
            os.close(fd)
