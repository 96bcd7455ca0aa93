"""Training on several cores: how many threads, and a convolutional network's batches cut in parts.

How many: numpy's matrix products run on the threads of its BLAS (OpenBLAS), one per core by
default. BLAS shares every product out among its threads and waits for the slowest, so when another
program keeps a core busy, two threads run slower than one. For a fully connected network,
choose_threads looks once, at the start of a run, at how many cores are idle, and train.py shows
the count it chose in its flags line: the same flags, --threads included, give the same numbers,
bit for bit.

A convolutional network (DataParallel): each batch is cut into PARTS parts that threads learn from
at once. numpy lets go of Python's global lock while it computes, so threads that call numpy run on
separate cores. Each part goes through a replica of the network: the same weight arrays, but
buffers and gradients of its own; the parts' gradients, each weighted by its share of the batch,
add up to the batch's gradient. The batch is always cut into the same parts and their gradients are
added in the same order, and each product runs on one BLAS thread, so a convolutional network's
numbers are the same on any number of threads. On the idle 2-core machine a CNN's batch of 128 took
about 18 ms this way against 23 ms with one part on two BLAS threads: the parts also fit the
processor's caches better, and none of the elementwise work waits for one core.

    threads = choose_threads(is_convolutional(network))
    learner = learner(network, threads)    # a DataParallel, or the network itself
    cost, accuracy = nn.train_epoch(learner, optimizer, x, labels, 128, lambda batch: 0.001)
"""

import contextlib
import copy
import ctypes
import functools
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import conv
import nn

PARTS = 2  # each batch is cut in this many parts (more only pays on more cores, and changes the numbers)
# Each replica classifies this many images at a time: as many as it learns from in a training batch
# of 256, so that both use the same memory (nn.Layer.buffer); a convolution's buffers for 500 images
# would take a hundred MB more per replica, and fresh memory is slow to touch.
PREDICTION_BATCH = 128
# A core counts as busy when another program used more than this share of it while choose_threads looked.
BUSY = 0.5
LOOK_SECONDS = 0.1


def learner(network, threads):
    """What learns from the batches: a DataParallel of a convolutional network, else the network
    itself, its products on `threads` BLAS threads from now on."""
    if is_convolutional(network):
        return DataParallel(network, threads)
    set_blas_threads(threads)
    return network


class DataParallel:
    """network, learning from each batch in PARTS parts on up to `threads` threads. learn, predict,
    parameters and gradients work as the network's do; the gradients land in the network's own
    arrays, where the optimizer finds them."""

    def __init__(self, network, threads):
        self.network = network
        self.replicas = [network] + [replica(network) for _ in range(PARTS - 1)]
        self.threads = min(threads, PARTS)
        self.pool = ThreadPoolExecutor(self.threads - 1) if self.threads > 1 else None

    def map(self, function, *arguments):
        """[function(*a) for a in zip(*arguments)], on the threads (this one takes the first), each
        matrix product on one BLAS thread."""
        calls = list(zip(*arguments))
        errors = np.geterr()  # numpy's handling of overflow is per thread: the others take this one's

        def in_this_errstate(*call):
            with np.errstate(**errors):
                return function(*call)

        with blas_threads(1):
            if not self.pool:
                return [function(*call) for call in calls]
            others = [self.pool.submit(in_this_errstate, *call) for call in calls[1:]]
            return [function(*calls[0])] + [other.result() for other in others]

    def learn(self, x, labels):
        """What nn.Network.learn does, for the whole batch x (batch, inputs) with its labels (batch,),
        each part on its own replica. Returns (the batch's mean cost, the number classified right)."""
        bounds = np.linspace(0, len(x), min(PARTS, len(x)) + 1).astype(int)
        parts = [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
        replicas = self.replicas[: len(parts)]
        results = self.map(lambda network, part: learn_share(network, x[part], labels[part], len(x)), replicas, parts)
        for total, *others in zip(*(network.gradients() for network in replicas)):
            for other in others:
                total += other
        cost = sum(part_cost * (part.stop - part.start) for (part_cost, _), part in zip(results, parts)) / len(x)
        return cost, sum(correct for _, correct in results)

    def predict(self, x):
        """The network's predictions for x (N, inputs), each part of x on its own replica, PREDICTION_BATCH
        images at a time."""
        parts = np.array_split(x, min(PARTS, max(len(x), 1)))
        return np.concatenate(self.map(lambda network, part: network.predict(part, PREDICTION_BATCH), self.replicas,
                                       parts))

    def parameters(self):
        return self.network.parameters()

    def gradients(self):
        return self.network.gradients()


def learn_share(network, x, labels, batch_size):
    """What network.learn does for part x of a batch of batch_size samples, but with the gradient of
    the part's share of the batch's mean cost, so that the parts' gradients add up to the batch's.
    Returns (the part's mean cost, the number of its samples classified right)."""
    logits = network.forward(x, training=True)
    correct = np.count_nonzero(logits.argmax(axis=1) == labels)
    cost, grad_logits = network.cost(logits, labels)
    grad_logits *= len(x) / batch_size
    network.backward(grad_logits)
    return cost, correct


def replica(network):
    """A network that shares `network`'s weight arrays, with buffers and gradients of its own, and a
    dropout generator of its own, split off the network's."""
    layers = []
    for layer in network.layers:
        twin = copy.copy(layer)
        twin.buffers = {}
        if layer.parameters():  # the layers with parameters keep their gradients in these two
            twin.grad_weights, twin.grad_bias = np.zeros_like(layer.grad_weights), np.zeros_like(layer.grad_bias)
        layers.append(twin)
    twin = nn.Network(layers, network.loss)
    dropouts = [layer for layer in twin.layers if isinstance(layer, nn.Dropout)]
    if dropouts:
        rng = dropouts[0].rng.spawn(1)[0]
        for layer in dropouts:
            layer.rng = rng
    return twin


def choose_threads(convolutional):
    """How many threads to train a network on when not told. A convolutional one: default_threads(),
    as its threads wait for each other once a batch, not in every product, and a busy core delays
    them little. A fully connected one: one per core that no other program keeps busy, at least one,
    at most default_threads()."""
    if convolutional:
        return default_threads()
    return max(1, min(default_threads(), (os.cpu_count() or 1) - busy_cores()))


def is_convolutional(network):
    """Whether the network has a convolution: then DataParallel learns from its batches."""
    return any(isinstance(layer, conv.Conv2D) for layer in network.layers)


@functools.cache
def default_threads():
    """How many threads numpy's BLAS ran each product on when first asked: one per core, unless
    OPENBLAS_NUM_THREADS or OMP_NUM_THREADS said otherwise."""
    return blas_thread_count()


def busy_cores(seconds=LOOK_SECONDS):
    """How many cores other programs keep busy, counted from the kernel's CPU time over `seconds`
    (Linux's /proc/stat; 0 where it cannot be read). This process sleeps meanwhile, so it is not
    counted."""
    try:
        before = _cpu_times()
        time.sleep(seconds)
        after = _cpu_times()
    except (OSError, ValueError, IndexError):
        return 0
    busy = [1 - (idle1 - idle0) / max(total1 - total0, 1) for (idle0, total0), (idle1, total1) in zip(before, after)]
    return sum(share > BUSY for share in busy)


def _cpu_times():
    """(idle, total) clock ticks of each core since boot, from /proc/stat's cpuN lines."""
    with open("/proc/stat") as stat:
        cores = [line.split() for line in stat if line.startswith("cpu") and line[3].isdigit()]
    # The fields are user, nice, system, idle, iowait, irq, softirq, steal, ...: idle and iowait are idle.
    return [(int(fields[4]) + int(fields[5]), sum(map(int, fields[1:9]))) for fields in cores]


@functools.cache
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


def blas_thread_count():
    """How many threads numpy's BLAS runs each product on now (one per core, unless
    OPENBLAS_NUM_THREADS or OMP_NUM_THREADS said otherwise; the core count without an OpenBLAS)."""
    return _openblas()[1]() if _openblas() else os.cpu_count() or 1


def set_blas_threads(count):
    """From now on, numpy's BLAS runs each matrix product on `count` threads (if it is an OpenBLAS:
    with another BLAS, this changes nothing)."""
    if _openblas():
        _openblas()[0](count)


@contextlib.contextmanager
def blas_threads(count):
    """Within the block, numpy's BLAS runs each matrix product on `count` threads."""
    before = blas_thread_count()
    set_blas_threads(count)
    try:
        yield
    finally:
        set_blas_threads(before)
