"""A bounded pool of worker threads for running requests.

The standard library has ``concurrent.futures.ThreadPoolExecutor``, but importing it costs
more than this whole module, its queue is unbounded, and mcplite never needs a Future
back: a job writes its own response.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, List, Optional

from .logs import LazyLogger

_workers_log = LazyLogger("mcplite.workers")


class WorkerPool:
    """Runs jobs on at most ``max_workers`` daemon threads, started as load requires.

    ``submit`` refuses (returns False) once ``max_queued`` jobs are waiting, so a flood of
    requests gets a quick error instead of growing memory without bound.

    A job may return a *tail*: a callable run after the worker has been counted idle again.
    Writing the response is such a tail. The client can send its next request the moment
    it reads the response, often before the worker has looped back; without tails that
    request would find no idle worker and start a needless thread (and a sequential client
    would pay a thread hand-off more per call).
    """

    def __init__(self, max_workers: int = 16, max_queued: int = 1024, name: str = "mcplite-worker") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self.max_queued = max_queued
        self._name = name
        self._queue = queue.SimpleQueue()  # type: queue.SimpleQueue
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._threads = []  # type: List[threading.Thread]
        self._idle = 0  # threads free for a new job
        self._waiting = 0  # jobs queued, not yet picked up
        self._unfinished = 0  # jobs picked up whose work or tail has not ended
        self._closed = False

    def submit(self, job: Callable[[], Optional[Callable[[], None]]]) -> bool:
        with self._lock:
            if self._closed or self._waiting >= self.max_queued:
                return False
            self._waiting += 1
            if self._idle < self._waiting and len(self._threads) < self.max_workers:
                thread = threading.Thread(target=self._work, name="%s-%d" % (self._name, len(self._threads) + 1))
                thread.daemon = True
                self._threads.append(thread)
                self._idle += 1  # counted from now, so the next submit does not start another
                thread.start()
        self._queue.put(job)
        return True

    def _work(self) -> None:
        get = self._queue.get
        lock = self._lock
        while True:
            job = get()
            with lock:
                self._idle -= 1
                if job is None:
                    return
                self._waiting -= 1
                self._unfinished += 1
            tail = None
            try:
                tail = job()
            except BaseException:  # a job must never take its worker down with it
                _workers_log.exception("worker job failed")
            with lock:
                self._idle += 1
            try:
                if tail is not None:
                    tail()
            except BaseException:
                _workers_log.exception("worker job failed")
            finally:
                with lock:
                    self._unfinished -= 1
                    if self._unfinished == 0 and self._waiting == 0:
                        self._settled.notify_all()

    def shutdown(self, timeout: Optional[float] = None) -> bool:
        """Refuse new jobs, wait up to ``timeout`` seconds for queued and running ones, and
        let the threads end. True when everything finished in time."""
        with self._lock:
            self._closed = True
            done = self._settled.wait_for(lambda: self._unfinished == 0 and self._waiting == 0, timeout)
            count = len(self._threads)
        for _ in range(count):
            self._queue.put(None)
        return done
