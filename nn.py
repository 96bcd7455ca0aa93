"""Neural networks in numpy: layers, losses, optimizers and batched backpropagation.

A batch of inputs is a matrix x of shape (batch, features), one sample per row, so that a dense
layer is one matrix product, z = x @ weights + bias, for the whole batch. Backpropagation runs the
chain rule through the same products in reverse. There is no Python loop over samples anywhere.
A network is a list of layers: the dense, batch-normalisation and dropout layers here, the
convolutional ones in conv.py.

    network = mlp([784, 128, 10], activation="relu", loss="cross-entropy", rng=rng)
    optimizer = Adam(network.parameters())
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        cost, accuracy = train_epoch(network, optimizer, x[order], labels[order], 128, lambda batch: 0.001)
    network.predict(test_x)  # -> the digit each test image most probably shows

Everything is float32 unless the network is made with dtype=np.float64 (the gradient checks use it).
"""

import contextlib
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


def cross_entropy(logits, labels, smoothing=0.0):
    """Softmax cross-entropy, -log softmax(logits)[label], with the log-sum-exp trick.

    With label smoothing e (Szegedy et al. 2016), the target is not the one-hot vector y but
    (1 - e) y + e / classes, as in torch.nn.CrossEntropyLoss(label_smoothing=e): the cost is
    -sum_k target_k log softmax_k, and the network is never pushed towards certainty, which an
    ever larger logit would only approach."""
    batch, classes = np.arange(len(labels)), logits.shape[1]
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp of it cannot overflow: all <= 0
    right = shifted[batch, labels]
    # -sum_k target_k log softmax_k = log sum_k exp(shifted_k) - sum_k target_k shifted_k
    spread = smoothing * shifted.mean(axis=1)
    probabilities = np.exp(shifted, out=shifted)
    sums = probabilities.sum(axis=1)
    cost = np.mean(np.log(sums) - (1 - smoothing) * right - spread)
    # d cost / d logits = (softmax - target) / batch size
    grad = probabilities
    grad /= sums[:, None]
    grad -= smoothing / classes
    grad[batch, labels] -= 1 - smoothing
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
# Layers and the network. A layer maps a batch forward and a gradient backward:
#     forward(x, training) -> output         backward(grad_output, need_input_grad) -> grad_input
# and lists its parameters and their gradients (arrays of the same shapes, filled by backward).
# Its input_shape and output_shape are those of one sample (None: any shape, passed on unchanged).
# Convolutional layers live in conv.py and follow the same rules.

INITIALIZATIONS = ("scaled", "plain")


def initial_weights(inputs, outputs, activation, rng, init="scaled", dtype=np.float32):
    """Random (inputs, outputs) weights for a unit fed by `inputs` values (its fan-in)."""
    if init == "plain":  # the original's: uniform in [-0.5, 0.5], whatever the layer's size
        weights = rng.uniform(-0.5, 0.5, (inputs, outputs))
    elif activation in ("relu", "leaky-relu"):  # He: keeps the variance of ReLU outputs steady
        weights = rng.normal(0.0, math.sqrt(2.0 / inputs), (inputs, outputs))
    else:  # Glorot: keeps the variance steady for sigmoid, tanh and the output layer
        limit = math.sqrt(6.0 / (inputs + outputs))
        weights = rng.uniform(-limit, limit, (inputs, outputs))
    return weights.astype(dtype)


class Layer:
    """What every layer shares: no parameters unless it says otherwise, and reusable buffers."""

    dtype = np.float32
    input_shape = output_shape = None

    def parameters(self):
        return []

    def gradients(self):
        return []

    def statistics(self):
        """Arrays the layer keeps beside its parameters, learned from the data but not by gradient
        descent (a batch normalisation's running mean and variance): saved with the weights."""
        return []

    def sums(self, rows, out):
        """The sum of each column of rows (n, features), into out: a product with ones, which BLAS
        does several times faster than np.sum down the columns (7x for a convolution's bias gradient)."""
        ones = self.buffer("ones", (len(rows),))
        ones[...] = 1
        return np.matmul(ones, rows, out=out)

    def buffer(self, name, shape, zeros=False, dtype=None):
        """A reusable array of this shape (and the layer's dtype unless given): the start of one block
        of memory per name, made anew only when a larger one is asked for, so that training batches,
        the last smaller one and evaluation batches all use the same memory. Fresh memory costs page
        faults, slow on a virtual machine: reusing it was measured to halve the time of a gradient
        product. zeros=True: all zeros whenever the shape changes (in between, what was written stays)."""
        buffers = self.__dict__.setdefault("buffers", {})
        dtype, shape = np.dtype(dtype or self.dtype), tuple(shape)
        memory, array = buffers.get(name, (None, None))
        if array is not None and array.shape == shape and array.dtype == dtype:
            return array
        size = math.prod(shape)
        if memory is None or memory.size < size or memory.dtype != dtype:
            memory = np.empty(size, dtype)
        array = memory[:size].reshape(shape)
        if zeros:
            array[...] = 0
        buffers[name] = memory, array
        return array


class Dense(Layer):
    """A fully connected layer: output = activation(input @ weights + bias).

    weights: (inputs, outputs), bias: (outputs,). The layer keeps its last input and output for
    backward, and its gradients in grad_weights and grad_bias, reused from batch to batch.
    """

    def __init__(self, inputs, outputs, activation="identity", rng=None, init="scaled", dtype=np.float32):
        rng = np.random.default_rng(0) if rng is None else rng
        self.weights = initial_weights(inputs, outputs, activation, rng, init, dtype)
        self.bias = np.zeros(outputs, dtype)
        self.activation, self.dtype = activation, dtype
        self.grad_weights = np.zeros_like(self.weights)
        self.grad_bias = np.zeros_like(self.bias)
        self.input_shape, self.output_shape = (inputs,), (outputs,)

    def forward(self, x, training=False):
        """x: (batch, inputs) -> (batch, outputs), in a buffer that the next forward overwrites."""
        self.input = x
        # z = x @ weights + bias, written into an array reused from batch to batch (Layer.buffer)
        z = np.matmul(x, self.weights, out=self.buffer("output", (len(x), self.bias.size)))
        z += self.bias
        self.output = ACTIVATIONS[self.activation][0](z)
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        """Gradient of the cost w.r.t. this layer's output (batch, outputs) -> w.r.t. its input.

        Overwrites grad_output. The first layer skips the input gradient: nobody needs it, and it
        costs as much as the forward product.
        """
        ACTIVATIONS[self.activation][1](self.output, grad_output)  # now d cost / d z
        grad_z = grad_output
        np.matmul(self.input.T, grad_z, out=self.grad_weights)  # d cost / d weights = x.T @ grad_z
        np.sum(grad_z, axis=0, out=self.grad_bias)  # each sample's bias gradient, summed over the batch
        if not need_input_grad:
            return None
        return np.matmul(grad_z, self.weights.T, out=self.buffer("grad_input", self.input.shape))  # grad_z @ weights.T

    def parameters(self):
        return [self.weights, self.bias]

    def gradients(self):
        return [self.grad_weights, self.grad_bias]


class BatchNorm(Layer):
    """Batch normalisation (Ioffe and Szegedy, 2015), then an activation:
        output = activation(gamma * (x - mean) / sqrt(variance + eps) + beta)
    for each feature, with gamma (the scale) and beta (the shift) learned.

    input_shape: (features,) for rows (batch, features), or (height, width, channels) for images
    (batch, height, width, channels), whose every channel is normalised over the batch and all its
    pixels: a feature is the last axis. gamma, beta, running_mean, running_variance: (features,).

    In training, mean and variance are the batch's own, and each batch moves the running ones a share
    `momentum` of the way towards its own (the variance unbiased, times n / (n - 1)), as PyTorch does.
    In use, the running ones stand in for them, so that a sample's output does not depend on the
    others in its batch: the layer is then a scale and a shift of each feature. With updates_running
    false, training leaves the running statistics alone and only keeps the batch's in `statistics_seen`
    (parallel.py updates them once for a batch learned in parts).
    """

    def __init__(self, input_shape, activation="identity", momentum=0.1, eps=1e-5, dtype=np.float32):
        if not (0 <= momentum <= 1 and eps > 0):
            raise ValueError(f"batch normalisation needs a momentum from 0 to 1 and an eps above 0, not {momentum} "
                             f"and {eps}")
        self.input_shape = self.output_shape = tuple(input_shape)
        features = self.input_shape[-1]
        self.gamma, self.beta = np.ones(features, dtype), np.zeros(features, dtype)
        self.grad_gamma, self.grad_beta = np.zeros_like(self.gamma), np.zeros_like(self.beta)
        self.running_mean, self.running_variance = np.zeros(features, dtype), np.ones(features, dtype)
        self.activation, self.momentum, self.eps, self.dtype = activation, momentum, eps, dtype
        self.updates_running = True

    def scale_and_shift(self):
        """The layer in use as a scale and a shift of each feature: gamma * (x - mean) / sqrt(variance +
        eps) + beta = x * scale + shift, with the running statistics."""
        scale = self.gamma / np.sqrt(self.running_variance + self.eps)
        return scale, self.beta - self.running_mean * scale

    def forward(self, x, training=False):
        """x: (batch, *input_shape) -> the same shape, in a buffer that the next forward overwrites."""
        self.shape, rows = x.shape, x.reshape(-1, self.gamma.size)  # (batch * pixels, features)
        self.input, self.training = rows, training
        output = self.buffer("output", rows.shape)
        if training:
            count = len(rows)
            mean = self.sums(rows, np.empty_like(self.gamma)) / count
            self.centred = np.subtract(rows, mean, out=self.buffer("centred", rows.shape))  # kept for backward
            variance = self.sums(np.square(self.centred, out=output), np.empty_like(self.gamma)) / count
            self.statistics_seen = count, mean, variance
            if self.updates_running:
                self.update_running(count, mean, variance)
            self.inverse_std = 1 / np.sqrt(variance + self.eps)
            scale, shift = self.gamma * self.inverse_std, self.beta  # normalised * gamma + beta, in one product
            np.multiply(self.centred, scale, out=output)
        else:
            scale, shift = self.scale_and_shift()
            np.multiply(rows, scale, out=output)
        output += shift
        self.output = ACTIVATIONS[self.activation][0](output)
        return self.output.reshape(x.shape)

    def update_running(self, count, mean, variance):
        """Move the running statistics a share `momentum` towards a batch's: its `count` values' mean
        and (biased) variance, each (features,)."""
        unbiased = variance * count / max(count - 1, 1)  # a single value has no spread to correct
        for running, batch in ((self.running_mean, mean), (self.running_variance, unbiased)):
            running *= 1 - self.momentum
            running += self.momentum * batch

    def backward(self, grad_output, need_input_grad=True):
        """Gradient w.r.t. the output (batch, *input_shape) -> w.r.t. the input. Overwrites grad_output.

        With g = d cost / d (gamma * normalised + beta), normalised = (x - mean) / std and n rows:
        d gamma = sum(g * normalised), d beta = sum(g); in training, where the mean and the variance
        move with every input, d x = gamma / std * (g - (d beta + normalised * d gamma) / n), and in
        use, with the running statistics fixed, d x = gamma / std * g."""
        grad = grad_output.reshape(self.input.shape)
        ACTIVATIONS[self.activation][1](self.output, grad)
        if not self.training:  # a forward in use, x * scale + shift, did not keep them
            self.inverse_std = 1 / np.sqrt(self.running_variance + self.eps)
            self.centred = np.subtract(self.input, self.running_mean, out=self.buffer("centred", grad.shape))
        scratch = self.buffer("scratch", grad.shape)
        self.sums(grad, self.grad_beta)
        self.sums(np.multiply(grad, self.centred, out=scratch), self.grad_gamma)
        self.grad_gamma *= self.inverse_std
        if not need_input_grad:
            return None
        if self.training:  # scratch = g - (d beta + normalised * d gamma) / n
            np.multiply(self.centred, self.grad_gamma * self.inverse_std / len(grad), out=scratch)
            scratch += self.grad_beta / len(grad)
            np.subtract(grad, scratch, out=scratch)
        else:
            scratch[...] = grad
        scratch *= self.gamma * self.inverse_std
        return scratch.reshape(self.shape)

    def parameters(self):
        return [self.gamma, self.beta]

    def gradients(self):
        return [self.grad_gamma, self.grad_beta]

    def statistics(self):
        return [self.running_mean, self.running_variance]


class Dropout(Layer):
    """Inverted dropout: in training, each value is zeroed with probability `rate` and the others are
    divided by 1 - rate, so that a unit's expected output is the same in training and in use, where
    the layer passes its input through untouched."""

    def __init__(self, rate, rng=None, dtype=np.float32):
        if not 0 <= rate < 1:
            raise ValueError(f"a dropout rate must be at least 0 and below 1, not {rate}")
        self.rate, self.dtype = rate, dtype
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.mask = None

    def forward(self, x, training=False):
        """x: (batch, ...) -> the same shape: x times a fresh random mask in training, else x."""
        if not training or self.rate == 0:
            self.mask = None
            return x
        self.mask = self.buffer("mask", x.shape)
        self.rng.random(out=self.mask, dtype=self.dtype)
        np.greater_equal(self.mask, self.rate, out=self.mask)  # 1 keeps a value, 0 drops it
        self.mask /= 1 - self.rate
        return np.multiply(x, self.mask, out=self.buffer("output", x.shape))

    def backward(self, grad_output, need_input_grad=True):
        if self.mask is not None:
            grad_output *= self.mask
        return grad_output


# Evaluation goes this many samples at a time: enough for BLAS to run at full speed, few enough
# that a convolutional network's buffers stay within a few hundred MB.
EVALUATION_BATCH = 500


class Network:
    """A sequence of layers whose last one gives logits, and a loss (a name in LOSSES) that decides
    how those become probabilities. Inputs are rows of numbers, (batch, features); a layer
    that wants images (conv.py) shapes its rows into them itself."""

    def __init__(self, layers, loss="cross-entropy", label_smoothing=0.0):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if label_smoothing and loss != "cross-entropy":
            raise ValueError(f"label smoothing is for the cross-entropy loss, not {loss!r}")
        self.layers, self.loss = list(layers), loss
        # The cross-entropy's smoothing in training (cross_entropy); outputs and predictions ignore it.
        self.label_smoothing = label_smoothing
        shape = self.input_shape = None  # what the previous layer gives each sample; what the network takes
        for i, layer in enumerate(self.layers):
            if None not in (shape, layer.input_shape) and shape != layer.input_shape:
                raise ValueError(f"layer {i + 1} ({type(layer).__name__}) takes samples of shape {layer.input_shape}, "
                                 f"but the layer before it gives {shape}")
            self.input_shape = self.input_shape or layer.input_shape
            shape = layer.output_shape or shape
        self.output_shape = shape

    def forward(self, x, training=False):
        """x: (batch, inputs) -> logits (batch, classes). training=True: dropout active."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad_logits, need_input_grad=False):
        """Backpropagate d cost / d logits through all layers, filling each layer's gradients."""
        grad = grad_logits
        for i, layer in reversed(list(enumerate(self.layers))):
            grad = layer.backward(grad, need_input_grad=need_input_grad or i > 0)
        return grad

    def cost(self, logits, labels):
        """The loss's mean cost over the batch and its gradient w.r.t. the logits."""
        if self.label_smoothing:
            return cross_entropy(logits, labels, self.label_smoothing)
        return LOSSES[self.loss][0](logits, labels)

    def learn(self, x, labels):
        """Forward and backward through one batch, x (batch, inputs) with its labels (batch,), dropout
        active: fills gradients() with the gradient of the batch's mean cost. Returns (the mean cost,
        the number of samples classified right)."""
        logits = self.forward(x, training=True)
        correct = np.count_nonzero(logits.argmax(axis=1) == labels)
        cost, grad_logits = self.cost(logits, labels)
        self.backward(grad_logits)
        return cost, correct

    def probabilities(self, x, batch_size=EVALUATION_BATCH):
        """x: (N, inputs) -> (N, classes) probabilities (softmax, or sigmoid outputs for "mse")."""
        to_probabilities = LOSSES[self.loss][1]
        return np.concatenate([to_probabilities(logits) for logits in self.logits_in_batches(x, batch_size)])

    def predict(self, x, batch_size=EVALUATION_BATCH):
        """x: (N, inputs) -> (N,) the most probable class of each sample (the largest logit)."""
        return np.concatenate([logits.argmax(axis=1) for logits in self.logits_in_batches(x, batch_size)])

    def logits_in_batches(self, x, batch_size=EVALUATION_BATCH):
        """The logits of x (N, inputs), batch_size rows at a time, so that memory stays bounded for
        any N. Each batch's logits are overwritten by the next: use them before asking for the next."""
        return (self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size))

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self):
        return [g for layer in self.layers for g in layer.gradients()]

    def statistics(self):
        return [s for layer in self.layers for s in layer.statistics()]


def mlp(sizes, activation="relu", loss="cross-entropy", rng=None, init="scaled", dtype=np.float32, dropout=0.0,
        dropout_rng=None, batch_norm=False):
    """A fully connected network of the given layer sizes, e.g. [784, 128, 10]: the hidden layers use
    `activation`, the last one gives the logits. With dropout > 0, a Dropout layer before each dense
    one; with batch_norm, each hidden layer is a Dense without activation and a BatchNorm with it.
    rng draws the initial weights, dropout_rng the dropout masks."""
    if activation not in ACTIVATIONS or init not in INITIALIZATIONS:
        raise ValueError(f"unknown activation {activation!r} or init {init!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    layers, last = [], len(sizes) - 2
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if dropout:
            layers.append(Dropout(dropout, dropout_rng, dtype))
        hidden = i < last
        layers.append(Dense(n_in, n_out, activation if hidden and not batch_norm else "identity", rng, init, dtype))
        if hidden and batch_norm:
            layers.append(BatchNorm((n_out,), activation, dtype=dtype))
    return Network(layers, loss)


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
        self.steps = 0

    def state(self):
        """The arrays the optimizer remembers between steps (a checkpoint restores them in place)."""
        return self.velocities

    def step(self, gradients, learning_rate):
        self.steps += 1
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
        self.parameters, self.beta1, self.beta2, self.eps = parameters, beta1, beta2, eps
        self.weight_decay = weight_decay
        self.means = [np.zeros_like(p) for p in parameters]
        self.squares = [np.zeros_like(p) for p in parameters]
        self.scratch = [np.zeros_like(p) for p in parameters]
        self.steps = 0

    def state(self):
        """The arrays the optimizer remembers between steps (a checkpoint restores them in place)."""
        return self.means + self.squares

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


class MovingAverage:
    """An exponential moving average of the parameters (Polyak averaging), to evaluate the network
    with instead of its last weights: each step moves the weights a little along one batch's
    gradient, back and forth around a good point, and the average sits nearer to that point.

    After each optimizer step, update() does shadow = decay * shadow + (1 - decay) * parameters. The
    shadow starts at zero and, like Adam's moments, is divided by 1 - decay^steps when it is used:
    the average is then the mean of the weights after each step so far, the step k before the last
    weighted by decay^k, and the weights before the first step count for nothing.
    The arrays averaged may also be statistics kept beside the parameters (a batch normalisation's
    running ones), so that they fit the averaged weights.
    """

    def __init__(self, parameters, decay):
        if not 0 < decay < 1:
            raise ValueError(f"a moving average's decay must be above 0 and below 1, not {decay}")
        self.parameters, self.decay = parameters, decay
        self.shadows = [np.zeros_like(p) for p in parameters]
        self.own = [np.zeros_like(p) for p in parameters]  # the parameters' values while they hold the average
        self.steps = 0

    def state(self):
        """The arrays the average remembers between steps (a checkpoint restores them in place)."""
        return self.shadows

    def update(self):
        """Fold the parameters' current values into the average."""
        self.steps += 1
        for p, shadow in zip(self.parameters, self.shadows):
            # decay shadow + (1 - decay) p, as p + decay (shadow - p): in place, no temporary array
            shadow -= p
            shadow *= self.decay
            shadow += p

    @contextlib.contextmanager
    def applied(self):
        """Within the block, the parameters hold the average (after at least one update); after it,
        their own values again, bit for bit."""
        correction = 1 - self.decay**self.steps
        for p, shadow, own in zip(self.parameters, self.shadows, self.own):
            np.copyto(own, p)
            np.divide(shadow, correction, out=p)
        try:
            yield
        finally:
            for p, own in zip(self.parameters, self.own):
                np.copyto(p, own)


# ----------------------------------------------------------------------------------------------
# Learning-rate schedules: the rate at `progress` in [0, 1], the fraction of training done.

SCHEDULES = ("constant", "linear", "cosine", "step", "one-cycle")
# One-cycle: the share of training spent warming up, and where the warm-up starts (times base).
WARMUP, WARMUP_START = 0.25, 0.04


def learning_rate(schedule, base, progress, floor=0.01):
    """`base` scaled by the schedule: linear and cosine fall to floor * base, step divides by 10 at
    half and at three quarters of training. one-cycle (Smith & Topin, 2018) rises from WARMUP_START *
    base to base over the first WARMUP of training, then falls to floor * base as cosine does: a
    network just made takes large steps badly, and large steps early make short runs go far."""
    if schedule == "constant":
        return base
    if schedule == "linear":
        return base * (1 - (1 - floor) * progress)
    if schedule == "cosine":
        return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
    if schedule == "one-cycle":
        if progress < WARMUP:
            return base * (WARMUP_START + (1 - WARMUP_START) * 0.5 * (1 - math.cos(math.pi * progress / WARMUP)))
        return learning_rate("cosine", base, (progress - WARMUP) / (1 - WARMUP), floor)
    if schedule == "step":
        return base * 0.1 ** ((progress >= 0.5) + (progress >= 0.75))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


# ----------------------------------------------------------------------------------------------
# Training.


class DivergenceError(ArithmeticError):
    """The cost became NaN or infinite: the learning rate is too large for this network."""


def train_epoch(network, optimizer, x, labels, batch_size, learning_rates, max_cost=math.inf, average=None):
    """One pass over (x, labels) in mini-batches of batch_size, in the order given (shuffle first).

    network: a Network, or anything with its learn and gradients (parallel.DataParallel).
    x: (N, inputs) float32 (float64 for a float64 network); labels: (N,) ints; learning_rates: a function of the batch's
    index within this epoch; average: a MovingAverage of the parameters, updated after each step, or None.
    Returns the mean cost and the fraction classified correctly, both over the batches as they went.
    Raises DivergenceError as soon as a batch's cost is NaN, infinite or above max_cost.
    """
    total_cost, correct = 0.0, 0
    # A diverging run is caught from its cost below; numpy's overflow warnings would only say it worse.
    with np.errstate(over="ignore", invalid="ignore"):
        for batch, start in enumerate(range(0, len(x), batch_size)):
            inputs, targets = x[start : start + batch_size], labels[start : start + batch_size]
            cost, right = network.learn(inputs, targets)
            if not cost <= max_cost:  # also true for NaN
                raise DivergenceError(f"the cost reached {cost:.4g} in batch {batch + 1}")
            optimizer.step(network.gradients(), learning_rates(batch))
            if average:
                average.update()
            total_cost += cost * len(targets)
            correct += right
    return total_cost / len(x), float(correct / len(x))
