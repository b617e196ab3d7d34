"""Where the rows of a batch build run: local worker processes or a Dask distributed cluster.

``--executor local`` (the default; ``--workers N``) forks worker processes on this machine;
``--executor dask-local`` starts a Dask ``LocalCluster`` of N worker processes; ``--executor
dask://HOST:PORT`` sends the rows to a running Dask scheduler. Every executor runs the same task function
(:func:`dcmspec_compiler.assemble.batch._work`) and hands its results back as they complete, so the
client writes the same bytes whichever ran them. Dask is imported only when a Dask executor is chosen
(the optional extra ``dcmspec-compiler[dask]``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError, Location

if TYPE_CHECKING:  # the optional Dask extra: imported when a Dask executor is chosen
    from distributed import Client, LocalCluster

LOST = object()
"""The result of a task whose worker died and was not (or could not be) run elsewhere."""

DASK_HINT = "pip install distributed (the dask extra of dcmspec-compiler: pip install '.[dask]' in its clone)"


@dataclass(frozen=True)
class ExecutorChoice:
    """The ``--executor`` and ``--workers`` of a build."""

    kind: str = "local"  # "local", "dask-local" or "dask"
    address: str | None = None  # "tcp://HOST:PORT" for "dask"
    workers: int | None = None  # None: as many as the machine (local) or the cluster has

    @property
    def remote(self) -> bool:
        return self.kind != "local"

    def __str__(self) -> str:
        return {"local": "worker processes", "dask-local": "a Dask LocalCluster"}.get(
            self.kind, f"the Dask cluster at {self.address}"
        )


def parse_executor(text: str, workers: int | None = None) -> ExecutorChoice:
    """``local``, ``dask-local`` or ``dask://HOST:PORT`` (``tls://`` kept); ValueError says what is wrong."""
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, not {workers}")
    if text in ("local", "dask-local"):
        return ExecutorChoice(text, None, workers)
    for scheme, keep in (("dask://", "tcp://"), ("tcp://", "tcp://"), ("tls://", "tls://")):
        if text.startswith(scheme):
            rest = text[len(scheme) :].rstrip("/")
            host, _, port = rest.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{text!r}: give the scheduler as dask://HOST:PORT (e.g. dask://sched:8786)")
            if workers is not None:
                raise ValueError("--workers is for local and dask-local; a Dask cluster has the workers it has")
            return ExecutorChoice("dask", keep + rest, None)
    raise ValueError(f"{text!r} is not an executor: local, dask-local or dask://HOST:PORT")


class LocalProcesses:
    """Forked worker processes (a ``ProcessPoolExecutor``): each task is a share of the rows."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self) -> LocalProcesses:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from .common import stop_file_digests

        stop_file_digests()  # no thread of ours is running when the workers are forked
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
        return self

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """(index, result) of every task as it completes; LOST for a task whose worker died."""
        from concurrent.futures import Future, as_completed
        from concurrent.futures.process import BrokenProcessPool

        futures: dict[Future[Any], int] = {}
        for i, task in enumerate(tasks):
            try:
                futures[self._pool.submit(fn, task)] = i
            except BrokenProcessPool:  # a worker died while the tasks were being handed out
                yield from ((j, LOST) for j in range(i, len(tasks)))
                break
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except BrokenProcessPool:
                yield futures[future], LOST

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskCluster:
    """A Dask distributed client, on a new ``LocalCluster`` (``address`` None) or a running scheduler.

    Each task is one row. A worker that dies while it holds a task is the scheduler's business: it runs
    the task on another worker (PS: ``distributed.scheduler.allowed-failures`` times at most); only a task
    that kills every worker it meets comes back LOST.
    """

    CONNECT_S = 30

    def __init__(self, address: str | None, workers: int | None) -> None:
        self.address, self.workers = address, workers
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None

    def __enter__(self) -> DaskCluster:
        try:
            import logging

            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError(
                "a Dask executor needs the Python package distributed, which is not installed",
                location=Location("--executor"),
                hint=DASK_HINT,
            ) from None
        try:
            if self.address is None:
                n = self.workers or _cpus()
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]  # distributed: unannotated
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call]  # distributed: unannotated
            else:
                self._client = Client(self.address, timeout=f"{self.CONNECT_S}s")  # type: ignore[no-untyped-call]  # distributed: unannotated
                self._client.wait_for_workers(1, timeout=self.CONNECT_S)
        except (OSError, TimeoutError) as exc:
            self.__exit__()
            where = self.address or "a new LocalCluster"
            raise InputError(
                f"cannot reach the Dask scheduler at {where}: {exc}",
                location=Location("--executor"),
                hint="start it with `dask scheduler` and at least one `dask worker ADDRESS`",
            ) from None
        self._check_versions()
        return self

    def _check_versions(self) -> None:
        """Every worker must run this dcmspec version (the same bytes need the same code)."""
        from .. import __version__

        assert self._client is not None  # connected by __enter__
        try:
            versions = self._client.run(_dcmspec_version)
        except Exception as exc:  # a worker without dcmspec cannot unpickle the function
            self.__exit__()
            raise InputError(
                f"a Dask worker cannot run dcmspec: {type(exc).__name__}: {exc}",
                location=Location("--executor"),
                hint=f"install dcmspec-compiler=={__version__} on every worker",
            ) from None
        other = {w: v for w, v in versions.items() if v != __version__}
        if other:
            self.__exit__()
            raise InputError(
                f"Dask workers run another dcmspec version than this client ({__version__}): "
                + ", ".join(f"{w} has {v}" for w, v in sorted(other.items())),
                location=Location("--executor"),
                hint=f"install dcmspec-compiler=={__version__} on every worker",
            )

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        import pickle

        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        assert self._client is not None  # connected by __enter__
        context = (os.getcwd(), os.environ.get("SOURCE_DATE_EPOCH"))
        # pickled here: Dask would otherwise walk every spec's nested data looking for futures in it
        payloads = [pickle.dumps((fn, task, context), protocol=pickle.HIGHEST_PROTOCOL) for task in tasks]
        self._futures = self._client.map(_in_client_context, payloads, pure=False)
        index = {future.key: i for i, future in enumerate(self._futures)}
        # results gathered by the client's event loop (not one blocking result() call per row)
        for future, result in as_completed(  # type: ignore[no-untyped-call]  # distributed: unannotated
            self._futures, with_results=True, raise_errors=False
        ):
            if future.status == "error":
                if isinstance(result, KilledWorker):
                    yield index[future.key], LOST
                    continue
                raise result
            yield index[future.key], result

    def __exit__(self, *exc: object) -> None:
        futures = getattr(self, "_futures", None)
        if self._client is not None:
            if futures:
                self._client.cancel(futures)  # type: ignore[no-untyped-call]  # distributed: unannotated
            self._client.close()  # type: ignore[no-untyped-call]  # distributed: unannotated
        if self._cluster is not None:
            self._cluster.close()
        self._cluster = self._client = None


_cwd_lock = threading.Lock()


def _in_client_context(payload: bytes) -> Any:
    """On a Dask worker: run ``fn(task)`` (pickled in ``payload``) in the client's working folder
    (relative paths in specs and CSV cells resolve as on the client) with the client's
    ``SOURCE_DATE_EPOCH`` (content dates)."""
    import pickle

    fn, task, (cwd, epoch) = pickle.loads(payload)
    with _cwd_lock:
        if os.getcwd() != cwd:
            os.chdir(cwd)
        if epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
    return fn(task)


def _dcmspec_version() -> str:
    from .. import __version__

    return __version__


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def open_executor(choice: ExecutorChoice, workers: int) -> LocalProcesses | DaskCluster:
    """The executor of ``choice`` (``workers`` local processes for ``local``)."""
    if choice.kind == "local":
        return LocalProcesses(workers)
    return DaskCluster(choice.address, choice.workers)


__all__ = ["LOST", "DaskCluster", "ExecutorChoice", "LocalProcesses", "open_executor", "parse_executor"]
