"""The network's mathematics: gradients against finite differences, stability, optimizers, seeds."""

import functools
import math
import warnings

import numpy as np
import pytest

import nn

STEP = 1e-6  # central differences in float64: truncation ~STEP^2, rounding ~1e-16 / STEP


def small_network(activation, loss, seed=0, sizes=(6, 5, 4, 3)):
    return nn.mlp(list(sizes), activation, loss, np.random.default_rng(seed), dtype=np.float64)


def small_batch(seed=1, batch=7, inputs=6, classes=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, inputs)), rng.integers(0, classes, batch)


def analytic_gradients(network, x, labels):
    """Backpropagation's gradients for weights and biases (copies) and for the input."""
    _, grad_logits = network.cost(network.forward(x), labels)
    grad_x = network.backward(grad_logits, need_input_grad=True).copy()
    return [g.copy() for g in network.gradients()], grad_x


def numeric_gradient(cost_of, array):
    """d cost / d array by central differences, one element at a time (array is perturbed in place)."""
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        saved = array[i]
        array[i] = saved + STEP
        up = cost_of()
        array[i] = saved - STEP
        down = cost_of()
        array[i] = saved
        grad[i] = (up - down) / (2 * STEP)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


@pytest.mark.parametrize("loss", nn.LOSSES)
@pytest.mark.parametrize("activation", ["sigmoid", "relu", "leaky-relu", "tanh"])
def test_gradients_match_finite_differences(activation, loss):
    network = small_network(activation, loss)
    x, labels = small_batch()
    # Logits of both signs, so that ReLU outputs ("mse-relu") are checked where they pass the gradient and where not.
    network.layers[-1].bias -= network.forward(x).mean(axis=0)
    network.forward(x)
    # ReLU's kink at 0 would break the finite difference; this seed keeps every unit well away from it.
    pre_activations = [layer.input @ layer.weights + layer.bias for layer in network.layers]
    assert min(np.abs(z).min() for z in pre_activations) > 1e3 * STEP
    assert (pre_activations[-1] > 0).any() and (pre_activations[-1] < 0).any()

    def cost():
        return network.cost(network.forward(x), labels)[0]

    grads, grad_x = analytic_gradients(network, x, labels)
    for parameter, grad in zip(network.parameters(), grads):
        assert relative_error(grad, numeric_gradient(cost, parameter)) < 1e-6
    assert relative_error(grad_x, numeric_gradient(cost, x)) < 1e-6


def test_gradient_of_a_network_without_hidden_layers():
    network = small_network("relu", "cross-entropy", sizes=(6, 3))
    x, labels = small_batch()
    grads, grad_x = analytic_gradients(network, x, labels)
    cost = lambda: network.cost(network.forward(x), labels)[0]  # noqa: E731
    assert relative_error(grads[0], numeric_gradient(cost, network.layers[0].weights)) < 1e-6
    assert relative_error(grads[1], numeric_gradient(cost, network.layers[0].bias)) < 1e-6
    assert relative_error(grad_x, numeric_gradient(cost, x)) < 1e-6


def parameter_gradients_as_training_computes_them(network, x, labels):
    """The gradients after network.backward as train_epoch calls it: no input gradient (it would cost
    as much as the first layer's forward product, for nothing), so the first layer takes its
    shortcut; they must equal those of the full backward pass."""
    _, grad_logits = network.cost(network.forward(x, training=True), labels)
    for g in network.gradients():
        g[...] = np.nan  # whatever a gradient array is not written holds
    assert network.backward(grad_logits) is None
    return [g.copy() for g in network.gradients()]


@pytest.mark.parametrize("sizes", [(6, 5, 4, 3), (6, 3)])
def test_training_backward_fills_every_gradient_including_the_first_layers(sizes):
    network = small_network("tanh", "cross-entropy", sizes=sizes)
    x, labels = small_batch()
    training = parameter_gradients_as_training_computes_them(network, x, labels)
    full, _ = analytic_gradients(network, x, labels)
    for a, b in zip(training, full):
        np.testing.assert_array_equal(a, b)


def test_batch_gradient_is_the_mean_of_per_sample_gradients():
    network = small_network("tanh", "cross-entropy")
    x, labels = small_batch()
    batch_grads, _ = analytic_gradients(network, x, labels)
    per_sample = [analytic_gradients(network, x[i : i + 1], labels[i : i + 1])[0] for i in range(len(x))]
    for k, grad in enumerate(batch_grads):
        np.testing.assert_allclose(grad, np.mean([sample[k] for sample in per_sample], axis=0), rtol=1e-10, atol=1e-12)


def test_costs_and_gradients_pinned_by_hand():
    """Values worked out on paper, so that a cost scaled together with its gradient would show
    (the finite-difference checks cannot see that)."""
    logits, labels = np.array([[0.0, 0.0], [0.0, math.log(3)]]), np.array([0, 1])
    # Sigmoid outputs: (1/2, 1/2) and (1/2, 3/4); squared distances to the targets: 1/2 and 5/16.
    cost, grad = nn.quadratic(logits, labels)
    assert cost == pytest.approx((0.5 + 5 / 16) / 2 / 2)
    # (a - y) a (1 - a) / batch: (-1/2 * 1/4, 1/2 * 1/4) / 2 and (1/2 * 1/4, -1/4 * 3/16) / 2
    np.testing.assert_allclose(grad, [[-1 / 16, 1 / 16], [1 / 16, -3 / 128]], rtol=1e-12)
    # Softmax: (1/2, 1/2) and (1/4, 3/4); cost -log(1/2) and -log(3/4), gradient (p - y) / batch.
    cost, grad = nn.cross_entropy(logits, labels)
    assert cost == pytest.approx((math.log(2) + math.log(4 / 3)) / 2)
    np.testing.assert_allclose(grad, [[-1 / 4, 1 / 4], [1 / 8, -1 / 8]], rtol=1e-12)


def test_softmax_rows_are_probabilities():
    logits = np.random.default_rng(0).normal(scale=5, size=(20, 10)).astype(np.float32)
    p = nn.softmax(logits)
    assert p.dtype == np.float32 and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite_without_warnings(dtype):
    extreme = np.array([[1000, -1000, 0], [-1000, -1000, -1000], [1000, 1000, -1000]], dtype)
    labels = np.array([1, 0, 2])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        p = nn.softmax(extreme)
        s = nn.sigmoid(extreme.copy())
        ce_cost, ce_grad = nn.cross_entropy(extreme, labels)
        mse_cost, mse_grad = nn.quadratic(extreme, labels)
    assert np.isfinite(p).all() and np.isfinite(s).all() and np.isfinite(ce_grad).all() and np.isfinite(mse_grad).all()
    assert ce_cost == pytest.approx((2000 + math.log(3) + 2000 + math.log(2)) / 3) and math.isfinite(mse_cost)
    np.testing.assert_array_equal(s[0], [1, 0, 0.5])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)


@pytest.mark.parametrize("loss, output", [("mse", lambda z: 1 / (1 + np.exp(-z))),
                                          ("mse-relu", lambda z: np.maximum(z, 0))])
def test_the_quadratic_costs_follow_their_definition(loss, output):
    logits, labels = np.array([[-1.0, 0.5, 2.0], [0.3, -0.2, 0.9]]), np.array([2, 0])
    cost, grad = nn.LOSSES[loss][0](logits.copy(), labels)
    a, y = output(logits), np.eye(3)[labels]
    assert cost == pytest.approx(np.mean(np.sum((a - y) ** 2, axis=1)) / 2)
    np.testing.assert_allclose(nn.LOSSES[loss][1](logits), a)
    if loss == "mse-relu":  # an output at 0 passes no gradient back, whatever its target
        np.testing.assert_array_equal(grad[logits < 0], 0)
        np.testing.assert_allclose(grad[logits > 0], ((a - y) / 2)[logits > 0])


def test_sigmoid_matches_its_definition():
    z = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(nn.sigmoid(z.copy()), 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)


def test_float32_by_default():
    network = nn.mlp([4, 3, 2])
    assert all(p.dtype == np.float32 for p in network.parameters())
    assert network.forward(np.ones((2, 4), np.float32)).dtype == np.float32


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
XOR_LABELS = np.array([0, 1, 1, 0])


def train_toy(network, optimizer, rate, epochs, x=XOR_X, labels=XOR_LABELS, batch_size=4, seed=0):
    """Train for some epochs, shuffled by `seed`; returns each epoch's mean cost."""
    rng, costs = np.random.default_rng(seed), []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        costs.append(nn.train_epoch(network, optimizer, x[order], labels[order], batch_size, lambda batch: rate)[0])
    return costs


OPTIMIZERS = {
    "sgd": (lambda ps: nn.SGD(ps), 0.5),
    "momentum": (lambda ps: nn.SGD(ps, momentum=0.9), 0.1),
    "nesterov": (lambda ps: nn.SGD(ps, momentum=0.9, nesterov=True), 0.1),
    "adam": (lambda ps: nn.Adam(ps), 0.01),
    "sgd+decay": (lambda ps: nn.SGD(ps, weight_decay=1e-3), 0.5),
    "adam+decay": (lambda ps: nn.Adam(ps, weight_decay=1e-3), 0.01),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_lowers_the_loss(name):
    make, rate = OPTIMIZERS[name]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    network = nn.mlp([5, 8, 2], "tanh", rng=rng)
    costs = train_toy(network, make(network.parameters()), rate, 30, x, labels, batch_size=16)
    assert costs[-1] < 0.5 * costs[0]


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh", "leaky-relu"])
def test_a_tiny_network_learns_xor(activation):
    network = nn.mlp([2, 8, 2], activation, rng=np.random.default_rng(1))
    train_toy(network, nn.Adam(network.parameters()), 0.05, 300)
    assert (network.probabilities(XOR_X).argmax(axis=1) == XOR_LABELS).all()


def test_the_original_sigmoid_quadratic_network_learns_xor():
    network = nn.mlp([2, 8, 2], "sigmoid", "mse", np.random.default_rng(1), init="plain")
    train_toy(network, nn.SGD(network.parameters(), momentum=0.9), 2.0, 1000)
    assert (network.probabilities(XOR_X).argmax(axis=1) == XOR_LABELS).all()


def trained_weights(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 5)).astype(np.float32)
    labels = rng.integers(0, 3, 100)
    network = nn.mlp([5, 16, 3], "relu", rng=rng)
    train_toy(network, nn.Adam(network.parameters()), 0.01, 5, x, labels, batch_size=10, seed=seed)
    return network.parameters()


def test_same_seed_gives_identical_weights_and_another_seed_different_ones():
    first, again, other = trained_weights(7), trained_weights(7), trained_weights(8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not any(np.array_equal(a, c) for a, c in zip(first[::2], other[::2]))


def test_a_diverging_run_stops_with_divergence_error():
    network = nn.mlp([2, 8, 2], "relu", rng=np.random.default_rng(0))
    with pytest.raises(nn.DivergenceError, match="cost"):
        train_toy(network, nn.SGD(network.parameters()), 1e30, 5)


@pytest.mark.parametrize(
    "schedule, start, middle, end",
    [("constant", 1, 1, 1), ("linear", 1, 0.505, 0.01), ("cosine", 1, 0.505, 0.01), ("step", 1, 0.1, 0.01)],
)
def test_learning_rate_schedules(schedule, start, middle, end):
    rates = [nn.learning_rate(schedule, 1.0, progress) for progress in (0.0, 0.5, 1.0)]
    assert rates == pytest.approx([start, middle, end])


def test_learning_rates_never_rise_except_in_the_warm_up_of_one_cycle():
    for schedule in nn.SCHEDULES:
        progress = np.linspace(0, 1, 81)
        rates = [nn.learning_rate(schedule, 0.1, p) for p in progress]
        steps = np.diff(rates)
        if schedule == "one-cycle":
            assert np.all(steps[progress[1:] <= nn.WARMUP] > 0)
            steps = steps[progress[:-1] >= nn.WARMUP]
        assert np.all(steps <= 0)


def test_one_cycle_warms_up_to_the_base_rate_then_falls_as_cosine():
    rate = functools.partial(nn.learning_rate, "one-cycle", 0.5)
    assert rate(0.0) == pytest.approx(0.5 * nn.WARMUP_START)
    assert rate(nn.WARMUP / 2) == pytest.approx(0.5 * (1 + nn.WARMUP_START) / 2)
    assert rate(nn.WARMUP) == pytest.approx(0.5)
    for progress in (0.3, 0.6, 0.9, 1.0):
        cosine_progress = (progress - nn.WARMUP) / (1 - nn.WARMUP)
        assert rate(progress) == pytest.approx(nn.learning_rate("cosine", 0.5, cosine_progress))
    assert rate(1.0) == pytest.approx(0.005)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError):
        nn.mlp([2, 2], activation="swish")
    with pytest.raises(ValueError):
        nn.learning_rate("exponential", 0.1, 0.5)


def test_optimizer_steps_follow_their_textbook_formulas():
    rng = np.random.default_rng(0)
    start, grads = rng.normal(size=(3, 4)), [rng.normal(size=(3, 4)) for _ in range(3)]
    adam, heavy_ball, nesterov = start.copy(), start.copy(), start.copy()
    adam_opt, heavy_opt = nn.Adam([adam], weight_decay=0.1), nn.SGD([heavy_ball], momentum=0.9, weight_decay=0.1)
    nesterov_opt = nn.SGD([nesterov], momentum=0.9, nesterov=True)
    w, m, v, t = start.copy(), 0, 0, 0
    hb, hb_velocity, nv, nv_velocity = start.copy(), 0, start.copy(), 0
    for g in grads:
        t += 1
        g_decayed = g + 0.1 * w
        m, v = 0.9 * m + 0.1 * g_decayed, 0.999 * v + 0.001 * g_decayed**2
        w = w - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        hb_velocity = 0.9 * hb_velocity + g + 0.1 * hb
        hb = hb - 0.01 * hb_velocity
        nv_velocity = 0.9 * nv_velocity + g
        nv = nv - 0.01 * (g + 0.9 * nv_velocity)
        for optimizer in (adam_opt, heavy_opt, nesterov_opt):
            optimizer.step([g.copy()], 0.01)
    np.testing.assert_allclose(adam, w, rtol=1e-6)
    np.testing.assert_allclose(heavy_ball, hb, rtol=1e-12)
    np.testing.assert_allclose(nesterov, nv, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, weight_decay=0.5),
                                  lambda ps: nn.SGD(ps, momentum=0.9, nesterov=True, weight_decay=0.5),
                                  lambda ps: nn.Adam(ps, weight_decay=0.5)], ids=["sgd", "nesterov", "adam"])
def test_weight_decay_shrinks_weight_matrices_and_leaves_biases_alone(make):
    weights, bias = np.full((3, 2), 2.0), np.full(2, 2.0)
    optimizer = make([weights, bias])
    optimizer.step([np.zeros((3, 2)), np.zeros(2)], 0.1)  # no gradient but the penalty's
    assert (weights < 2).all() and (bias == 2).all()


@pytest.mark.parametrize("loss", nn.LOSSES)
def test_predict_is_the_most_probable_class_in_any_batch_size(loss):
    network = nn.mlp([6, 5, 3], "relu", loss, np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(25, 6)).astype(np.float32)
    probabilities = network.probabilities(x)
    predicted = network.predict(x)
    # One of the most probable: ReLU outputs can tie at 0, and then the largest logit decides.
    np.testing.assert_array_equal(probabilities[np.arange(len(x)), predicted], probabilities.max(axis=1))
    np.testing.assert_array_equal(network.predict(x, batch_size=4), predicted)


def test_initializations_have_their_documented_ranges():
    rng = np.random.default_rng(0)
    plain = nn.mlp([784, 100, 10], "sigmoid", rng=rng, init="plain").layers[0].weights
    glorot = nn.mlp([784, 100, 10], "sigmoid", rng=rng).layers[0].weights
    he = nn.mlp([784, 100, 10], "relu", rng=rng).layers[0].weights
    assert np.abs(plain).max() <= 0.5 and plain.std() == pytest.approx(1 / math.sqrt(12), rel=0.02)
    limit = math.sqrt(6 / (784 + 100))
    assert np.abs(glorot).max() <= limit and glorot.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    assert he.mean() == pytest.approx(0, abs=0.002) and he.std() == pytest.approx(math.sqrt(2 / 784), rel=0.02)


def test_a_network_made_without_a_generator_draws_from_seed_0():
    made = nn.mlp([4, 5, 3]).parameters()
    seeded = nn.mlp([4, 5, 3], rng=np.random.default_rng(0)).parameters()
    assert all(np.array_equal(a, b) for a, b in zip(made, seeded))


def test_evaluation_goes_in_batches_of_bounded_size():
    sizes = [len(logits) for logits in nn.mlp([3, 2]).logits_in_batches(np.zeros((1200, 3), np.float32))]
    assert sizes == [nn.EVALUATION_BATCH, nn.EVALUATION_BATCH, 1200 - 2 * nn.EVALUATION_BATCH]
    sizes = [len(logits) for logits in nn.mlp([3, 2]).logits_in_batches(np.zeros((25, 3), np.float32), 10)]
    assert sizes == [10, 10, 5]


def test_dropout_outside_training_passes_gradients_through_untouched():
    layer = nn.Dropout(0.5, np.random.default_rng(0))
    x = np.ones((4, 6), np.float32)
    layer.forward(x, training=True)
    assert layer.forward(x) is x
    grad = np.full((4, 6), 3, np.float32)
    np.testing.assert_array_equal(layer.backward(grad.copy()), grad)


def test_sgd_by_default_is_plain_gradient_descent():
    rng = np.random.default_rng(0)
    start, grads = rng.normal(size=(3, 4)), [rng.normal(size=(3, 4)) for _ in range(2)]
    weights = start.copy()
    optimizer = nn.SGD([weights])
    for g in grads:
        optimizer.step([g.copy()], 0.1)
    np.testing.assert_allclose(weights, start - 0.1 * grads[0] - 0.1 * grads[1], rtol=1e-12)


def test_a_network_knows_its_sample_shapes_and_refuses_layers_that_do_not_fit():
    network = nn.Network([nn.Dropout(0.1), nn.Dense(6, 5), nn.Dropout(0.1), nn.Dense(5, 3)])
    assert (network.input_shape, network.output_shape) == ((6,), (3,))
    with pytest.raises(ValueError, match=r"layer 3 \(Dense\) takes samples of shape \(4,\), but the layer before "
                                         r"it gives \(5,\)"):
        nn.Network([nn.Dense(6, 5), nn.Dropout(0.1), nn.Dense(4, 3)])
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        nn.Network([nn.Dense(6, 5)], "hinge")


def test_train_epoch_returns_the_mean_cost_and_the_fraction_classified_correctly():
    """With a learning rate of 0 the network stays as it is, so both figures are those of the whole set."""
    rng = np.random.default_rng(4)
    network = nn.mlp([5, 8, 3], "tanh", rng=rng)
    x, labels = rng.normal(size=(23, 5)).astype(np.float32), rng.integers(0, 3, 23)
    cost, accuracy = nn.train_epoch(network, nn.SGD(network.parameters()), x, labels, 5, lambda batch: 0.0)
    assert cost == pytest.approx(network.cost(network.forward(x), labels)[0], rel=1e-5)
    assert accuracy == nn.accuracy(network, x, labels) and 0 < accuracy < 1


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "leaky-relu", "tanh", "identity"])
def test_layers_reuse_their_buffers_batch_after_batch(activation):
    """Fresh arrays for every batch cost page faults (see Layer.buffer): outputs and gradients go
    into the same arrays while the batch size stays the same, and into the same memory when it
    shrinks."""
    dense, dropout = nn.Dense(4, 3, activation), nn.Dropout(0.5)
    x, grad = np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)
    first = dense.forward(x), dense.backward(grad.copy()), dropout.forward(x, training=True)
    again = dense.forward(x), dense.backward(grad.copy()), dropout.forward(x, training=True)
    assert all(a is b for a, b in zip(first, again))
    assert dense.buffer("output", (2, 3)) is first[0] and dense.buffer("output", (5, 3)) is not first[0]
    assert dense.buffer("output", (2, 3), dtype=np.float64).dtype == np.float64


def test_a_smaller_buffer_is_the_start_of_the_larger_one_and_zeros_are_renewed_with_the_shape():
    layer = nn.Layer()
    large = layer.buffer("b", (4, 6))
    small = layer.buffer("b", (3, 5))
    assert small.shape == (3, 5) and np.shares_memory(small, large) and small.flags.c_contiguous
    zeros = layer.buffer("z", (2, 3), zeros=True)
    zeros[...] = 7
    assert layer.buffer("z", (2, 3), zeros=True) is zeros and np.all(zeros == 7)  # kept while the shape stays
    assert np.all(layer.buffer("z", (3, 2), zeros=True) == 0) and np.all(layer.buffer("z", (2, 3), zeros=True) == 0)
    assert layer.buffer("b", (5, 6)).size == 30 and not np.shares_memory(layer.buffer("b", (5, 6)), large)


def test_train_epoch_trains_with_dropout_active():
    rng = np.random.default_rng(5)
    network = nn.Network([nn.Dropout(0.5, rng), nn.Dense(5, 3, rng=rng)])
    x, labels = rng.normal(size=(40, 5)).astype(np.float32), rng.integers(0, 3, 40)
    cost, _ = nn.train_epoch(network, nn.SGD(network.parameters()), x, labels, 40, lambda batch: 0.0)
    assert cost != pytest.approx(network.cost(network.forward(x), labels)[0], rel=1e-3)
