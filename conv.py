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
A 3 x 3 convolution pooled 2 x 2 over many channels takes a shortcut, Winograd's (WINOGRAD_INPUT).

    layers = [Conv2D((28, 28, 1), 32, pool=2), Flatten((13, 13, 32)), Dense(5408, 10)]
"""

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import nn

# Winograd's F(2 x 2, 3 x 3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
# the 2 x 2 outputs of a 3 x 3 filter g over a 4 x 4 tile d of its input are A^T [(G g G^T) * (B^T d B)] A,
# with * elementwise. Across channels, that is 16 products of (tiles, in) x (in, out), one per element
# of the 4 x 4 tiles, where im2col multiplies 4 pixels x 9 = 36 times per tile and channel pair; the
# transforms, products with the small constant matrices B^T, G and A^T, are a pass over memory each,
# over arrays 16/36 the size of im2col's columns. With 2 x 2 pooling, each pooling square is one tile.
# It pays when the products are most of the work, with many input channels; on few, the passes over
# memory cost more than the multiplications they save. Measured forward and backward on one core,
# against im2col: 0.65 of its time from 32 channels to 64 (the CNN's second layer), 0.8 from 24 to
# 32, 0.84 from 16 to 32, but 1.16 from 8 to 32, and several times its time from one channel.
WINOGRAD_INPUT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])  # B^T, 4 x 4
WINOGRAD_FILTER = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])  # G, 4 x 3
WINOGRAD_OUTPUT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])  # A^T, 2 x 4
WINOGRAD_MIN_CHANNELS = 16  # input channels from which Winograd's products are used


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
    takes several times faster than strided pixels. A 3 x 3 kernel of stride 1 pooled 2 x 2 over 16
    or more input channels is computed by Winograd's F(2 x 2, 3 x 3) (WINOGRAD_INPUT above), the same
    pixels with 16/36 of the multiplications; any other by im2col. Both give the pixels in the same
    order, grouped by corner.
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
        self.winograd = (kernel, stride, pool) == (3, 1, 2) and in_channels >= WINOGRAD_MIN_CHANNELS
        self.weights = nn.initial_weights(kernel * kernel * in_channels, channels, activation, rng, init, dtype)
        self.bias = np.zeros(channels, dtype)
        self.grad_weights, self.grad_bias = np.zeros_like(self.weights), np.zeros_like(self.bias)

    def corners(self):
        """The (dy, dx) places in a pooling square, in reading order."""
        return itertools.product(range(self.pool), repeat=2)

    def forward(self, x, training=False):
        """x: (batch, height, width, in_channels), or its flat rows -> (batch, *output_shape)."""
        n = len(x)
        x = self.pad(x.reshape(n, *self.input_shape))
        self.z = (self.winograd_forward if self.winograd else self.im2col_forward)(x)
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
        channels = self.output_shape[2]
        grad = grad_output.reshape(-1, channels)
        nn.ACTIVATIONS[self.activation][1](self.output, grad)
        self.sums(grad, self.grad_bias)  # the bias gradient: the sum over every pixel of the batch
        grad_z = self.buffer("grad_z", self.z.shape)
        route_to_max(self.z, self.pooled, grad, grad_z, self.buffer("hit", grad.shape, dtype=bool))
        grad_input = (self.winograd_backward if self.winograd else self.im2col_backward)(grad_z, need_input_grad)
        if grad_input is None:
            return None
        p, (height, width, _) = self.padding, self.input_shape
        return grad_input[:, p : p + height, p : p + width, :]

    def im2col_forward(self, x):
        """The padded input x (batch, height, width, in_channels) -> z (pool * pool, batch * pooled
        pixels, channels): every pixel the pooling keeps, grouped by corner, before bias and activation."""
        n, k, pool, s = len(x), self.kernel, self.pool, self.stride
        height, width, channels = self.output_shape
        windows = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]  # the windows the stride keeps
        windows = windows.transpose(0, 1, 2, 4, 5, 3)  # (n, y, x, dy, dx, c)
        if self.input_shape[2] == 1:
            self.columns = self.one_channel_columns(windows)
        else:
            columns = self.buffer("columns", (pool * pool, n, height, width, k, k, self.input_shape[2]))
            for corner, (dy, dx) in zip(columns, self.corners()):
                corner[...] = windows[:, dy : pool * height : pool, dx : pool * width : pool]
            self.columns = columns.reshape(-1, len(self.weights))
        z = np.matmul(self.columns, self.weights, out=self.buffer("z", (len(self.columns), channels)))
        return z.reshape(pool * pool, -1, channels)

    def one_channel_columns(self, windows):
        """im2col's columns for one input channel, from the windows (n, y, x, dy, dx, 1): the same
        (pixels, k * k) matrix, stored transposed. A window's row of k pixels is too short for numpy
        to copy fast; stored this way, each copy is a whole row of output pixels for one kernel
        offset, and the matrix products read the transpose as it is, without a copy."""
        n, k, pool = len(windows), self.kernel, self.pool
        height, width, _ = self.output_shape
        columns = self.buffer("columns", (k, k, pool * pool, n, height, width))
        for corner, (dy, dx) in enumerate(self.corners()):
            columns[:, :, corner] = windows[:, dy : pool * height : pool, dx : pool * width : pool, :, :, 0].transpose(
                3, 4, 0, 1, 2)
        return columns.reshape(k * k, -1).T

    def im2col_backward(self, grad_z, need_input_grad):
        """grad_z, the gradient w.r.t. z -> grad_weights, and the gradient w.r.t. the padded input
        (None unless need_input_grad)."""
        k, pool, s = self.kernel, self.pool, self.stride
        height, width, channels = self.output_shape
        n = grad_z.shape[1] // (height * width)
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
        in_channels = self.input_shape[2]
        per_offset = self.weights.reshape(k * k, in_channels, channels).transpose(0, 2, 1)
        grad_rows = grad_image.reshape(-1, channels)
        grad_windows = np.matmul(grad_rows, per_offset,
                                 out=self.buffer("grad_windows", (k * k, len(grad_rows), in_channels)))
        grad_input = self.zero_grad_input(n)
        for grad_window, (dy, dx) in zip(grad_windows, itertools.product(range(k), repeat=2)):
            # The pixels at this offset in the windows: one every `stride`, from (dy, dx) on.
            grad_input[:, dy : dy + s * (conv_height - 1) + 1 : s, dx : dx + s * (conv_width - 1) + 1 : s, :] += (
                grad_window.reshape(n, conv_height, conv_width, in_channels))
        return grad_input

    def zero_grad_input(self, n):
        """Zeros of the padded input's shape for n images, to add the windows' gradients onto."""
        p, (height, width, in_channels) = self.padding, self.input_shape
        grad_input = self.buffer("grad_input", (n, height + 2 * p, width + 2 * p, in_channels))
        grad_input[...] = 0
        return grad_input

    def two_sided(self, matrix, x, name):
        """matrix @ x @ matrix.T on the first two axes of x (p, p, ...), for matrix (q, p): out[a, b] =
        the sum over i and j of matrix[a, i] * x[i, j] * matrix[b, j], (q, q, ...), in the buffer `name`.
        Two products, one per axis, each a single pass over memory."""
        (q, p), rest = matrix.shape, x.shape[2:]
        matrix = matrix.astype(self.dtype)
        half = self.buffer(name + " half", (p, q, math.prod(rest)))
        np.matmul(matrix, x.reshape(p, p, -1), out=half)  # half[i, b] = sum over j of matrix[b, j] * x[i, j]
        out = self.buffer(name, (q, q, *rest))
        # out[a, b] = sum over i of matrix[a, i] * half[i, b]
        np.matmul(matrix, half.reshape(p, -1), out=out.reshape(q, -1))
        return out

    def winograd_forward(self, x):
        """What im2col_forward computes, by Winograd's F(2 x 2, 3 x 3) (WINOGRAD_INPUT above): the 4 x 4
        input tile d under each pooling square gives the square's pixels of filter g as A^T [(G g G^T)
        * (B^T d B)] A, one product over the channels for each of the 16 elements of the tiles."""
        n, in_channels = len(x), self.input_shape[2]
        height, width, channels = self.output_shape
        tiles = sliding_window_view(x, (4, 4), axis=(1, 2))[:, : 2 * height : 2, : 2 * width : 2]
        d = self.buffer("tiles", (4, 4, n, height, width, in_channels))
        d[...] = tiles.transpose(4, 5, 0, 1, 2, 3)  # (row in the tile, column in the tile, n, y, x, in_channel)
        self.tiles = self.two_sided(WINOGRAD_INPUT, d, "B^T d B").reshape(16, -1, in_channels)
        self.filters = self.two_sided(WINOGRAD_FILTER, self.weights.reshape(3, 3, in_channels, channels),
                                      "G g G^T").reshape(16, in_channels, channels)
        products = np.matmul(self.tiles, self.filters, out=self.buffer("products", (16, len(self.tiles[0]), channels)))
        z = self.two_sided(WINOGRAD_OUTPUT, products.reshape(4, 4, -1, channels), "z")  # (dy, dx, tiles, channels)
        return z.reshape(4, -1, channels)

    def winograd_backward(self, grad_z, need_input_grad):
        """im2col_backward by Winograd's F(2 x 2, 3 x 3): each step of winograd_forward is a product
        with a constant matrix, whose gradient is the product with its transpose."""
        in_channels, (height, width, channels) = self.input_shape[2], self.output_shape
        grad_products = self.two_sided(WINOGRAD_OUTPUT.T, grad_z.reshape(2, 2, -1, channels), "grad_products")
        grad_products = grad_products.reshape(16, -1, channels)
        grad_filters = np.matmul(self.tiles.transpose(0, 2, 1), grad_products,
                                 out=self.buffer("grad_filters", self.filters.shape))
        self.grad_weights[...] = self.two_sided(WINOGRAD_FILTER.T, grad_filters.reshape(4, 4, in_channels, channels),
                                                "grad_weights").reshape(self.grad_weights.shape)
        if not need_input_grad:
            return None
        grad_tiles = np.matmul(grad_products, self.filters.transpose(0, 2, 1),
                               out=self.buffer("grad_tiles", self.tiles.shape))
        n = len(grad_tiles[0]) // (height * width)
        grad_d = self.two_sided(WINOGRAD_INPUT.T, grad_tiles.reshape(4, 4, n, height, width, in_channels), "grad_d")
        grad_input = self.zero_grad_input(n)
        for (i, j), grad_pixel in zip(itertools.product(range(4), repeat=2), grad_d.reshape(16, n, height, width, -1)):
            grad_input[:, i : i + 2 * height : 2, j : j + 2 * width : 2, :] += grad_pixel  # the tiles overlap by 2
        return grad_input

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
