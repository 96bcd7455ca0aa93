"""A trained network as the exporters see it (onnx_export.py, web_export.py): the layers that compute
something in use, each a dense or convolutional layer or a batch normalisation with its activation,
or a flatten, and the function that turns the last layer's outputs into probabilities.

Dropout computes nothing in use, so it is left out. A max-pooling layer of its own (model files of
version 2) after an unpooled convolution becomes that convolution's pooling, which computes the same
(conv.Conv2D). A batch normalisation in use is a scale and a shift of each feature
(nn.BatchNorm.scale_and_shift); after a dense layer or a convolution without activation it goes into
their weights and bias, (x @ w + b) * scale + shift = x @ (w * scale) + (b * scale + shift), and so
costs nothing. Not before a convolution's max-pooling where a scale is negative, though, as the
largest of the scaled values is then the scaled smallest one: there it stays a layer of its own. Any
other layer, or an activation or a loss that this module does not name, is refused with ExportError
rather than exported wrong.
"""

import copy

import conv
import nn

ACTIVATIONS = ("identity", "relu", "leaky-relu", "sigmoid", "tanh")
LEAKY_SLOPE = 0.01  # nn.leaky_relu's default, which every layer uses
# The loss decides how logits become probabilities (nn.LOSSES): softmax, or its output activation.
OUTPUTS = {"cross-entropy": "softmax", "mse": "sigmoid", "mse-relu": "relu"}
LAYERS = (nn.Dense, conv.Conv2D, conv.Flatten, nn.BatchNorm)


class ExportError(ValueError):
    """A network with a layer, an activation or a loss that cannot be exported."""


def layers(network):
    """network.layers without the dropout layers, each checked to be one the exporters know."""
    kept = []
    for number, layer in enumerate(network.layers, 1):
        if isinstance(layer, nn.Dropout):
            continue
        if isinstance(layer, conv.MaxPool2D) and kept and isinstance(kept[-1], conv.Conv2D) and kept[-1].pool == 1:
            kept[-1] = pooled(kept[-1], layer)
            continue
        if isinstance(layer, nn.BatchNorm) and kept and foldable(kept[-1], layer):
            kept[-1] = folded(kept[-1], layer)
            continue
        if type(layer) not in LAYERS:
            raise ExportError(f"layer {number} is a {type(layer).__name__}, which export.py cannot export "
                              f"(it knows {', '.join(kind.__name__ for kind in LAYERS)} and Dropout)")
        activation = getattr(layer, "activation", "identity")
        if activation not in ACTIVATIONS:
            raise ExportError(f"layer {number} has the activation {activation!r}, which export.py cannot export")
        kept.append(layer)
    return kept


def pooled(convolution, pooling):
    """The convolution with the 2 x 2 max-pooling layer that follows it inside it, as conv.Conv2D(pool=2)
    would be (a copy: the network itself is left as it is)."""
    inside = copy.copy(convolution)
    inside.pool, inside.output_shape = 2, pooling.output_shape
    return inside


def foldable(layer, batch_norm):
    """Whether the batch normalisation after `layer` can go into its weights and bias exactly."""
    return (isinstance(layer, (nn.Dense, conv.Conv2D)) and layer.activation == "identity"
            and (getattr(layer, "pool", 1) == 1 or (batch_norm.scale_and_shift()[0] >= 0).all()))


def folded(layer, batch_norm):
    """The dense or convolutional layer with the batch normalisation after it inside its weights and
    bias, and its activation (a copy: the network itself is left as it is)."""
    scale, shift = batch_norm.scale_and_shift()
    inside = copy.copy(layer)
    inside.weights, inside.bias = layer.weights * scale, layer.bias * scale + shift  # each output column scaled
    inside.activation = batch_norm.activation
    return inside


def output(network):
    """The output function of the network's loss: "softmax", "sigmoid" or "relu"."""
    if network.loss not in OUTPUTS:
        raise ExportError(f"the loss {network.loss!r} has an output function export.py does not know")
    return OUTPUTS[network.loss]
