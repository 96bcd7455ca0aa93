"""Learning on several threads: a batch's parts add up to its gradient, a convolutional network's
numbers are the same bit for bit on one thread or two, and the thread count is chosen from the idle
cores."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import nn
from conftest import ROOT
from support import model, parallel


def cnn(dropout=0.0, seed=0, batch_norm=False):
    return model.build([16], [4, 6], dropout=dropout, rng=np.random.default_rng(seed),
                       dropout_rng=np.random.default_rng(seed + 1), batch_norm=batch_norm)


def batch(size=37, seed=2):
    rng = np.random.default_rng(seed)
    return rng.random((size, 784), dtype=np.float32), rng.integers(0, 10, size)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_the_parts_add_up_to_the_whole_batchs_gradient(smoothing):
    network, (x, labels) = cnn(), batch()
    network.label_smoothing = smoothing  # which each part learns with
    whole_cost, whole_right = network.learn(x, labels)
    whole = [g.copy() for g in network.gradients()]
    cost, right = parallel.DataParallel(network, threads=2).learn(x, labels)
    assert right == whole_right and cost == pytest.approx(whole_cost, rel=1e-6)
    for parts, expected in zip(network.gradients(), whole):
        np.testing.assert_allclose(parts, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dropout, batch_norm", [(0.0, False), (0.3, False), (0.3, True)])
def test_one_thread_or_two_give_the_same_numbers_bit_for_bit(dropout, batch_norm):
    results = []
    for threads in (1, 2):
        network, (x, labels) = cnn(dropout, batch_norm=batch_norm), batch(128)
        learner = parallel.DataParallel(network, threads)
        optimizer = nn.Adam(network.parameters())
        nn.train_epoch(learner, optimizer, x, labels, 32, lambda batch: 0.01)
        results.append(([p.copy() for p in network.parameters() + network.statistics()],
                        learner.predict(batch(50, seed=3)[0])))
    (weights_1, predicted_1), (weights_2, predicted_2) = results
    for one, two in zip(weights_1, weights_2):
        np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(predicted_1, predicted_2)


def test_with_batch_norm_each_part_is_normalised_alone_and_the_running_statistics_are_the_whole_batchs():
    """As PyTorch's DataParallel: the gradients are those of each part learned on its own, with its
    own mean and variance. But the running statistics move once, by the whole batch's statistics
    (those of the first normalisation are the whole batch's without parts, the later ones' inputs
    already differ), and not by each part's in turn."""
    (x, labels), parts = batch(), (slice(0, 18), slice(18, 37))  # parallel.PARTS = 2 halves of 37
    alone = [cnn(batch_norm=True) for _ in parts]
    for network, part in zip(alone, parts):
        parallel.learn_share(network, x[part], labels[part], len(x))
    expected = cnn(batch_norm=True)
    for layer, *twins in zip(*map(parallel.batch_norms, [expected, *alone])):
        layer.update_running(*parallel.whole_batch([twin.statistics_seen for twin in twins]))
    whole = cnn(batch_norm=True)
    whole.learn(x, labels)
    network = cnn(batch_norm=True)
    parallel.DataParallel(network, threads=2).learn(x, labels)
    for parts_gradient, *part_alone in zip(network.gradients(), *(each.gradients() for each in alone)):
        np.testing.assert_allclose(parts_gradient, sum(part_alone), rtol=1e-5, atol=1e-7)
    assert not np.allclose(network.gradients()[0], whole.gradients()[0], rtol=1e-3)  # not the whole batch's
    for mine, theirs in zip(network.statistics(), expected.statistics()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)
    for mine, theirs in zip(network.statistics()[:2], whole.statistics()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)
    assert not np.array_equal(network.statistics()[1], cnn(batch_norm=True).statistics()[1])  # they moved


def test_the_statistics_of_a_batchs_parts_make_the_whole_batchs():
    values = np.random.default_rng(0).normal(size=(11, 3)) * 4 + 1
    parts = [(len(part), part.mean(axis=0), part.var(axis=0)) for part in (values[:4], values[4:5], values[5:])]
    count, mean, variance = parallel.whole_batch(parts)
    assert count == 11
    np.testing.assert_allclose(mean, values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(variance, values.var(axis=0), rtol=1e-12)


def test_replicas_share_the_weights_but_not_the_gradients_or_the_dropout_masks():
    network = cnn(dropout=0.5)
    replica = parallel.replica(network)
    for mine, theirs in zip(network.parameters(), replica.parameters()):
        assert mine is theirs
    for mine, theirs in zip(network.gradients(), replica.gradients()):
        assert mine is not theirs
    x = np.ones((4, 16), np.float32)
    dropout, twin = network.layers[-2], replica.layers[-2]
    assert isinstance(dropout, nn.Dropout) and dropout.rng is not twin.rng
    assert not np.array_equal(dropout.forward(x, training=True), twin.forward(x, training=True))


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_batches_smaller_than_the_parts_and_odd_ones_are_learned_and_predicted(size, batch_norm):
    network, (x, labels) = cnn(batch_norm=batch_norm), batch(size)
    cost, right = parallel.DataParallel(network, threads=2).learn(x, labels)
    assert np.isfinite(cost) and 0 <= right <= size
    assert parallel.DataParallel(network, threads=2).predict(x).shape == (size,)
    np.testing.assert_array_equal(parallel.DataParallel(network, 1).predict(x), network.predict(x))


needs_openblas = pytest.mark.skipif(parallel._openblas() is None,
                                    reason="numpy's BLAS here is not an OpenBLAS this program can find")


@needs_openblas
def test_blas_threads_sets_the_count_for_the_block_only():
    before = parallel.blas_thread_count()
    with parallel.blas_threads(1):
        assert parallel.blas_thread_count() == 1
    assert parallel.blas_thread_count() == before


def mlp(seed=0):
    return nn.mlp([784, 64, 500, 10], rng=np.random.default_rng(seed))


def test_a_fully_connected_network_learns_itself_on_the_threads_asked_for():
    network = mlp()
    with parallel.blas_threads(parallel.default_threads()):
        assert parallel.learner(network, 1) is network
        if parallel._openblas():
            assert parallel.blas_thread_count() == 1
    assert isinstance(parallel.learner(cnn(), 2), parallel.DataParallel)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_same_seed_and_threads_give_the_same_bits(threads):
    results = []
    with parallel.blas_threads(parallel.default_threads()):
        for _ in range(2):
            network, (x, labels) = mlp(), batch(1200)
            learner = parallel.learner(network, threads)
            nn.train_epoch(learner, nn.Adam(network.parameters()), x, labels, 600, lambda batch: 0.01)
            results.append([p.copy() for p in network.parameters()])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("busy, chosen", [([0.0, 0.1], 2), ([0.9, 0.2], 1), ([0.95, 0.9], 1)])
def test_the_threads_chosen_are_the_idle_cores_and_at_least_one(monkeypatch, busy, chosen):
    """busy: the share of each of two cores that other programs used while choose_threads looked."""
    samples = iter([[(0, 0), (0, 0)], [(round(100 * (1 - share)), 100) for share in busy]])
    monkeypatch.setattr(parallel, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(parallel, "default_threads", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert parallel.choose_threads(convolutional=False) == chosen
    assert parallel.choose_threads(convolutional=True) == 2  # its threads wait once a batch, not in every product


def test_the_threads_chosen_are_never_more_than_blas_runs_on(monkeypatch):
    monkeypatch.setattr(parallel, "busy_cores", lambda: 0)
    monkeypatch.setattr(parallel, "default_threads", lambda: 1)
    assert parallel.choose_threads(convolutional=False) == parallel.choose_threads(convolutional=True) == 1


def test_a_core_kept_busy_by_another_program_is_seen_busy():
    spin = "import time\nend = time.time() + 5\nwhile time.time() < end: pass"
    spinner = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.3)  # the spinner is running
        assert parallel.busy_cores() >= 1
    finally:
        spinner.kill()
        spinner.wait()


def test_where_the_cores_cannot_be_read_none_counts_as_busy(monkeypatch):
    def unreadable():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(parallel, "_cpu_times", unreadable)
    assert parallel.busy_cores() == 0


@needs_openblas
def test_openblas_num_threads_1_means_one_thread():
    command = "from support import parallel; print(parallel.choose_threads(convolutional=False))"
    result = subprocess.run([sys.executable, "-c", command], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.stdout == "1\n"
