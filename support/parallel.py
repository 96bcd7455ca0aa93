"""Training on every core, and on fewer when another program needs one.

A convolutional network (DataParallel): each batch is cut into parts that threads learn from at
once. numpy lets go of Python's global lock while it computes, so threads that call numpy run on
separate cores. Each part of a batch goes through a replica of the network: the same weight arrays,
but buffers and gradients of its own. The parts' gradients, each weighted by its share of the batch,
add up to the batch's gradient. The batch is always cut into the same PARTS, whatever the number of
threads, and the parts' gradients are added in the same order; meanwhile each matrix product runs on
one BLAS thread. So a run gives the same numbers, bit for bit, on one thread or many. On the idle
2-core machine, a CNN's batch of 128 takes about 18 ms this way against 23 ms with one part and two
BLAS threads: the parts also fit the processor's caches better, and none of the elementwise work
waits for one core.

A fully connected network (BlasThreads): its batch is too small for that (handing the threads its
parts costs more than they win), and BLAS's own threads serve it better, each product shared out
among them. But BLAS waits for the slowest of its threads in every product, so when another program
keeps one of the cores busy, two threads run slower than one. BlasThreads keeps timing both and uses
the faster. nn.matmul makes the products' bits the same on any number of threads, so the choice
changes only the speed.

    learner = DataParallel(network, threads=2)    # or BlasThreads(network) for a fully connected one
    cost, accuracy = nn.train_epoch(learner, optimizer, x, labels, 128, lambda batch: 0.001)
"""

import collections
import contextlib
import ctypes
import functools
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import conv
import nn

PARTS = 2  # each batch is cut in this many parts (more only pays on more cores, and changes the numbers)


class DataParallel:
    """network, learning from each batch in PARTS parts on up to `threads` threads (default:
    default_threads()). learn, predict, parameters and gradients work as the network's do; the gradients land in
    the network's own arrays, where the optimizer finds them."""

    def __init__(self, network, threads=None):
        self.network = network
        self.replicas = [network] + [network.replica() for _ in range(PARTS - 1)]
        self.threads = min(threads or default_threads(), PARTS)
        self.pool = ThreadPoolExecutor(self.threads - 1) if self.threads > 1 else None

    def map(self, function, *arguments):
        """[function(*a) for a in zip(*arguments)], on the threads (this one takes the first), each
        matrix product on one BLAS thread."""
        calls = list(zip(*arguments))
        with blas_threads(1):
            if not self.pool:
                return [function(*call) for call in calls]
            others = [self.pool.submit(function, *call) for call in calls[1:]]
            return [function(*calls[0])] + [other.result() for other in others]

    def learn(self, x, labels):
        """What nn.Network.learn does, for the whole batch x (batch, inputs) with its labels (batch,),
        each part on its own replica. Returns (the batch's mean cost, the number classified right)."""
        bounds = np.linspace(0, len(x), min(PARTS, len(x)) + 1).astype(int)
        parts = [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
        replicas = self.replicas[: len(parts)]

        def share(part):
            return (part.stop - part.start) / len(x)

        results = self.map(lambda replica, part: replica.learn(x[part], labels[part], share(part)),
                           replicas, parts)
        for total, *others in zip(*(replica.gradients() for replica in replicas)):
            for other in others:
                total += other
        cost = sum(part_cost * (part.stop - part.start) for (part_cost, _), part in zip(results, parts)) / len(x)
        return cost, sum(correct for _, correct in results)

    def predict(self, x):
        """The network's predictions for x (N, inputs), each part of x on its own replica."""
        parts = np.array_split(x, min(PARTS, max(len(x), 1)))
        return np.concatenate(self.map(lambda replica, part: replica.predict(part), self.replicas, parts))

    def parameters(self):
        return self.network.parameters()

    def gradients(self):
        return self.network.gradients()


class BlasThreads:
    """network, running its matrix products on `threads` BLAS threads; with threads=None, on
    default_threads() or on one, whichever is faster at the moment: every TRIAL_SECONDS, the next
    TRIAL_BATCHES batches run on the other count, and the faster of the two (by its median seconds
    per sample over its last TRIAL_BATCHES batches) goes on. learn, predict, parameters and
    gradients work as the network's do. clock: seconds, for the tests."""

    TRIAL_SECONDS = 2.0
    TRIAL_BATCHES = 3

    def __init__(self, network, threads=None, clock=time.perf_counter):
        self.network, self.clock = network, clock
        # Choosing is safe only where the choice cannot change the numbers.
        self.adaptive = threads is None and default_threads() > 1 and same_bits_on_any_thread_count()
        self.threads, self.other = threads or default_threads(), 1
        self.seconds = {count: collections.deque(maxlen=self.TRIAL_BATCHES) for count in (self.threads, self.other)}
        self.trial_left, self.next_trial = 0, -float("inf")

    def learn(self, x, labels):
        """What nn.Network.learn does, on the threads chosen for this batch."""
        threads = self.other if self.trial_left else self.threads
        start = self.clock()
        with blas_threads(threads):
            result = self.network.learn(x, labels)
        if self.adaptive:
            self.timed(threads, (self.clock() - start) / len(x))
        return result

    def timed(self, threads, seconds):
        """Note that a batch took `seconds` per sample on `threads` threads; start or end a trial."""
        self.seconds[threads].append(seconds)
        if self.trial_left:
            self.trial_left -= 1
            if not self.trial_left:
                if statistics.median(self.seconds[self.other]) < statistics.median(self.seconds[self.threads]):
                    self.threads, self.other = self.other, self.threads
                self.next_trial = self.clock() + self.TRIAL_SECONDS
        elif self.clock() >= self.next_trial and len(self.seconds[threads]) == self.TRIAL_BATCHES:
            self.trial_left = self.TRIAL_BATCHES  # which replaces all the other count's old times

    def predict(self, x):
        """The network's predictions for x (N, inputs), on the threads chosen last."""
        with blas_threads(self.threads):
            return self.network.predict(x)

    def parameters(self):
        return self.network.parameters()

    def gradients(self):
        return self.network.gradients()


def _openblas():
    """The (set, get) thread-count functions of the OpenBLAS that numpy loaded, or None. numpy has no
    call for this; the library is found among the files this process has mapped (Linux), under the
    names of numpy's own wheels (scipy_openblas, 64-bit) or of a system OpenBLAS."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return None
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "")):
            if hasattr(library, f"{prefix}_set_num_threads{suffix}"):
                return (getattr(library, f"{prefix}_set_num_threads{suffix}"),
                        getattr(library, f"{prefix}_get_num_threads{suffix}"))
    return None


OPENBLAS = _openblas()


def default_threads():
    """How many threads to train on when not told: as many as numpy's BLAS runs on (one per core,
    unless OPENBLAS_NUM_THREADS or OMP_NUM_THREADS says otherwise)."""
    return OPENBLAS[1]() if OPENBLAS else os.cpu_count() or 1


@contextlib.contextmanager
def blas_threads(count):
    """Within the block, numpy's BLAS runs each matrix product on `count` threads (if it is an
    OpenBLAS: with another BLAS, the block changes nothing)."""
    if OPENBLAS is None:
        yield
        return
    set_threads, get_threads = OPENBLAS
    before = get_threads()
    set_threads(count)
    try:
        yield
    finally:
        set_threads(before)


@functools.cache
def same_bits_on_any_thread_count():
    """Whether nn.matmul's products come out the same, bit for bit, on one BLAS thread and on
    default_threads(). They do when BLAS adds up an inner dimension of nn.INNER_BLOCK in one piece, as this
    project's OpenBLAS does; this tries it once, in the three layouts nn.Dense uses, on products
    large enough for BLAS to share out. False without an OpenBLAS (no thread count to set)."""
    if OPENBLAS is None:
        return False
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, nn.INNER_BLOCK), dtype=np.float32)
    b = rng.standard_normal((nn.INNER_BLOCK, 512), dtype=np.float32)
    for left, right in ((a, b), (np.ascontiguousarray(a.T).T, b), (a, np.ascontiguousarray(b.T).T)):
        products = []
        for threads in (1, default_threads()):
            with blas_threads(threads):
                products.append(nn.matmul(left, right, np.empty((256, 512), np.float32)))
        if not np.array_equal(*products):
            return False
    return True


# The interface train.py calls (the lead's rewrite of this module brings the full versions; these are
# the minimal ones that let the train branch run until then).


def choose_threads():
    """How many threads a run trains on when --threads is not given, decided once at its start:
    here, as many as numpy's BLAS runs on (default_threads())."""
    return default_threads()


def learner(network, threads):
    """What learns from the batches of `network` on `threads` threads: a DataParallel for a
    convolutional network, else the network on `threads` BLAS threads (BlasThreads). Either has
    learn(x, labels), predict(x), parameters() and gradients(); a DataParallel also .replicas."""
    convolutional = any(isinstance(layer, conv.Conv2D) for layer in network.layers)
    return DataParallel(network, threads) if convolutional else BlasThreads(network, threads)
