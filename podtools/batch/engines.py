"""Where a batch's episodes run: a pool of local worker processes, or Ray actors.

Both keep one set of loaded models per worker for the whole batch and run
:func:`.worker.process_task` (``ingest``) for one episode at a time per worker. They report
progress and results to the batch's main thread through the ``Events`` interface (:mod:`.interface`,
implemented by :mod:`.runner`); a worker that dies takes only its current episode with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from ..config import PipelineConfig
from ..download import cache_path, is_url
from ..errors import ConfigError, DeviceError, ModelError, OutputError, PodtoolsError
from ..fsutil import atomic_write_bytes
from .worker import load_worker_models, process_task

log = logging.getLogger("podtools.batch")

ADVANCE_INTERVAL = 0.25  # seconds between progress messages of one worker
# Messages stay below the pipe's atomic write size, so a worker killed mid-message cannot
# leave a torn message in the shared queue.
MAX_MESSAGE = 1500
STARTUP_FAILURES = 3  # workers that die before loading their models: then the batch stops
ACTOR_START_TIMEOUT = 600.0  # seconds for Ray to place and start every actor
_ERRORS = {"ModelError": ModelError, "DeviceError": DeviceError, "ConfigError": ConfigError,
           "OutputError": OutputError}


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _worker_config(config, workers: int):
    """Split the CPU between workers unless the preset fixes the thread count."""
    if config.transcribe.cpu_threads == 0 and workers > 1:
        t = config.transcribe.model_copy(update={"cpu_threads": threads_per_worker(workers)})
        config = config.model_copy(update={"transcribe": t})
    return config


class _ProgressSender:
    """``podtools.progress.Progress`` that forwards to the batch's main process."""

    def __init__(self, send: Callable[[tuple], None], run_id: int):
        self.send = send
        self.run_id = run_id
        self.current: Optional[str] = None
        self._last = 0.0

    def stage(self, name: str, total: float | None = None) -> None:
        self.current = name
        self.send(("stage", self.run_id, name, total))

    def advance(self, done: float) -> None:
        now = time.monotonic()
        if now - self._last >= ADVANCE_INTERVAL:
            self._last = now
            self.send(("advance", self.run_id, float(done)))

    def note(self, message: str) -> None:
        self.send(("note", self.run_id, message))

    def status(self, text: str) -> None:  # the batch's display shows stages and audio time only
        pass


def _run_one(task, config, templates_dir, models, send) -> tuple:
    """Process a task; never raises: returns ("done", timings) or ("failed", kind, message, stage)."""
    progress = _ProgressSender(send, task.run_id)
    try:
        timings = process_task(task, config, templates_dir, models, progress)
        return ("done", task.run_id, timings)
    except PodtoolsError as exc:
        message = _name_the_url(exc, task.source)
        return ("failed", task.run_id, type(exc).__name__, message[:MAX_MESSAGE], progress.current)
    except MemoryError:
        return ("failed", task.run_id, "internal", "out of memory", progress.current)
    except Exception as exc:  # noqa: BLE001 - a bug in one episode must not stop the batch
        log.debug("task %s failed", task.run_id, exc_info=True)
        first = str(exc).splitlines()[0][:MAX_MESSAGE] if str(exc) else ""
        return ("failed", task.run_id, "internal", f"internal error: {type(exc).__name__}: {first}", progress.current)


def _name_the_url(exc: PodtoolsError, source: str) -> str:
    """An error about the downloaded copy of an enclosure names the enclosure's URL instead."""
    message = str(exc)
    if exc.path and is_url(source) and exc.path == str(cache_path(source)):
        return f"{source}: {message[len(exc.path) + 2:]}"
    return message


# -- local processes ----------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive the batch (e.g. after ``kill -9``): it would keep writing.

    ``parent`` is the batch's pid as the batch saw it; a worker whose parent is already gone
    when it starts (killed during the spawn) exits at once.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the kernel kills us with the parent
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="podtools-parent-watch").start()


def _worker_main(wid: int, parent: int, config_json: str, templates_dir: str | None, tasks, events,
                 threads: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))

    config = PipelineConfig.model_validate_json(config_json)
    try:
        models = load_worker_models(config)
    except PodtoolsError as exc:
        events.put(("fatal", wid, type(exc).__name__, str(exc)))
        return
    except Exception as exc:  # noqa: BLE001
        events.put(("fatal", wid, "ModelError", f"cannot load models: {type(exc).__name__}: {exc}"))
        return
    events.put(("ready", wid))
    while True:
        task = tasks.get()
        if task is None:
            return
        events.put(_run_one(task, config, templates_dir, models, events.put))


@dataclasses.dataclass
class _Worker:
    wid: int
    proc: Any
    tasks: Any
    busy: Any = None  # the Task it is working on


class LocalEngine:
    """``workers`` processes (spawned: no state shared with the batch's threads)."""

    name = "local"

    def __init__(self, config, templates_dir: str | None, workers: int = 1):
        self.workers_n = workers
        self.config = _worker_config(config, workers)
        self.templates_dir = templates_dir
        self.threads = threads_per_worker(workers)
        self.workers: list[_Worker] = []
        self._ctx = None
        self.events = None
        self._next_wid = 0
        self._ready: set[int] = set()
        self._startup_failures = 0

    def start(self) -> None:
        self._ctx = mp.get_context("spawn")
        self.events = self._ctx.Queue()
        for _ in range(self.workers_n):
            self.workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        wid = self._next_wid
        self._next_wid += 1
        tasks = self._ctx.Queue()
        proc = self._ctx.Process(
            target=_worker_main,
            args=(wid, os.getpid(), self.config.model_dump_json(), self.templates_dir, tasks, self.events,
                  self.threads),
            name=f"podtools-worker-{wid}",
            daemon=True,
        )
        proc.start()
        return _Worker(wid, proc, tasks)

    def free(self) -> int:
        return sum(1 for w in self.workers if w.busy is None and w.proc.is_alive())

    def submit(self, task) -> None:
        worker = next(w for w in self.workers if w.busy is None and w.proc.is_alive())
        worker.busy = task
        worker.tasks.put(task)

    def poll(self, events, timeout: float) -> None:
        msgs = []
        try:
            msgs.append(self.events.get(timeout=timeout))
            while True:
                msgs.append(self.events.get_nowait())
        except queue_mod.Empty:
            pass
        for msg in msgs:
            self._handle(msg, events)
        for i, w in enumerate(self.workers):
            if not w.proc.is_alive():
                code = w.proc.exitcode
                task, w.busy = w.busy, None
                if w.wid not in self._ready:
                    self._startup_failures += 1
                    if self._startup_failures >= STARTUP_FAILURES:
                        raise ModelError(f"worker processes die while starting ({_exit_reason(code)}); "
                                         "run with -vv to see why")
                self.workers[i] = self._spawn()
                if task is not None:
                    events.failed(task.run_id, "crash", f"worker process died ({_exit_reason(code)})", None)

    def _handle(self, msg: tuple, events) -> None:
        kind = msg[0]
        if kind == "stage":
            events.stage(msg[1], msg[2], msg[3])
        elif kind == "advance":
            events.advance(msg[1], msg[2])
        elif kind == "note":
            events.note(msg[1], msg[2])
        elif kind in ("done", "failed"):
            for w in self.workers:
                if w.busy is not None and w.busy.run_id == msg[1]:
                    w.busy = None
            if kind == "done":
                events.done(msg[1], msg[2])
            else:
                events.failed(msg[1], msg[2], msg[3], msg[4])
        elif kind == "ready":
            self._ready.add(msg[1])
        elif kind == "fatal":
            raise _ERRORS.get(msg[2], ModelError)(msg[3])

    def close(self) -> None:
        for w in self.workers:
            if w.proc.is_alive() and w.busy is None:
                with contextlib.suppress(Exception):
                    w.tasks.put(None)
        deadline = time.monotonic() + 5.0
        for w in self.workers:
            if w.busy is not None:
                w.proc.terminate()
            w.proc.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=2)
        self.workers.clear()
        if self.events is not None:
            with contextlib.suppress(Exception):
                self.events.close()
                self.events.join_thread()


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


# -- Ray -------------------------------------------------------------------------------------


class _RayWorker:
    """Body of the Ray actor: models loaded in ``__init__``, one episode per ``run`` call."""

    def __init__(self, config_json: str, templates_dir: str | None, events, env: dict[str, str]):
        os.environ.update(env)

        self.config = PipelineConfig.model_validate_json(config_json)
        self.templates_dir = templates_dir
        self.events = events
        self.error: tuple[str, str] | None = None
        try:
            self.models = load_worker_models(self.config)
        except PodtoolsError as exc:
            self.error = (type(exc).__name__, str(exc))
        except Exception as exc:  # noqa: BLE001
            self.error = ("ModelError", f"cannot load models: {type(exc).__name__}: {exc}")

    def ready(self) -> tuple[str, str] | None:
        return self.error

    def _send(self, msg: tuple) -> None:
        with contextlib.suppress(Exception):
            self.events.put_nowait(msg)

    def run(self, task) -> tuple:
        """Run into a private temp folder; return the files' bytes so the driver can write
        them (a cluster node need not share the driver's disk)."""
        tmp = tempfile.mkdtemp(prefix="podtools-ray-")
        try:
            local = dataclasses.replace(task, staging=tmp)
            result = _run_one(local, self.config, self.templates_dir, self.models, self._send)
            if result[0] != "done":
                return result
            files = {}
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file():
                    files[str(path.relative_to(tmp))] = path.read_bytes()
            return result + (files,)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class RayEngine:
    """``workers`` Ray actors; ``address`` joins a cluster, else a local Ray is started."""

    name = "ray"

    def __init__(self, config, templates_dir: str | None, workers: int = 1, address: str | None = None,
                 temp_dir: str | None = None):
        self.workers_n = workers
        self.config = _worker_config(config, workers) if address is None else config
        self.templates_dir = templates_dir
        self.address = address
        self.temp_dir = temp_dir
        self.actors: list[Any] = []
        self.idle: list[Any] = []
        self.inflight: dict[Any, tuple[Any, Any]] = {}
        self._owns_ray = False
        self._events = None
        self._actor_cls = None
        self._options: dict[str, Any] = {}

    def start(self) -> None:
        try:
            import ray
            from ray.util.queue import Queue
        except ImportError:
            raise ConfigError("--engine ray needs Ray: pip install 'podtools[ray]'") from None
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = max(self.workers_n, os.cpu_count() or 1)
                if self.temp_dir:
                    kwargs["_temp_dir"] = str(self.temp_dir)
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or "a local Ray instance"
                raise ConfigError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
            self._owns_ray = True
        gpus = ray.cluster_resources().get("GPU", 0)
        use_gpu = gpus >= 1 and self.config.transcribe.device != "cpu"
        self._options = {"num_cpus": 1, "num_gpus": 1 if use_gpu else 0, "max_restarts": 0}
        self._events = Queue(actor_options={"num_cpus": 0})
        self._actor_cls = ray.remote(_RayWorker)
        env = {k: v for k, v in os.environ.items() if k.startswith("PODTOOLS_")}
        self._env = env
        self.actors = [self._new_actor() for _ in range(self.workers_n)]
        refs = [a.ready.remote() for a in self.actors]
        started, _ = ray.wait(refs, num_returns=len(refs), timeout=ACTOR_START_TIMEOUT)
        if len(started) < len(refs):
            raise ConfigError(
                f"only {len(started)} of {len(refs)} Ray actors started within {ACTOR_START_TIMEOUT:.0f} s: "
                f"the cluster lacks free CPUs{' or GPUs' if use_gpu else ''} for --workers {self.workers_n}")
        try:
            errors = ray.get(refs)
        except ray.exceptions.RayError as exc:
            raise ModelError(f"Ray actors could not start: {str(exc).splitlines()[0]}") from None
        for err in errors:
            if err is not None:
                raise _ERRORS.get(err[0], ModelError)(err[1])
        self.idle = list(self.actors)

    def _new_actor(self):
        return self._actor_cls.options(**self._options).remote(
            self.config.model_dump_json(), self.templates_dir, self._events, self._env)

    def free(self) -> int:
        return len(self.idle)

    def submit(self, task) -> None:
        actor = self.idle.pop(0)
        self.inflight[actor.run.remote(task)] = (actor, task)

    def poll(self, events, timeout: float) -> None:
        import ray

        self._drain(events)
        if not self.inflight:
            time.sleep(timeout)
            return
        ready, _ = ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=timeout)
        self._drain(events)
        for ref in ready:
            actor, task = self.inflight.pop(ref)
            try:
                result = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                with contextlib.suppress(Exception):
                    ray.kill(actor)
                replacement = self._new_actor()
                self.actors.append(replacement)
                self.idle.append(replacement)
                events.failed(task.run_id, "crash", f"Ray worker died ({type(exc).__name__})", None)
                continue
            except ray.exceptions.RayError as exc:
                self.idle.append(actor)
                events.failed(task.run_id, "internal", f"Ray error: {str(exc).splitlines()[0]}", None)
                continue
            self.idle.append(actor)
            if result[0] == "done":
                try:
                    _write_files(Path(task.staging), result[3])
                except OutputError as exc:
                    events.failed(task.run_id, "OutputError", str(exc), "publish")
                    continue
                events.done(result[1], result[2])
            else:
                events.failed(result[1], result[2], result[3], result[4])

    def _drain(self, events) -> None:
        if self._events is None:
            return
        try:
            n = self._events.qsize()
            msgs = self._events.get_nowait_batch(n) if n else []
        except Exception:  # noqa: BLE001 - progress is best effort
            return
        for msg in msgs:
            if msg[0] == "stage":
                events.stage(msg[1], msg[2], msg[3])
            elif msg[0] == "advance":
                events.advance(msg[1], msg[2])
            elif msg[0] == "note":
                events.note(msg[1], msg[2])

    def close(self) -> None:
        import ray

        for actor in self.actors + [a for a, _ in self.inflight.values()]:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        self.actors, self.idle, self.inflight = [], [], {}
        if self._events is not None:
            with contextlib.suppress(Exception):
                self._events.shutdown()
            self._events = None
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        target = (folder / rel).resolve()
        if folder.resolve() not in target.parents:
            raise OutputError("refusing to write outside the episode folder", target)
        atomic_write_bytes(target, data)
