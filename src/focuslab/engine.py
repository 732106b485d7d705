"""The execution engine: map a function over tasks on this machine or on a Ray cluster.

:func:`map_tasks` is the one parallel map of dataset generation (``focuslab data generate``)
and of the AF benchmark (``focuslab bench``). Engines:

* ``local`` (default): ``workers == 1`` runs the tasks in this process, in order; more
  workers use a :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start
  method (torch is not fork-safe);
* ``ray``: ``ray.init(address=address)`` - a running cluster (``"auto"`` or
  ``"ray://host:10001"``), or with no address a local Ray started with ``num_cpus=workers``
  (and shut down afterwards) - and one ``ray.remote`` task per item (DESIGN.md "Scale": no
  home-made cluster code).

Results come back in task order whatever the engine and the completion order, so the same
tasks give the same results on every engine (a task must be a pure function of its
arguments: seed it, never use a shared random stream). ``fn`` and the tasks must be
picklable (a module-level function).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from focuslab.errors import InvalidParameterError

#: Engine names.
ENGINES = ("local", "ray")


def check_engine(engine: str, workers: int, address: str | None = None) -> None:
    """Validate the engine arguments (one-line :class:`InvalidParameterError`)."""
    if engine not in ENGINES:
        raise InvalidParameterError(f"engine {engine!r} unknown; use one of {', '.join(ENGINES)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"workers must be an integer >= 1, got {workers!r}")
    if address is not None and engine != "ray":
        raise InvalidParameterError("--address is for --engine ray; drop it or add --engine ray")


def map_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
    progress: Callable[[int, int, int, Any], None] | None = None,
) -> list:
    """``[fn(t) for t in tasks]`` on the chosen engine; results in task order.

    Parameters
    ----------
    fn
        Picklable function of one task.
    tasks
        The tasks (picklable).
    engine
        ``"local"`` or ``"ray"``.
    workers
        Processes (local) or CPUs of a local Ray (ignored when joining a cluster).
    address
        Ray cluster address (``"auto"``, ``"ray://host:10001"``); None starts a local Ray.
    progress
        ``progress(done, total, index, result)`` in the caller's process after each task
        finishes (completion order).

    Raises
    ------
    InvalidParameterError
        Unknown engine, bad ``workers``, an address without Ray.
    """
    check_engine(engine, workers, address)
    tasks = list(tasks)
    total = len(tasks)
    results: list = [None] * total
    done = 0

    def finish(i: int, r: Any) -> None:
        nonlocal done
        results[i] = r
        done += 1
        if progress is not None:
            progress(done, total, i, r)

    if engine == "ray":
        _map_ray(fn, tasks, workers, address, finish)
    elif workers == 1 or total <= 1:
        for i, t in enumerate(tasks):
            finish(i, fn(t))
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=ctx) as pool:
            futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
    return results


def _call(fn, task):
    """Run ``fn(task)`` (the Ray task: any picklable callable, builtins included)."""
    return fn(task)


def check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """Fail fast, in one line, when a ``host:port`` / ``ray://host:port`` Ray address does not answer.

    ``ray.init`` itself retries an unreachable address for minutes. ``"auto"`` (and any
    address without a port) is left to Ray.
    """
    import socket

    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InvalidParameterError(f"cannot reach the Ray cluster at {address!r} ({exc.strerror or exc}); "
                                    "check --address or start the cluster (ray start --head)") from None


def _map_ray(fn, tasks, workers: int, address: str | None, finish) -> None:
    import ray

    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            check_reachable(address)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise InvalidParameterError(f"cannot join the Ray cluster at {address!r} ({first}); "
                                            "check --address or start the cluster (ray start --head)") from None
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_call)
        fn_ref = ray.put(fn)
        refs = {remote.remote(fn_ref, t): i for i, t in enumerate(tasks)}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                finish(refs[ref], ray.get(ref))
    finally:
        if started:
            ray.shutdown()
