"""Convolutional layers in numpy: 2-D convolution, 2 x 2 max-pooling and flattening.

A batch of images is a (batch, height, width, channels) float32 array, channels last, so that the
channels of one pixel sit side by side in memory. A network's inputs arrive as flat rows (batch,
height * width * channels), and each layer reshapes them to the image shape it was built for,
which costs nothing.

Convolution becomes one matrix product (im2col): every K x K window of the input, across all its
channels, is copied into a row of a "columns" matrix, and that matrix times the weights gives every
output pixel of every filter at once. The copying is a loop over the K x K offsets of the kernel,
each copying one shifted view of the whole batch; there is no loop over samples, pixels or channels.
Backward runs the same products in reverse and adds the columns' gradients back onto the windows
they came from (col2im).

    layers = [Conv2D((28, 28, 1), 32), MaxPool2D((26, 26, 32)), Flatten((13, 13, 32)), Dense(5408, 10)]
"""

import math

import numpy as np

import nn


class Conv2D(nn.Layer):
    """`channels` filters of kernel x kernel over all input channels, stride 1, then an activation.

    input_shape: (height, width, in_channels); padding: zero pixels added on every side (0: "valid",
    (kernel - 1) // 2: "same" for odd kernels). weights: (kernel * kernel * in_channels, channels),
    one column per filter with its rows in (dy, dx, in_channel) order; bias: (channels,).
    """

    def __init__(self, input_shape, channels, kernel=3, padding=0, activation="relu", rng=None, init="scaled",
                 dtype=np.float32):
        height, width, in_channels = input_shape
        if kernel < 1 or padding < 0 or channels < 1:
            raise ValueError("a convolution needs a kernel and channels of 1 or more, and padding of 0 or more")
        if kernel > min(height, width) + 2 * padding:
            raise ValueError(f"a {kernel} x {kernel} kernel does not fit the {height} x {width} images it meets"
                             + (f" with padding {padding}" if padding else ""))
        rng = np.random.default_rng(0) if rng is None else rng
        self.input_shape, self.kernel, self.padding, self.activation, self.dtype = (
            tuple(input_shape), kernel, padding, activation, dtype)
        self.output_shape = (height + 2 * padding - kernel + 1, width + 2 * padding - kernel + 1, channels)
        fan_in, _ = self.weights_shape(input_shape, channels, kernel)
        self.weights = nn.initial_weights(fan_in, channels, activation, rng, init, dtype)
        self.bias = np.zeros(channels, dtype)
        self.grad_weights, self.grad_bias = np.zeros_like(self.weights), np.zeros_like(self.bias)
        out_height, out_width, _ = self.output_shape
        self.floats_per_sample = out_height * out_width * (fan_in + channels)  # the columns and the output

    @staticmethod
    def weights_shape(input_shape, channels, kernel=3, **other_arguments):
        """The shape of the weights the constructor's arguments ask for, known before they are made."""
        return kernel * kernel * input_shape[2], channels

    def config(self):
        return {"type": "conv", "input_shape": list(self.input_shape), "channels": self.output_shape[2],
                "kernel": self.kernel, "padding": self.padding, "activation": self.activation}

    def forward(self, x, training=False):
        """x: (batch, height, width, in_channels), or its flat rows -> (batch, out_height, out_width, channels)."""
        n, k = len(x), self.kernel
        out_height, out_width, channels = self.output_shape
        x = self.pad(x.reshape(n, *self.input_shape))
        columns = self.buffer("columns", (n, out_height, out_width, k, k, self.input_shape[2]))
        for dy in range(k):
            for dx in range(k):
                columns[:, :, :, dy, dx, :] = x[:, dy : dy + out_height, dx : dx + out_width, :]
        self.columns = columns.reshape(n * out_height * out_width, -1)
        z = np.matmul(self.columns, self.weights, out=self.buffer("output", (n * out_height * out_width, channels)))
        z += self.bias
        self.output = nn.ACTIVATIONS[self.activation][0](z)
        return self.output.reshape(n, *self.output_shape)

    def pad(self, x):
        """x (batch, height, width, in_channels) inside a border of `padding` zeros (x itself without)."""
        if not self.padding:
            return x
        p, (height, width, in_channels) = self.padding, self.input_shape
        padded = self.buffer("padded", (len(x), height + 2 * p, width + 2 * p, in_channels), zeros=True)
        padded[:, p : p + height, p : p + width, :] = x  # the border stays zero from the buffer's creation
        return padded

    def backward(self, grad_output, need_input_grad=True):
        """Gradient w.r.t. the output (batch, out_height, out_width, channels) -> w.r.t. the input
        (batch, height, width, in_channels). Overwrites grad_output."""
        n, k = len(grad_output), self.kernel
        out_height, out_width, channels = self.output_shape
        grad = grad_output.reshape(-1, channels)
        nn.ACTIVATIONS[self.activation][1](self.output, grad)
        np.matmul(self.columns.T, grad, out=self.grad_weights)
        np.sum(grad, axis=0, out=self.grad_bias)
        if not need_input_grad:
            return None
        grad_columns = np.matmul(grad, self.weights.T, out=self.buffer("grad_columns", self.columns.shape))
        grad_columns = grad_columns.reshape(n, out_height, out_width, k, k, -1)
        p, (height, width, in_channels) = self.padding, self.input_shape
        grad_input = self.buffer("grad_input", (n, height + 2 * p, width + 2 * p, in_channels))
        grad_input[...] = 0
        # Each input pixel fed up to K x K output pixels, once through each kernel offset: add them up.
        for dy in range(k):
            for dx in range(k):
                grad_input[:, dy : dy + out_height, dx : dx + out_width, :] += grad_columns[:, :, :, dy, dx, :]
        return grad_input[:, p : p + height, p : p + width, :]

    def parameters(self):
        return [self.weights, self.bias]

    def gradients(self):
        return [self.grad_weights, self.grad_bias]


class MaxPool2D(nn.Layer):
    """2 x 2 max-pooling with stride 2: each output pixel is the largest of a 2 x 2 square of its
    channel. input_shape: (height, width, channels); an odd last row or column is dropped."""

    CORNERS = ((0, 0), (0, 1), (1, 0), (1, 1))

    def __init__(self, input_shape, dtype=np.float32):
        height, width, channels = input_shape
        if min(height, width) < 2:
            raise ValueError(f"2 x 2 max-pooling needs images of at least 2 x 2 pixels, not {height} x {width}")
        self.input_shape, self.dtype = tuple(input_shape), dtype
        self.output_shape = (height // 2, width // 2, channels)
        self.floats_per_sample = math.prod(self.input_shape)  # the input gradient

    def config(self):
        return {"type": "maxpool", "input_shape": list(self.input_shape)}

    def corner(self, x, dy, dx):
        """The view of x (batch, height, width, channels) that holds each square's (dy, dx) pixel."""
        out_height, out_width, _ = self.output_shape
        return x[:, dy : 2 * out_height : 2, dx : 2 * out_width : 2, :]

    def forward(self, x, training=False):
        """x: (batch, height, width, channels), or its flat rows -> (batch, height // 2, width // 2, channels)."""
        self.input = x.reshape(len(x), *self.input_shape)
        output = self.buffer("output", (len(x), *self.output_shape))
        output[...] = self.corner(self.input, 0, 0)
        for dy, dx in self.CORNERS[1:]:
            np.maximum(output, self.corner(self.input, dy, dx), out=output)
        self.output = output
        return output

    def backward(self, grad_output, need_input_grad=True):
        """The gradient goes to the pixel that was the largest of its square (the first one, on a tie,
        as PyTorch does), nothing to the others."""
        grad_input = self.buffer("grad_input", self.input.shape, zeros=True)  # a dropped odd row stays 0
        taken = self.buffer("taken", self.output.shape, dtype=bool)  # where a square's maximum was found
        taken[...] = False
        hit = self.buffer("hit", self.output.shape, dtype=bool)
        for dy, dx in self.CORNERS:
            np.equal(self.corner(self.input, dy, dx), self.output, out=hit)
            np.greater(hit, taken, out=hit)  # hit and not taken: a maximum found earlier comes first
            taken |= hit
            np.multiply(grad_output, hit, out=self.corner(grad_input, dy, dx))
        return grad_input


class Flatten(nn.Layer):
    """Images (batch, height, width, channels) -> rows (batch, height * width * channels), for Dense."""

    def __init__(self, input_shape, dtype=np.float32):
        self.input_shape, self.dtype = tuple(input_shape), dtype
        self.output_shape = (math.prod(input_shape),)

    def config(self):
        return {"type": "flatten", "input_shape": list(self.input_shape)}

    def forward(self, x, training=False):
        return x.reshape(len(x), *self.output_shape)

    def backward(self, grad_output, need_input_grad=True):
        return grad_output.reshape(len(grad_output), *self.input_shape)
