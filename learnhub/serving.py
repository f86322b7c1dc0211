"""The gunicorn worker LearnHub is served with: the one home of gunicorn in LearnHub.

`gunicorn --worker-class learnhub.serving.AnswersFirstWorker --threads N …` (docs/deploy.md). It
is gunicorn's threaded worker (gthread) with one change: an answer save does not queue behind
the other requests. A gthread worker hands each request to one pool of N threads, first come
first served, so when a class of a thousand starts its exam at one moment every worker's queue
fills with starts and attempt pages, and the answers that the learners who have started already
save wait their turn behind them: in bench B1, a p99 of 14–17 s for the saves sent during the
start burst, against 0.1–0.3 s for the rest of the exam. Here the answer saves have threads of
their own (ANSWER_THREADS a worker), so a save waits only for the saves before it, and shares
the processor with the requests in progress.

Which lane a request takes is read from its request line, peeked from the socket without
reading it (the request is then parsed as usual): `POST /attempts/<id>/items/<position>`, the
route of `learnhub.quizzes.views.save` (a test holds the two together). A connection whose first
bytes have not arrived when it is accepted waits for them in the worker's poller, as gunicorn
does with a connection it gave up waiting for, and is sorted when they come. Bytes that are not
a plain HTTP/1 request line (TLS, HTTP/2) go to the ordinary lane.
"""

import bisect
import gc
import re
import selectors
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, ThreadWorker

#: Threads each worker keeps for answer saves, besides gunicorn's --threads for the rest. A save
#: is a few milliseconds of work; two keep one save's wait for the database (SQLite's write
#: lock) from holding up the next, and few enough that the saves add few writers to the lock.
ANSWER_THREADS = 2

#: The request line of an answer save (quizzes.views.save), as far as the peek needs to read.
ANSWER_SAVE = re.compile(rb"POST /attempts/\d+/items/\d+[ ?]")

#: Enough bytes for the longest request line ANSWER_SAVE matches.
PEEK_BYTES = 64


def is_answer_save(head: bytes) -> bool:
    """Whether *head*, the first bytes of a request, starts an answer save."""
    return ANSWER_SAVE.match(head) is not None


def peek(sock: socket.socket) -> bytes | None:
    """The first bytes waiting on *sock*, left there to be read; None when nothing has arrived
    yet; b"" at the end of the stream, on a closed or reset socket, and on one that cannot be
    peeked (an SSL socket): the ordinary lane then handles it as gthread would."""
    try:
        return sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except (OSError, ValueError):
        return b""


class Lanes:
    """Two thread pools in place of gthread's one: *threads* for requests in general,
    ANSWER_THREADS for answer saves. gunicorn calls submit() and shutdown() on it."""

    def __init__(self, threads: int, answer_threads: int = ANSWER_THREADS) -> None:
        self.general = ThreadPoolExecutor(threads, thread_name_prefix="request")
        self.answers = ThreadPoolExecutor(answer_threads, thread_name_prefix="answer")

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self.general.submit(fn, *args, **kwargs)

    def submit_answer(self, fn, /, *args, **kwargs) -> Future:
        return self.answers.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.answers.shutdown(wait=wait, cancel_futures=cancel_futures)
        self.general.shutdown(wait=wait, cancel_futures=cancel_futures)


class AnswersFirstWorker(ThreadWorker):
    """gunicorn's gthread worker whose answer saves never wait behind other requests."""

    def get_thread_pool(self) -> Lanes:
        return Lanes(self.cfg.threads)

    def load_wsgi(self) -> None:
        """Load the app, then move every object alive at that moment (the app, its modules,
        templates and tables: some 220,000 in LearnHub) out of the cyclic garbage collector's
        sight (`gc.freeze`). They live as long as the worker, yet each full collection walked
        them all: 88 ms measured in-process, during which the worker's threads, its answer
        threads included, stand still; the requests' own garbage is collected as before."""
        super().load_wsgi()
        gc.freeze()

    def enqueue_req(self, conn) -> None:
        head = peek(conn.sock)
        if head is None and not conn.initialized and not conn.data_ready:
            self._await_request(conn)
            return
        if head and is_answer_save(head):
            future = self.tpool.submit_answer(self.handle, conn)
        else:
            future = self.tpool.submit(self.handle, conn)
        future.add_done_callback(
            lambda done: self.method_queue.defer(self.finish_request, conn, done)
        )

    def _await_request(self, conn) -> None:
        """A new connection whose request has not arrived: the poller waits for it (no thread
        held), then enqueue_req sorts it. It may wait as long as gthread lets a new connection
        wait in all (a thread's wait, then the poller's)."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT + self.cfg.keepalive
        # gthread closes the waiting connections in the order of this deque, oldest timeout
        # first: this one goes where its timeout falls.
        bisect.insort(self.pending_conns, conn, key=lambda waiting: waiting.timeout)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )
