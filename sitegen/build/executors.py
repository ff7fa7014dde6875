"""Where pages are rendered: this process, a pool of local processes, or a Dask cluster.

``--jobs N`` renders in N local processes (default: the number of cores); ``--executor
dask://host:port`` sends the work to a Dask scheduler through
``dask.distributed.Client.get_executor()`` (``pip install 'sitegen[dask]'``). Both are plain
``concurrent.futures.Executor`` objects to the build, which never cares which it has.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sitegen.errors import ConfigError

# Below this many pages, starting worker processes costs more than it saves.
PARALLEL_MIN_PAGES = 200


@dataclass
class Workers:
    """An executor and what the build must send its workers."""

    executor: Executor
    remote: bool  # workers on other machines: ship the state and the site's files
    count: int  # how many tasks to keep in flight
    share: Callable[[Any], Any] = lambda value: value  # send a value once, refer to it after


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_executor(url: str) -> tuple[str, int]:
    """``dask://host:port`` → (host, port); anything else is a clear error."""
    parts = urlsplit(url)
    if parts.scheme != "dask" or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(
            f"--executor {url!r}: give a Dask scheduler as dask://host:port "
            "(for local processes, use --jobs N instead)"
        )
    try:
        port = parts.port or 8786
    except ValueError:
        raise ConfigError(f"--executor {url!r}: the port is not a number") from None
    return parts.hostname, port


@contextmanager
def open_workers(jobs: int, executor_url: str | None) -> Iterator[Workers | None]:
    """The workers for a build, or None to render in this process."""
    if executor_url:
        host, port = check_executor(executor_url)
        try:
            from distributed import Client
        except ImportError:
            raise ConfigError(
                f"--executor {executor_url}: Dask is not installed; run pip install 'sitegen[dask]'"
            ) from None
        try:
            client = Client(f"tcp://{host}:{port}", timeout=30)
        except OSError as err:
            raise ConfigError(
                f"--executor {executor_url}: cannot reach the Dask scheduler ({err})"
            ) from None
        try:
            cores = sum(client.nthreads().values()) or 1
            yield Workers(
                client.get_executor(pure=False),
                remote=True,
                count=cores * 2,
                share=lambda value: client.scatter(value, broadcast=True, hash=False),
            )
        finally:
            client.close()
        return
    if jobs <= 1:
        yield None
        return
    # spawn: a clean interpreter per worker (no inherited event loops, locks or connections)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield Workers(pool, remote=False, count=jobs * 2)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
