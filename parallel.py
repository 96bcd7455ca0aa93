"""Training a convolutional network on every core: each batch is cut into parts that threads learn
from at once.

numpy lets go of Python's global lock while it computes, so threads that call numpy run on separate
cores. Each part of a batch goes through a replica of the network: the same weight arrays, but
buffers and gradients of its own. The parts' gradients, each weighted by its share of the batch,
add up to the batch's gradient.

The batch is always cut into the same PARTS, whatever the number of threads, and the parts'
gradients are added in the same order; meanwhile each matrix product runs on one BLAS thread (BLAS
adds a product up in an order that depends on its thread count). So a run gives the same numbers,
bit for bit, on one thread or many. On the idle 2-core machine, a CNN's batch of 128 takes about
18 ms this way against 23 ms with one part and two BLAS threads: the parts also fit the processor's
caches better, and none of the elementwise work waits for one core. A fully connected network's
batch is too small for that: handing its parts to the threads costs more than they win, and BLAS
threads serve it better (see train.py).

    learner = DataParallel(network, threads=2)
    cost, accuracy = nn.train_epoch(learner, optimizer, x, labels, 128, lambda batch: 0.001)
"""

import contextlib
import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

PARTS = 2  # each batch is cut in this many parts (more only pays on more cores, and changes the numbers)


class DataParallel:
    """network, learning from each batch in PARTS parts on up to `threads` threads (default: one per
    core). learn, predict, parameters and gradients work as the network's do; the gradients land in
    the network's own arrays, where the optimizer finds them."""

    def __init__(self, network, threads=None):
        self.network = network
        self.replicas = [network] + [network.replica() for _ in range(PARTS - 1)]
        self.threads = min(threads or os.cpu_count() or 1, PARTS)
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
        results = self.map(lambda replica, part: replica.learn(x[part], labels[part], (part.stop - part.start) / len(x)),
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
                return getattr(library, f"{prefix}_set_num_threads{suffix}"), getattr(library, f"{prefix}_get_num_threads{suffix}")
    return None


OPENBLAS = _openblas()


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
