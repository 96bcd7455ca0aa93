"""Learning on several threads: a batch's parts add up to its gradient, the numbers are the same bit
for bit on one thread or two, and a fully connected network goes on with the faster count."""

import numpy as np
import pytest

import nn
from support import model, parallel


def cnn(dropout=0.0, seed=0):
    return model.build([16], [4, 6], dropout=dropout, rng=np.random.default_rng(seed),
                       dropout_rng=np.random.default_rng(seed + 1))


def batch(size=37, seed=2):
    rng = np.random.default_rng(seed)
    return rng.random((size, 784), dtype=np.float32), rng.integers(0, 10, size)


def test_the_parts_add_up_to_the_whole_batchs_gradient():
    network, (x, labels) = cnn(), batch()
    whole_cost, whole_right = network.learn(x, labels)
    whole = [g.copy() for g in network.gradients()]
    cost, right = parallel.DataParallel(network, threads=2).learn(x, labels)
    assert right == whole_right and cost == pytest.approx(whole_cost, rel=1e-6)
    for parts, expected in zip(network.gradients(), whole):
        np.testing.assert_allclose(parts, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_one_thread_or_two_give_the_same_numbers_bit_for_bit(dropout):
    results = []
    for threads in (1, 2):
        network, (x, labels) = cnn(dropout), batch(128)
        learner = parallel.DataParallel(network, threads)
        optimizer = nn.Adam(network.parameters())
        nn.train_epoch(learner, optimizer, x, labels, 32, lambda batch: 0.01)
        results.append(([p.copy() for p in network.parameters()], learner.predict(batch(50, seed=3)[0])))
    (weights_1, predicted_1), (weights_2, predicted_2) = results
    for one, two in zip(weights_1, weights_2):
        np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(predicted_1, predicted_2)


def test_replicas_share_the_weights_but_not_the_gradients_or_the_dropout_masks():
    network = cnn(dropout=0.5)
    replica = network.replica()
    for mine, theirs in zip(network.parameters(), replica.parameters()):
        assert mine is theirs
    for mine, theirs in zip(network.gradients(), replica.gradients()):
        assert mine is not theirs
    x = np.ones((4, 16), np.float32)
    dropout, twin = network.layers[-2], replica.layers[-2]
    assert isinstance(dropout, nn.Dropout) and dropout.rng is not twin.rng
    assert not np.array_equal(dropout.forward(x, training=True), twin.forward(x, training=True))


@pytest.mark.parametrize("size", [1, 2, 3])
def test_batches_smaller_than_the_parts_and_odd_ones_are_learned_and_predicted(size):
    network, (x, labels) = cnn(), batch(size)
    cost, right = parallel.DataParallel(network, threads=2).learn(x, labels)
    assert np.isfinite(cost) and 0 <= right <= size
    assert parallel.DataParallel(network, threads=2).predict(x).shape == (size,)
    np.testing.assert_array_equal(parallel.DataParallel(network).predict(x), network.predict(x))


@pytest.mark.skipif(parallel.OPENBLAS is None, reason="numpy's BLAS here is not an OpenBLAS this program can find")
def test_blas_threads_sets_the_count_for_the_block_only():
    set_threads, get_threads = parallel.OPENBLAS
    before = get_threads()
    with parallel.blas_threads(1):
        assert get_threads() == 1
    assert get_threads() == before


needs_openblas = pytest.mark.skipif(parallel.OPENBLAS is None,
                                    reason="numpy's BLAS here is not an OpenBLAS this program can find")


@needs_openblas
@pytest.mark.parametrize("shape", [(256, 784, 512), (784, 256, 512), (256, 512, 784), (1000, 1000, 128),
                                   (96, 1600, 256), (7, 5000, 33)])
def test_matmul_gives_the_same_bits_on_one_blas_thread_and_two(shape):
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.random((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
    for left in (a, np.ascontiguousarray(a.T).T):
        products = []
        for threads in (1, 2):
            with parallel.blas_threads(threads):
                products.append(nn.matmul(left, b, np.empty((m, n), np.float32)))
        np.testing.assert_array_equal(*products)


@needs_openblas
def test_the_check_that_the_thread_count_cannot_change_the_numbers(monkeypatch):
    assert parallel.same_bits_on_any_thread_count()
    # Blocks longer than this OpenBLAS takes whole: one thread and two add them up differently.
    monkeypatch.setattr(nn, "INNER_BLOCK", 784)
    assert not parallel.same_bits_on_any_thread_count.__wrapped__()


def mlp(seed=0):
    # 500 > nn.INNER_BLOCK: the second layer's input gradient is a product that needs cutting too
    return nn.mlp([784, 64, 500, 10], rng=np.random.default_rng(seed))


@needs_openblas
def test_a_fully_connected_network_learns_the_same_bits_on_one_blas_thread_or_two():
    results = []
    for threads in (1, 2):
        network, (x, labels) = mlp(), batch(1200)
        learner = parallel.BlasThreads(network, threads)
        nn.train_epoch(learner, nn.Adam(network.parameters()), x, labels, 600, lambda batch: 0.01)
        results.append([p.copy() for p in network.parameters()] + [learner.predict(batch(50, seed=3)[0])])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


class Timed:
    """A stand-in network whose batches take `per_sample[threads]` seconds of a fake clock per sample,
    threads being BLAS's thread count while it learns."""

    def __init__(self, per_sample):
        self.per_sample, self.now, self.batches = per_sample, 0.0, {1: 0, 2: 0}

    def clock(self):
        return self.now

    def learn(self, x, labels):
        threads = parallel.OPENBLAS[1]()
        self.batches[threads] += 1
        self.now += len(x) * self.per_sample[threads]
        return 0.0, 0

    def predict(self, x):
        return np.full(len(x), parallel.OPENBLAS[1]())  # the thread count, to see it


def learn_for(learner, network, seconds):
    """Learn batches of 256 for `seconds` of the fake clock; the share of them on one thread."""
    before, end = dict(network.batches), network.now + seconds
    while network.now < end:
        learner.learn(np.zeros((256, 1)), np.zeros(256))
    batches = {threads: network.batches[threads] - before[threads] for threads in (1, 2)}
    return batches[1] / (batches[1] + batches[2])


@needs_openblas
def test_without_a_thread_count_the_faster_one_goes_on_as_the_load_changes():
    idle, busy = {1: 2e-5, 2: 1e-5}, {1: 2e-5, 2: 5e-5}  # seconds per sample, as measured here (README)
    network = Timed(dict(idle))
    with parallel.blas_threads(2):  # what OpenBLAS starts with on two cores
        learner = parallel.BlasThreads(network, clock=network.clock)
    assert learner.adaptive
    assert learn_for(learner, network, 20) < 0.01 and learner.threads == 2  # a trial now and then
    network.per_sample = busy
    assert learn_for(learner, network, 20) > 0.9 and learner.threads == 1
    assert learner.predict(np.zeros((5, 1))).tolist() == [1] * 5  # evaluation follows the choice
    network.per_sample = idle
    assert learn_for(learner, network, 20) < 0.2 and learner.threads == 2


@needs_openblas
def test_a_thread_count_given_is_kept_whatever_the_speed():
    network = Timed({1: 1e-5, 2: 5e-5})
    learner = parallel.BlasThreads(network, threads=2, clock=network.clock)
    assert learn_for(learner, network, 20) == 0 and learner.threads == 2


@needs_openblas
def test_without_a_thread_count_the_blas_count_is_the_most_so_openblas_num_threads_1_means_one():
    with parallel.blas_threads(1):
        learner, data_parallel = parallel.BlasThreads(mlp()), parallel.DataParallel(cnn())
    assert learner.threads == 1 and not learner.adaptive and data_parallel.threads == 1
    with parallel.blas_threads(2):
        learner, data_parallel = parallel.BlasThreads(mlp()), parallel.DataParallel(cnn())
    assert learner.threads == 2 and learner.adaptive and data_parallel.threads == 2
