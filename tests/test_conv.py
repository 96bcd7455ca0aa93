"""Convolution (with and without its max-pooling), the max-pooling layer, flattening and dropout:
gradients against finite differences in float64, agreement with PyTorch when it is installed, shape
checks, and a small CNN that learns."""

import tracemalloc

import numpy as np
import pytest
from test_nn import analytic_gradients, numeric_gradient, parameter_gradients_as_training_computes_them, relative_error

import conv
import nn
from conftest import ROOT
from support import model

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch): "
                                 "the comparison with its conv2d and max_pool2d is skipped")


def check_gradients(layer, x, extra_parameters=()):
    """Compare the layer's backward with central differences of cost = sum(output * weights_out) for
    a fixed random weights_out, for the input and for every parameter."""
    out_weights = np.random.default_rng(7).normal(size=layer.forward(x).shape)

    def cost():
        return float(np.sum(layer.forward(x, training=True) * out_weights))

    layer.forward(x, training=True)
    grad_x = layer.backward(out_weights.copy(), need_input_grad=True).copy()
    analytic = [g.copy() for g in layer.gradients()]
    assert relative_error(grad_x.reshape(x.shape), numeric_gradient(cost, x)) < 1e-7
    for parameter, grad in zip(layer.parameters(), analytic):
        assert relative_error(grad, numeric_gradient(cost, parameter)) < 1e-7


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("kernel, padding", [(1, 0), (3, 0), (5, 0), (3, 1), (5, 2)])
def test_convolution_gradients(in_channels, kernel, padding):
    rng = np.random.default_rng(kernel + 10 * in_channels)
    layer = conv.Conv2D((7, 6, in_channels), 4, kernel, padding, "tanh", rng, dtype=np.float64)
    layer.bias[:] = rng.normal(size=4)  # nonzero, so that a lost bias term would show
    check_gradients(layer, rng.normal(size=(3, 7, 6, in_channels)))


@pytest.mark.parametrize("kernel, padding, stride, pool", [(3, 0, 2, 1), (3, 1, 2, 1), (2, 0, 2, 1), (1, 0, 3, 1),
                                                           (5, 2, 3, 1), (3, 1, 2, 2), (2, 0, 3, 1)])
def test_strided_convolution_gradients(kernel, padding, stride, pool):
    """With stride 2 or 3 the windows overlap (kernel 3, 5), touch (2, 2) or leave pixels out (1, 3;
    2, 3), whose gradient is then 0; with padding and with pooling after the stride."""
    rng = np.random.default_rng(kernel + 10 * stride)
    layer = conv.Conv2D((9, 8, 2), 3, kernel, padding, "tanh", rng, dtype=np.float64, pool=pool, stride=stride)
    layer.bias[:] = rng.normal(size=3)
    check_gradients(layer, rng.normal(size=(3, 9, 8, 2)))


def test_a_strided_convolution_sees_the_windows_a_stride_apart():
    """Stride 2 of a 3 x 3 kernel on 9 x 8 pixels: the windows at rows and columns 0, 2, 4, 6 (8 - 3 = 5
    is the last column a window starts at, so 4 of them), each the same as the unstrided layer's."""
    rng = np.random.default_rng(4)
    strided = conv.Conv2D((9, 8, 2), 3, 3, 0, "tanh", rng, stride=2)
    plain = conv.Conv2D((9, 8, 2), 3, 3, 0, "tanh", stride=1)
    plain.weights[...] = strided.weights
    x = rng.normal(size=(2, 9, 8, 2)).astype(np.float32)
    assert strided.output_shape == (4, 3, 3)
    np.testing.assert_array_equal(strided.forward(x), plain.forward(x)[:, ::2, ::2])
    assert conv.Conv2D((28, 28, 1), 8, 3, 1, stride=2).output_shape == (14, 14, 8)
    assert conv.Conv2D((28, 28, 1), 8, 5, 2, stride=2, pool=2).output_shape == (7, 7, 8)


@pytest.mark.parametrize("height, width", [(7, 6), (6, 8), (5, 5)])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("winograd", [False, True])
def test_pooled_convolution_gradients_including_odd_sizes(height, width, activation, winograd):
    """Pooling inside the convolution: the odd sizes (5 x 4, 3 x 3 after a 3 x 3 kernel) drop a last
    row or column; ReLU is checked at inputs far enough from its kink for finite differences. By
    im2col and by Winograd's products, which the layer would choose only for 16 channels or more."""
    rng = np.random.default_rng(height * width)
    layer = conv.Conv2D((height, width, 2), 3, 3, 0, activation, rng, dtype=np.float64, pool=2)
    layer.winograd = winograd
    layer.bias[:] = rng.normal(size=3)
    assert layer.output_shape == ((height - 2) // 2, (width - 2) // 2, 3)
    check_gradients(layer, rng.normal(size=(2, height, width, 2)))


@pytest.mark.parametrize("winograd", [False, True])
def test_pooled_convolution_equals_convolution_then_max_pooling(winograd):
    """The fused layer pools before its bias and activation: the same outputs and gradients as the
    convolution followed by the max-pooling layer, on the same weights (which computes by im2col)."""
    rng = np.random.default_rng(5)
    fused = conv.Conv2D((9, 7, 3), 4, 3, 1, "relu", rng, pool=2)
    fused.winograd = winograd
    fused.bias[:] = rng.normal(size=4)
    apart = conv.Conv2D((9, 7, 3), 4, 3, 1, "relu")
    apart.weights[...], apart.bias[...] = fused.weights, fused.bias
    pooling = conv.MaxPool2D(apart.output_shape)
    x = rng.normal(size=(5, 9, 7, 3)).astype(np.float32)
    grad = rng.normal(size=(5, *fused.output_shape)).astype(np.float32)
    np.testing.assert_allclose(fused.forward(x), pooling.forward(apart.forward(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.backward(grad.copy()), apart.backward(pooling.backward(grad.copy())), atol=1e-5)
    np.testing.assert_allclose(fused.grad_weights, apart.grad_weights, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fused.grad_bias, apart.grad_bias, rtol=1e-5)


def test_pooled_convolution_sends_a_tie_to_the_first_pixel_only():
    """A 1 x 1 filter of weight 1 copies its input: a square of equal pixels is a four-way tie."""
    layer = conv.Conv2D((2, 2, 1), 1, 1, 0, "identity", pool=2)
    layer.weights[...] = 1
    layer.forward(np.ones((1, 2, 2, 1), np.float32))
    grad = layer.backward(np.full((1, 1, 1, 1), 5, np.float32))
    np.testing.assert_array_equal(grad[0, :, :, 0], [[5, 0], [0, 0]])


def test_convolution_accepts_flat_rows_and_gives_the_documented_shape():
    layer = conv.Conv2D((28, 28, 1), 32, 3)
    out = layer.forward(np.ones((2, 784), np.float32))
    assert out.shape == (2, 26, 26, 32) and out.dtype == np.float32 and layer.output_shape == (26, 26, 32)
    assert conv.Conv2D((28, 28, 1), 8, 5, padding=2).output_shape == (28, 28, 8)
    assert conv.Conv2D((28, 28, 1), 32, 3, pool=2).forward(np.ones((2, 784), np.float32)).shape == (2, 13, 13, 32)


@pytest.mark.parametrize("height, width", [(4, 6), (5, 7), (3, 3)])
def test_max_pooling_gradients_including_odd_sizes(height, width):
    x = np.random.default_rng(height * width).normal(size=(2, height, width, 3))
    layer = conv.MaxPool2D((height, width, 3), dtype=np.float64)
    assert layer.forward(x).shape == (2, height // 2, width // 2, 3)
    check_gradients(layer, x)


def test_max_pooling_picks_the_largest_and_drops_the_odd_edge():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    out = conv.MaxPool2D((5, 5, 1)).forward(x)
    np.testing.assert_array_equal(out[0, :, :, 0], [[6, 8], [16, 18]])


def test_max_pooling_sends_a_tie_to_the_first_pixel_only():
    layer = conv.MaxPool2D((2, 2, 1))
    layer.forward(np.ones((1, 2, 2, 1), np.float32))
    grad = layer.backward(np.full((1, 1, 1, 1), 5, np.float32))
    np.testing.assert_array_equal(grad[0, :, :, 0], [[5, 0], [0, 0]])


def test_flatten_round_trip():
    layer = conv.Flatten((2, 3, 4))
    x = np.arange(48.0).reshape(2, 2, 3, 4)
    assert layer.forward(x).shape == (2, 24)
    np.testing.assert_array_equal(layer.backward(layer.forward(x)), x)


def test_dropout_gradient_at_a_fixed_mask_and_its_scaling():
    layer = nn.Dropout(0.5, np.random.default_rng(0), dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(4, 6))
    out = layer.forward(x, training=True)
    mask = layer.mask.copy()
    assert set(np.unique(mask)) <= {0.0, 2.0} and 0 < np.count_nonzero(mask) < mask.size
    np.testing.assert_array_equal(out, x * mask)
    grad = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_array_equal(layer.backward(grad.copy()), grad * mask)  # d(x * mask)/dx = mask
    np.testing.assert_array_equal(layer.forward(x, training=False), x)  # in use: the identity


def test_dropout_keeps_the_mean():
    x = np.ones((1000, 100), np.float32)
    assert nn.Dropout(0.3, np.random.default_rng(0)).forward(x, training=True).mean() == pytest.approx(1, abs=0.01)


@pytest.mark.parametrize("make, message", [
    (lambda: conv.Conv2D((4, 4, 1), 8, 5), "5 x 5 kernel does not fit the 4 x 4 images it meets$"),
    (lambda: conv.Conv2D((4, 6, 1), 8, 7, 1), "7 x 7 kernel does not fit the 4 x 6 images it meets with padding 1"),
    (lambda: conv.Conv2D((4, 4, 1), 8, 0), "a convolution needs a kernel, channels, stride and pooling of 1 or more"),
    (lambda: conv.Conv2D((4, 4, 1), 8, 3, stride=0), "stride and pooling of 1 or more"),
    (lambda: conv.Conv2D((4, 4, 1), 8, 3, stride=2, pool=2), "not the 1 x 1 that the convolution gives"),
    (lambda: conv.Conv2D((4, 4, 1), 0, 3), "a convolution needs"),
    (lambda: conv.Conv2D((4, 4, 1), 8, 3, -1), "padding of 0 or more"),
    (lambda: conv.MaxPool2D((1, 6, 3)), "at least 2 x 2"),
    (lambda: conv.Conv2D((3, 4, 1), 8, 3, pool=2), "2 x 2 max-pooling needs images of at least 2 x 2 pixels, not "
                                                   "the 1 x 2 that the convolution gives"),
    (lambda: conv.Conv2D((4, 4, 1), 8, 3, pool=0), "pooling of 1 or more"),
    (lambda: nn.Dropout(1.0), "dropout rate"),
    (lambda: nn.Dropout(-0.1), "dropout rate"),
])
def test_impossible_layers_are_refused_when_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_layers_that_just_fit_are_built():
    assert conv.Conv2D((4, 4, 1), 8, 6, 1).output_shape == (1, 1, 8)  # 6 = 4 + 2 * 1
    assert conv.Conv2D((4, 5, 1), 8, 4).output_shape == (1, 2, 8)
    assert conv.MaxPool2D((2, 3, 1)).output_shape == (1, 1, 1)
    default = conv.Conv2D((8, 8, 2), 4)  # 3 x 3, no padding, ReLU
    assert (default.output_shape, default.weights.shape, default.activation) == ((6, 6, 4), (18, 4), "relu")
    assert model.weights_shape(model.layer_config(default)) == (18, 4)
    assert conv.Conv2D((4, 4, 1), 1, 1).output_shape == (4, 4, 1)  # one 1 x 1 filter


def test_winograds_products_for_3x3_kernels_of_stride_1_pooled_over_16_channels_or_more():
    def chosen(in_channels=16, kernel=3, stride=1, pool=2):
        return conv.Conv2D((12, 12, in_channels), 8, kernel, 1, pool=pool, stride=stride).winograd

    assert chosen() and chosen(in_channels=64)
    assert not any([chosen(in_channels=15), chosen(kernel=5), chosen(kernel=2), chosen(stride=2), chosen(pool=1)])


def test_a_batch_of_the_same_size_allocates_no_new_large_arrays():
    """Convolution and pooling write into buffers made on the first batch (see Layer.buffer): a
    later batch of the same size allocates less than one convolution output's worth (numpy's own
    temporaries, such as casting buffers, and whatever else runs stay well below it)."""
    fused, convolution, pooling = (conv.Conv2D((16, 16, 2), 16, 3, 1, pool=2), conv.Conv2D((16, 16, 2), 16, 3, 1),
                                   conv.MaxPool2D((16, 16, 16)))
    winograd = conv.Conv2D((16, 16, 16), 16, 3, 1, pool=2)
    assert winograd.winograd and not fused.winograd
    x = np.random.default_rng(0).random((32, 16, 16, 2), dtype=np.float32)
    sixteen_channels = np.tile(x, 8)
    grad = np.ones((32, 8, 8, 16), np.float32)

    def one_batch():
        fused.forward(x)
        fused.backward(grad.copy())
        pooling.forward(convolution.forward(x))
        convolution.backward(pooling.backward(grad.copy()))
        winograd.forward(sixteen_channels)
        winograd.backward(grad.copy())

    one_batch()
    tracemalloc.start()
    try:
        one_batch()
        largest = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    output_bytes = 32 * 16 * 16 * 16 * 4
    assert largest < output_bytes, f"{largest} bytes allocated in a batch"


def small_cnn(dtype=np.float64, seed=0, dropout=0.0):
    rng = np.random.default_rng(seed)
    first = conv.Conv2D((8, 8, 1), 3, 3, 0, "relu", rng, dtype=dtype, pool=2)
    second = conv.Conv2D((3, 3, 3), 4, 3, 1, "relu", rng, dtype=dtype)
    layers = [first, second, conv.Flatten((3, 3, 4), dtype),
              nn.Dropout(dropout, rng, dtype), nn.Dense(36, 5, "identity", rng, dtype=dtype)]
    return nn.Network(layers)


def test_whole_cnn_gradients_match_finite_differences():
    network = small_cnn()
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(4, 64)), rng.integers(0, 5, 4)

    def cost():
        return network.cost(network.forward(x), labels)[0]

    network.forward(x)
    grad_x = network.backward(network.cost(network.forward(x), labels)[1], need_input_grad=True).copy()
    analytic = [g.copy() for g in network.gradients()]
    for parameter, grad in zip(network.parameters(), analytic):
        assert relative_error(grad, numeric_gradient(cost, parameter)) < 1e-6
    assert relative_error(grad_x.reshape(x.shape), numeric_gradient(cost, x)) < 1e-6


@needs_torch
@pytest.mark.parametrize("in_channels, kernel, padding, stride", [(1, 3, 0, 1), (3, 5, 0, 1), (2, 3, 1, 1),
                                                                  (2, 3, 1, 2), (1, 5, 2, 3), (3, 2, 0, 2)])
def test_convolution_agrees_with_pytorch(in_channels, kernel, padding, stride):
    rng = np.random.default_rng(in_channels)
    layer = conv.Conv2D((9, 8, in_channels), 6, kernel, padding, "identity", rng, stride=stride)
    layer.bias[:] = rng.normal(size=6)
    x = rng.normal(size=(5, 9, 8, in_channels)).astype(np.float32)
    grad_out = rng.normal(size=(5, *layer.output_shape)).astype(np.float32)
    out = layer.forward(x).copy()
    grad_x = layer.backward(grad_out.copy()).copy()

    # torch: NCHW images, weights (out, in, K, K); ours: NHWC, weights rows in (dy, dx, in) order.
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    w_t = torch.tensor(layer.weights.reshape(kernel, kernel, in_channels, 6).transpose(3, 2, 0, 1).copy(),
                       requires_grad=True)
    b_t = torch.tensor(layer.bias, requires_grad=True)
    out_t = torch.nn.functional.conv2d(x_t, w_t, b_t, padding=padding, stride=stride)
    out_t.backward(torch.tensor(grad_out.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out, out_t.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grad_x, x_t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grad_weights.reshape(kernel, kernel, in_channels, 6),
                               w_t.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grad_bias, b_t.grad.numpy(), rtol=1e-4, atol=1e-4)


@needs_torch
@pytest.mark.parametrize("height, width", [(6, 6), (7, 5)])
def test_max_pooling_agrees_with_pytorch(height, width):
    rng = np.random.default_rng(height)
    layer = conv.MaxPool2D((height, width, 4))
    x = rng.normal(size=(3, height, width, 4)).astype(np.float32)
    grad_out = rng.normal(size=(3, *layer.output_shape)).astype(np.float32)
    out = layer.forward(x).copy()
    grad_x = layer.backward(grad_out.copy()).copy()
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(x_t, 2)
    out_t.backward(torch.tensor(grad_out.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out, out_t.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-6)
    np.testing.assert_allclose(grad_x, x_t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("height, width, in_channels", [(8, 8, 3), (9, 7, 3), (8, 8, 16), (9, 7, 20)])
def test_pooled_convolution_agrees_with_pytorch(height, width, in_channels):
    """With 16 input channels or more, by Winograd's products; its blank rows at the top (zero input,
    the same pixels in a whole pooling square) send each square's gradient to its first pixel, as
    PyTorch does."""
    rng = np.random.default_rng(height)
    layer = conv.Conv2D((height, width, in_channels), 5, 3, 0, "relu", rng, pool=2)
    assert layer.winograd == (in_channels >= 16)
    layer.bias[:] = rng.normal(size=5)
    x = rng.normal(size=(4, height, width, in_channels)).astype(np.float32)
    x[:, :4] = 0
    grad_out = rng.normal(size=(4, *layer.output_shape)).astype(np.float32)
    out = layer.forward(x).copy()
    grad_x = layer.backward(grad_out.copy()).copy()
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    w_t = torch.tensor(layer.weights.reshape(3, 3, in_channels, 5).transpose(3, 2, 0, 1).copy(), requires_grad=True)
    b_t = torch.tensor(layer.bias, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(x_t, w_t, b_t)), 2)
    out_t.backward(torch.tensor(grad_out.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out, out_t.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_x, x_t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grad_weights.reshape(3, 3, in_channels, 5), w_t.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grad_bias, b_t.grad.numpy(), rtol=1e-4, atol=1e-4)


@needs_torch
def test_the_benchmark_builds_the_same_cnn_in_pytorch():
    import importlib.util

    spec = importlib.util.spec_from_file_location("torch_mnist", ROOT / "bench" / "torch_mnist.py")
    torch_mnist = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(torch_mnist)
    network = model.build([16], [4, 6], kernel=3, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).random((8, 784), dtype=np.float32)
    with torch.no_grad():
        theirs = torch_mnist.torch_network(network)(torch.from_numpy(x).reshape(-1, 1, 28, 28)).numpy()
    np.testing.assert_allclose(network.forward(x), theirs, rtol=1e-4, atol=1e-5)


def test_training_backward_fills_the_first_convolutions_gradients():
    rng = np.random.default_rng(3)
    network = nn.Network([conv.Conv2D((6, 6, 1), 3, 3, 1, "tanh", rng, dtype=np.float64, pool=2),
                          conv.Flatten((3, 3, 3)),
                          nn.Dense(27, 4, rng=rng, dtype=np.float64)])
    network.layers[0].bias[:] = rng.normal(size=3)
    x, labels = rng.normal(size=(5, 36)), rng.integers(0, 4, 5)
    training = parameter_gradients_as_training_computes_them(network, x, labels)
    full, _ = analytic_gradients(network, x, labels)
    for a, b in zip(training, full):
        np.testing.assert_array_equal(a, b)
