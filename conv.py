"""Convolutional layers in numpy: 2-D convolution with max-pooling, and flattening.

A batch of images is a (batch, height, width, channels) float32 array, channels last, so that the
channels of one pixel sit side by side in memory. A network's inputs arrive as flat rows (batch,
height * width * channels), and each layer reshapes them to the image shape it was built for,
which costs nothing.

Convolution becomes one matrix product (im2col): every K x K window of the input, across all its
channels, is copied into a row of a "columns" matrix, and that matrix times the weights gives every
output pixel of every filter at once. The copying takes a few whole-batch copies of a strided view
(numpy's sliding_window_view); there is no loop over samples, pixels or channels. Backward runs the
same products in reverse and adds each window's gradient back onto the pixels it came from (col2im).

    layers = [Conv2D((28, 28, 1), 32, pool=2), Flatten((13, 13, 32)), Dense(5408, 10)]
"""

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import nn


def max_pool(corners, out):
    """The elementwise maximum of `corners`, a sequence of arrays of one shape (the pixels in each
    position of the pooling squares), written into out and returned."""
    np.copyto(out, corners[0])
    for corner in corners[1:]:
        np.maximum(out, corner, out=out)
    return out


def route_to_max(corners, pooled, grad, grad_corners, hit):
    """Backward of max_pool: grad, the gradient w.r.t. pooled = max_pool(corners), goes to the first
    of the corners that holds the maximum (the first in reading order, as PyTorch does), nothing to
    the others; it is written into grad_corners, one array per corner. Overwrites grad; hit is a
    boolean scratch array of grad's shape."""
    for corner, grad_corner in zip(corners, grad_corners):
        np.equal(corner, pooled, out=hit)
        np.multiply(grad, hit, out=grad_corner)
        grad -= grad_corner  # given away: a later corner with the same value gets none of it


class Conv2D(nn.Layer):
    """`channels` filters of kernel x kernel over all input channels, the activation, and with
    pool=2, 2 x 2 max-pooling with stride 2 (pool=1: none).

    input_shape: (height, width, in_channels); padding: zero pixels added on every side (0: "valid",
    (kernel - 1) // 2: "same" for odd kernels); stride: the filters' step, the convolution's pixel
    (y, x) sees the window whose top left corner is the padded input's pixel (stride * y, stride * x),
    so that stride 2 halves the image as pooling does, by skipping windows instead of comparing them.
    weights: (kernel * kernel * in_channels, channels),
    one column per filter with its rows in (dy, dx, in_channel) order; bias: (channels,).
    output_shape: (height, width, channels) after the pooling, which drops an odd last row or column.

    The pooling is done before the bias and the activation: max(z) + bias = max(z + bias), and every
    activation in nn.ACTIVATIONS keeps the largest input the largest, so the outputs are the same,
    but the bias and the activation touch pool^2 times fewer values. And the convolution computes
    only the pixels the pooling keeps, grouped by their corner (their place in the pooling square):
    the squares' maxima are then the maxima of pool^2 blocks each contiguous in memory, which numpy
    takes several times faster than strided pixels.
    """

    def __init__(self, input_shape, channels, kernel=3, padding=0, activation="relu", rng=None, init="scaled",
                 dtype=np.float32, pool=1, stride=1):
        height, width, in_channels = input_shape
        if kernel < 1 or padding < 0 or channels < 1 or pool < 1 or stride < 1:
            raise ValueError("a convolution needs a kernel, channels, stride and pooling of 1 or more, "
                             "and padding of 0 or more")
        if min(height, width) + 2 * padding < kernel:
            raise ValueError(f"a {kernel} x {kernel} kernel does not fit the {height} x {width} images it meets"
                             + (f" with padding {padding}" if padding else ""))
        # The windows that fit, one every `stride` pixels: the last starts at most kernel pixels before the end.
        conv_height, conv_width = ((size + 2 * padding - kernel) // stride + 1 for size in (height, width))
        if min(conv_height, conv_width) < pool:
            raise ValueError(f"{pool} x {pool} max-pooling needs images of at least {pool} x {pool} pixels, "
                             f"not the {conv_height} x {conv_width} that the convolution gives")
        rng = np.random.default_rng(0) if rng is None else rng
        self.input_shape, self.kernel, self.padding, self.stride, self.activation, self.pool, self.dtype = (
            tuple(input_shape), kernel, padding, stride, activation, pool, dtype)
        self.output_shape = (conv_height // pool, conv_width // pool, channels)
        self.weights = nn.initial_weights(kernel * kernel * in_channels, channels, activation, rng, init, dtype)
        self.bias = np.zeros(channels, dtype)
        self.grad_weights, self.grad_bias = np.zeros_like(self.weights), np.zeros_like(self.bias)

    def corners(self):
        """The (dy, dx) places in a pooling square, in reading order."""
        return itertools.product(range(self.pool), repeat=2)

    def forward(self, x, training=False):
        """x: (batch, height, width, in_channels), or its flat rows -> (batch, *output_shape)."""
        n, k, pool, s = len(x), self.kernel, self.pool, self.stride
        height, width, channels = self.output_shape
        x = self.pad(x.reshape(n, *self.input_shape))
        windows = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]  # the windows the stride keeps
        windows = windows.transpose(0, 1, 2, 4, 5, 3)  # (n, y, x, dy, dx, c)
        columns = self.buffer("columns", (pool * pool, n, height, width, k, k, self.input_shape[2]))
        for corner, (dy, dx) in zip(columns, self.corners()):
            corner[...] = windows[:, dy : pool * height : pool, dx : pool * width : pool]
        self.columns = columns.reshape(-1, len(self.weights))
        z = np.matmul(self.columns, self.weights, out=self.buffer("z", (len(self.columns), channels)))
        self.z = z.reshape(pool * pool, -1, channels)
        self.pooled = max_pool(self.z, self.buffer("pooled", self.z.shape[1:]))
        output = np.add(self.pooled, self.bias, out=self.buffer("output", self.pooled.shape))
        self.output = nn.ACTIVATIONS[self.activation][0](output)
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
        """Gradient w.r.t. the output (batch, *output_shape) -> w.r.t. the input (batch, height, width,
        in_channels). Overwrites grad_output."""
        n, k, pool, s = len(grad_output), self.kernel, self.pool, self.stride
        height, width, channels = self.output_shape
        grad = grad_output.reshape(-1, channels)
        nn.ACTIVATIONS[self.activation][1](self.output, grad)
        ones = self.buffer("ones", (len(grad),))
        ones[...] = 1
        np.matmul(ones, grad, out=self.grad_bias)  # the sum over pixels: BLAS does it 7x faster than np.sum
        grad_z = self.buffer("grad_z", self.z.shape)
        route_to_max(self.z, self.pooled, grad, grad_z, self.buffer("hit", grad.shape, dtype=bool))
        np.matmul(self.columns.T, grad_z.reshape(-1, channels), out=self.grad_weights)
        if not need_input_grad:
            return None
        # The gradient w.r.t. the convolution's pixels as an image again, for col2im; the pixels
        # that pooling dropped, an odd last row or column, are left out: their gradient is 0.
        conv_height, conv_width = pool * height, pool * width
        grad_image = self.buffer("grad_image", (n, conv_height, conv_width, channels))
        for grad_corner, (dy, dx) in zip(grad_z, self.corners()):
            grad_image[:, dy::pool, dx::pool, :] = grad_corner.reshape(n, height, width, channels)
        # One product per kernel offset gives the gradient of the pixels that offset saw.
        p, (in_height, in_width, in_channels) = self.padding, self.input_shape
        per_offset = self.weights.reshape(k * k, in_channels, channels).transpose(0, 2, 1)
        grad_rows = grad_image.reshape(-1, channels)
        grad_windows = np.matmul(grad_rows, per_offset,
                                 out=self.buffer("grad_windows", (k * k, len(grad_rows), in_channels)))
        grad_input = self.buffer("grad_input", (n, in_height + 2 * p, in_width + 2 * p, in_channels))
        grad_input[...] = 0
        for grad_window, (dy, dx) in zip(grad_windows, itertools.product(range(k), repeat=2)):
            # The pixels at this offset in the windows: one every `stride`, from (dy, dx) on.
            grad_input[:, dy : dy + s * (conv_height - 1) + 1 : s, dx : dx + s * (conv_width - 1) + 1 : s, :] += (
                grad_window.reshape(n, conv_height, conv_width, in_channels))
        return grad_input[:, p : p + in_height, p : p + in_width, :]

    def parameters(self):
        return [self.weights, self.bias]

    def gradients(self):
        return [self.grad_weights, self.grad_bias]


class MaxPool2D(nn.Layer):
    """2 x 2 max-pooling with stride 2 as a layer of its own: each output pixel is the largest of a
    2 x 2 square of its channel. input_shape: (height, width, channels); an odd last row or column
    is dropped. model.build pools inside Conv2D instead (pool=2), which is faster; model files of
    version 2 kept pooling apart, in this layer."""

    def __init__(self, input_shape, dtype=np.float32):
        height, width, channels = input_shape
        if min(height, width) < 2:
            raise ValueError(f"2 x 2 max-pooling needs images of at least 2 x 2 pixels, not {height} x {width}")
        self.input_shape, self.dtype = tuple(input_shape), dtype
        self.output_shape = (height // 2, width // 2, channels)

    def corners(self, x):
        """The four views of x (batch, height, width, channels) that hold each square's (dy, dx) pixel."""
        out_height, out_width, _ = self.output_shape
        return [x[:, dy : 2 * out_height : 2, dx : 2 * out_width : 2, :]
                for dy, dx in itertools.product((0, 1), repeat=2)]

    def forward(self, x, training=False):
        """x: (batch, height, width, channels), or its flat rows -> (batch, height // 2, width // 2, channels)."""
        self.input = x.reshape(len(x), *self.input_shape)
        self.output = max_pool(self.corners(self.input), self.buffer("output", (len(x), *self.output_shape)))
        return self.output

    def backward(self, grad_output, need_input_grad=True):
        """The gradient goes to the pixel that was the largest of its square (the first, on a tie).
        Overwrites grad_output."""
        grad_input = self.buffer("grad_input", self.input.shape, zeros=True)  # a dropped odd row stays 0
        route_to_max(self.corners(self.input), self.output, grad_output, self.corners(grad_input),
                     self.buffer("hit", self.output.shape, dtype=bool))
        return grad_input


class Flatten(nn.Layer):
    """Images (batch, height, width, channels) -> rows (batch, height * width * channels), for Dense."""

    def __init__(self, input_shape, dtype=np.float32):
        self.input_shape, self.dtype = tuple(input_shape), dtype
        self.output_shape = (math.prod(input_shape),)

    def forward(self, x, training=False):
        return x.reshape(len(x), *self.output_shape)

    def backward(self, grad_output, need_input_grad=True):
        return grad_output.reshape(len(grad_output), *self.input_shape)
