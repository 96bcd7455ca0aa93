"""Learning from a batch in parts on several threads: the batch's gradient, and the same numbers bit
for bit with one thread or two."""

import numpy as np
import pytest

import model
import nn
import parallel


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
