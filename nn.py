"""A fully connected neural network in numpy: layers, losses, optimizers and batched backpropagation.

A batch of inputs is a matrix x of shape (batch, features), one sample per row, so that a layer is
one matrix product, z = x @ weights + bias, for the whole batch. Backpropagation runs the chain rule
through the same products in reverse. There is no Python loop over samples anywhere.

    network = Network([784, 128, 10], activation="relu", loss="cross-entropy", rng=rng)
    optimizer = Adam(network.parameters())
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        cost, accuracy = train_epoch(network, optimizer, x[order], labels[order], 128, lambda batch: 0.001)
    network.predict(test_x)  # -> the digit each test image most probably shows

Everything is float32 unless the network is made with dtype=np.float64 (the gradient checks use it).
"""

import functools
import math

import numpy as np

# ----------------------------------------------------------------------------------------------
# Activations. Each works in place on the pre-activation z and returns it, and each derivative is
# written in terms of the activation's output a, so backpropagation only needs to keep outputs.


def sigmoid(z):
    """1 / (1 + exp(-z)), computed as (1 + tanh(z/2)) / 2: the same value, but no exp to overflow."""
    z *= 0.5
    np.tanh(z, out=z)
    z += 1
    z *= 0.5
    return z


def relu(z):
    return np.maximum(z, 0, out=z)


def leaky_relu(z, slope=0.01):
    return np.maximum(z, slope * z, out=z)


def tanh(z):
    return np.tanh(z, out=z)


def identity(z):
    return z


# d(activation)/dz from the output a, multiplied into the incoming gradient in place.
def sigmoid_backward(a, grad):
    grad *= a * (1 - a)


def relu_backward(a, grad):
    grad *= a > 0


def leaky_relu_backward(a, grad, slope=0.01):
    grad *= np.where(a > 0, a.dtype.type(1), a.dtype.type(slope))


def tanh_backward(a, grad):
    grad *= 1 - a * a


def identity_backward(a, grad):
    pass


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_backward),
    "relu": (relu, relu_backward),
    "leaky-relu": (leaky_relu, leaky_relu_backward),
    "tanh": (tanh, tanh_backward),
    "identity": (identity, identity_backward),
}

# ----------------------------------------------------------------------------------------------
# Losses. Each takes the last layer's raw outputs (logits, shape (batch, classes)) and the labels
# ((batch,) integers) and returns the mean cost over the batch and its gradient with respect to the
# logits. Putting the output function inside the loss keeps both numerically stable and simple.


def softmax(logits):
    """Rows of probabilities, (batch, classes) -> (batch, classes); stable for any logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def cross_entropy(logits, labels):
    """Softmax cross-entropy, -log softmax(logits)[label], with the log-sum-exp trick."""
    batch = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp of it cannot overflow: all <= 0
    right = shifted[batch, labels]
    probabilities = np.exp(shifted, out=shifted)
    sums = probabilities.sum(axis=1)
    cost = np.mean(np.log(sums) - right)
    # d cost / d logits = (softmax - one-hot target) / batch size
    grad = probabilities
    grad /= sums[:, None]
    grad[batch, labels] -= 1
    grad /= len(labels)
    return float(cost), grad


def quadratic(logits, labels, output="sigmoid"):
    """The original's cost: outputs a = output(logits) (sigmoid, or ReLU as in its ReLU version), one-hot
    targets y, mean over the batch of |a - y|^2 / 2."""
    forward, backward = ACTIVATIONS[output]
    a = forward(logits.copy())
    grad = a.copy()
    grad[np.arange(len(labels)), labels] -= 1
    cost = 0.5 * np.mean(np.sum(grad * grad, axis=1))
    grad /= len(labels)
    backward(a, grad)
    return float(cost), grad


LOSSES = {
    "cross-entropy": (cross_entropy, softmax),
    "mse": (quadratic, lambda z: sigmoid(z.copy())),
    "mse-relu": (functools.partial(quadratic, output="relu"), lambda z: relu(z.copy())),
}

# ----------------------------------------------------------------------------------------------
# Layers and the network.

INITIALIZATIONS = ("scaled", "plain")


class Dense:
    """A fully connected layer: output = activation(input @ weights + bias).

    weights: (inputs, outputs), bias: (outputs,). The layer keeps its last input and output for
    backward, and its gradients in grad_weights and grad_bias, reused from batch to batch.
    """

    def __init__(self, inputs, outputs, activation, rng, init="scaled", dtype=np.float32):
        if init == "plain":  # the original's: uniform in [-0.5, 0.5], whatever the layer's size
            weights = rng.uniform(-0.5, 0.5, (inputs, outputs))
        elif activation in ("relu", "leaky-relu"):  # He: keeps the variance of ReLU outputs steady
            weights = rng.normal(0.0, math.sqrt(2.0 / inputs), (inputs, outputs))
        else:  # Glorot: keeps the variance steady for sigmoid, tanh and the output layer
            limit = math.sqrt(6.0 / (inputs + outputs))
            weights = rng.uniform(-limit, limit, (inputs, outputs))
        self.weights = weights.astype(dtype)
        self.bias = np.zeros(outputs, dtype)
        self.activation = activation
        self.grad_weights = np.zeros_like(self.weights)
        self.grad_bias = np.zeros_like(self.bias)
        self.buffers = {}

    def forward(self, x):
        """x: (batch, inputs) -> (batch, outputs), in a buffer that the next forward overwrites."""
        self.input = x
        z = np.matmul(x, self.weights, out=self.buffer("output", len(x), self.bias.size))
        z += self.bias
        self.output = ACTIVATIONS[self.activation][0](z)
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        """Gradient of the cost w.r.t. this layer's output (batch, outputs) -> w.r.t. its input.

        Overwrites grad_output. The first layer skips the input gradient: nobody needs it, and it
        costs as much as the forward product.
        """
        ACTIVATIONS[self.activation][1](self.output, grad_output)
        np.matmul(self.input.T, grad_output, out=self.grad_weights)
        np.sum(grad_output, axis=0, out=self.grad_bias)
        if not need_input_grad:
            return None
        return np.matmul(grad_output, self.weights.T, out=self.buffer("grad_input", len(grad_output), len(self.weights)))

    def buffer(self, name, rows, columns):
        """A reusable (rows, columns) array. Fresh large arrays cost page faults on every batch; reusing
        them was measured to halve the time of a gradient product."""
        key = (name, rows)
        if key not in self.buffers:
            self.buffers[key] = np.empty((rows, columns), self.weights.dtype)
        return self.buffers[key]


class Network:
    """Dense layers of the given sizes, e.g. [784, 128, 10]: hidden layers use `activation`, the last
    layer gives logits, and `loss` ("cross-entropy" or "mse") decides how they become probabilities."""

    def __init__(self, sizes, activation="relu", loss="cross-entropy", rng=None, init="scaled", dtype=np.float32):
        if activation not in ACTIVATIONS or loss not in LOSSES or init not in INITIALIZATIONS:
            raise ValueError(f"unknown activation {activation!r}, loss {loss!r} or init {init!r}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.sizes, self.activation, self.loss = list(sizes), activation, loss
        last = len(sizes) - 2
        self.layers = [
            Dense(n_in, n_out, "identity" if i == last else activation, rng, init, dtype)
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        ]

    def forward(self, x):
        """x: (batch, inputs) -> logits (batch, classes)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_logits, need_input_grad=False):
        """Backpropagate d cost / d logits through all layers, filling each layer's gradients."""
        grad = grad_logits
        for i, layer in reversed(list(enumerate(self.layers))):
            grad = layer.backward(grad, need_input_grad=need_input_grad or i > 0)
        return grad

    def cost(self, logits, labels):
        """The loss's mean cost over the batch and its gradient w.r.t. the logits."""
        return LOSSES[self.loss][0](logits, labels)

    def probabilities(self, x, batch_size=10000):
        """x: (N, inputs) -> (N, classes) probabilities (softmax, or sigmoid outputs for "mse")."""
        to_probabilities = LOSSES[self.loss][1]
        return np.concatenate([to_probabilities(logits) for logits in self.logits_in_batches(x, batch_size)])

    def predict(self, x, batch_size=10000):
        """x: (N, inputs) -> (N,) the most probable class of each sample (the largest logit)."""
        return np.concatenate([logits.argmax(axis=1) for logits in self.logits_in_batches(x, batch_size)])

    def logits_in_batches(self, x, batch_size):
        """The logits of x (N, inputs), batch_size rows at a time, so that memory stays bounded for any N.
        Each batch's logits are overwritten by the next: use them before asking for the next."""
        return (self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size))

    def parameters(self):
        return [p for layer in self.layers for p in (layer.weights, layer.bias)]

    def gradients(self):
        return [g for layer in self.layers for g in (layer.grad_weights, layer.grad_bias)]


def accuracy(network, x, labels):
    """Fraction of samples whose most probable class is the label."""
    return float(np.mean(network.predict(x) == labels))


# ----------------------------------------------------------------------------------------------
# Optimizers. Each updates the parameters in place from the gradients, with buffers made once:
# a training step allocates nothing. Weight decay (L2) applies to weight matrices, not biases.


def add_weight_decay(parameter, grad, scratch, weight_decay):
    """grad += weight_decay * parameter, the gradient of the L2 penalty, for weight matrices only."""
    if weight_decay and parameter.ndim > 1:
        np.multiply(parameter, weight_decay, out=scratch)
        grad += scratch


class SGD:
    """Gradient descent; with momentum > 0 heavy-ball momentum, with nesterov=True Nesterov's."""

    def __init__(self, parameters, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.parameters, self.momentum, self.nesterov, self.weight_decay = parameters, momentum, nesterov, weight_decay
        self.velocities = [np.zeros_like(p) for p in parameters]
        self.scratch = [np.zeros_like(p) for p in parameters]

    def step(self, gradients, learning_rate):
        for p, g, v, s in zip(self.parameters, gradients, self.velocities, self.scratch):
            add_weight_decay(p, g, s, self.weight_decay)
            if self.momentum:
                v *= self.momentum
                v += g
                if self.nesterov:  # look ahead: step along the gradient plus the updated velocity
                    np.multiply(v, self.momentum, out=s)
                    g += s
                else:
                    g = v
            np.multiply(g, learning_rate, out=s)
            p -= s


class Adam:
    """Adam (Kingma & Ba, 2015): per-parameter steps from running means of g and g^2."""

    def __init__(self, parameters, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.parameters, self.beta1, self.beta2, self.eps, self.weight_decay = parameters, beta1, beta2, eps, weight_decay
        self.means = [np.zeros_like(p) for p in parameters]
        self.squares = [np.zeros_like(p) for p in parameters]
        self.scratch = [np.zeros_like(p) for p in parameters]
        self.steps = 0

    def step(self, gradients, learning_rate):
        self.steps += 1
        # Bias corrections for the zero-initialised averages, folded into the step size and eps.
        correction1 = 1 - self.beta1**self.steps
        correction2 = math.sqrt(1 - self.beta2**self.steps)
        step_size = learning_rate * correction2 / correction1
        eps = self.eps * correction2
        for p, g, m, v, s in zip(self.parameters, gradients, self.means, self.squares, self.scratch):
            add_weight_decay(p, g, s, self.weight_decay)
            m *= self.beta1  # m = beta1 m + (1 - beta1) g
            np.multiply(g, 1 - self.beta1, out=s)
            m += s
            v *= self.beta2  # v = beta2 v + (1 - beta2) g^2
            np.square(g, out=s)
            s *= 1 - self.beta2
            v += s
            np.sqrt(v, out=s)  # p -= step_size m / (sqrt(v) + eps)
            s += eps
            np.divide(m, s, out=s)
            s *= step_size
            p -= s


# ----------------------------------------------------------------------------------------------
# Learning-rate schedules: the rate at `progress` in [0, 1], the fraction of training done.

SCHEDULES = ("constant", "linear", "cosine", "step")


def learning_rate(schedule, base, progress, floor=0.01):
    """`base` scaled by the schedule: linear and cosine fall to floor * base, step divides by 10 at
    half and at three quarters of training."""
    if schedule == "constant":
        return base
    if schedule == "linear":
        return base * (1 - (1 - floor) * progress)
    if schedule == "cosine":
        return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
    if schedule == "step":
        return base * 0.1 ** ((progress >= 0.5) + (progress >= 0.75))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


# ----------------------------------------------------------------------------------------------
# Training.


class DivergenceError(ArithmeticError):
    """The cost became NaN or infinite: the learning rate is too large for this network."""


def train_epoch(network, optimizer, x, labels, batch_size, learning_rates, max_cost=math.inf):
    """One pass over (x, labels) in mini-batches of batch_size, in the order given (shuffle first).

    x: (N, inputs) float32 (float64 for a float64 network); labels: (N,) ints; learning_rates: a function of the batch's
    index within this epoch. Returns the mean cost and the fraction classified correctly, both over
    the batches as they went. Raises DivergenceError as soon as a batch's cost is NaN, infinite or
    above max_cost.
    """
    total_cost, correct = 0.0, 0
    # A diverging run is caught from its cost below; numpy's overflow warnings would only say it worse.
    with np.errstate(over="ignore", invalid="ignore"):
        for batch, start in enumerate(range(0, len(x), batch_size)):
            inputs, targets = x[start : start + batch_size], labels[start : start + batch_size]
            logits = network.forward(inputs)
            correct += np.count_nonzero(logits.argmax(axis=1) == targets)
            cost, grad_logits = network.cost(logits, targets)
            if not cost <= max_cost:  # also true for NaN
                raise DivergenceError(f"the cost reached {cost:.4g} in batch {batch + 1}")
            network.backward(grad_logits)
            optimizer.step(network.gradients(), learning_rates(batch))
            total_cost += cost * len(targets)
    return total_cost / len(x), float(correct / len(x))
