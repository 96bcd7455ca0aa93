"""A trained network as an ONNX model, the format that onnxruntime, OpenCV, browsers' ONNX runtimes and
most frameworks read.

The model takes images as ONNX's convention has them, (N, 1, 28, 28) float32 in [0, 1], channels first
(NCHW), and gives the ten probabilities (N, 10). This project keeps images channels last, (N, H, W, C),
so the convolutions' weights are turned around on the way out, and before a Flatten the images are
turned back to channels last, so that the dense layer after it meets its inputs in the order it was
trained on. A convolution pools its output inside (conv.Conv2D), which here is its own MaxPool node.
A batch normalisation goes into the weights of the layer before it where it can (exportable.py),
else it is ONNX's BatchNormalization node, with the running statistics.

    proto = to_onnx(network, metadata)    # network, metadata = support.model.load(path)
"""

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import conv
import nn
from support import exportable, mnist, model

OPSET = 17
IR_VERSION = 8  # the IR version that came with opset 17: runtimes as old as that read the file
INPUT, OUTPUT = "image", "probabilities"
# ONNX's operator and attributes for each activation; "identity" adds no node.
ACTIVATION_NODES = {"relu": ("Relu", {}), "leaky-relu": ("LeakyRelu", {"alpha": exportable.LEAKY_SLOPE}),
                    "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {})}
OUTPUT_NODES = {"softmax": ("Softmax", {"axis": 1}), "sigmoid": ACTIVATION_NODES["sigmoid"],
                "relu": ACTIVATION_NODES["relu"]}


class Graph:
    """The nodes and weights of an ONNX graph as it is built, and where the values stand: `value`, the
    name of the latest output, and `image_shape`, its (H, W, C) when it is an NCHW image, None when it
    is rows (N, features)."""

    def __init__(self):
        self.nodes, self.weights = [], []
        self.value, self.image_shape = INPUT, (mnist.IMAGE_SIZE, mnist.IMAGE_SIZE, 1)

    def add(self, operator, *weights, output=None, **attributes):
        """A node of `operator` on the latest value and the given weights (numpy arrays); its output
        (named `output`, or after the node) becomes the latest value."""
        name = f"{operator.lower()}{len(self.nodes)}"
        inputs = [self.value]
        for i, array in enumerate(weights):
            inputs.append(f"{name}.{i}")
            self.weights.append(numpy_helper.from_array(array, inputs[-1]))
        self.value = output or name
        self.nodes.append(helper.make_node(operator, inputs, [self.value], name=name, **attributes))

    def activate(self, activation):
        if activation != "identity":
            operator, attributes = ACTIVATION_NODES[activation]
            self.add(operator, **attributes)

    def rows(self):
        """Make the latest value rows, flattened channels last (H, W, C) as conv.Flatten does."""
        if self.image_shape is None:
            return
        if self.image_shape[2] > 1:  # with one channel, NCHW and NHWC flatten alike
            self.add("Transpose", perm=[0, 2, 3, 1])
        self.add("Flatten", axis=1)
        self.image_shape = None


def dense(graph, layer):
    """Gemm computes rows @ weights + bias, as nn.Dense does with its (inputs, outputs) weights."""
    graph.rows()
    graph.add("Gemm", layer.weights, layer.bias)
    graph.activate(layer.activation)


def convolution(graph, layer):
    """Conv2D's weights (kernel * kernel * in_channels, channels), rows in (dy, dx, in_channel) order,
    become ONNX's (channels, in_channels, kernel, kernel). Pooling before or after the bias and the
    activation gives the same outputs (conv.Conv2D), so the usual order is used here. A convolution
    meets images only: the network's input, or another convolution's output (nn.Network checks)."""
    k, p, in_channels = layer.kernel, layer.padding, layer.input_shape[2]
    filters = layer.weights.reshape(k, k, in_channels, -1).transpose(3, 2, 0, 1)
    graph.add("Conv", np.ascontiguousarray(filters), layer.bias, kernel_shape=[k, k], pads=[p] * 4,
              strides=[layer.stride] * 2)
    graph.activate(layer.activation)
    if layer.pool > 1:
        graph.add("MaxPool", kernel_shape=[layer.pool] * 2, strides=[layer.pool] * 2)
    graph.image_shape = layer.output_shape


def batch_norm(graph, layer):
    """ONNX's BatchNormalization in use normalises with the running statistics given, along axis 1:
    the channels of an NCHW image, or the features of rows."""
    if len(layer.input_shape) == 1:
        graph.rows()
    graph.add("BatchNormalization", layer.gamma, layer.beta, layer.running_mean, layer.running_variance,
              epsilon=layer.eps)
    graph.activate(layer.activation)


LAYER_NODES = {nn.Dense: dense, conv.Conv2D: convolution, conv.Flatten: lambda graph, layer: graph.rows(),
               nn.BatchNorm: batch_norm}


def to_onnx(network, metadata):
    """The ONNX model (an onnx.ModelProto, checked) of `network`, with `metadata` as model.load gives it:
    its dataset, the dataset's class names, the training flags and the test accuracy go into the model's
    metadata_props (strings; the classes and flags as JSON). Raises exportable.ExportError for a network
    with a layer it does not know."""
    graph = Graph()
    for layer in exportable.layers(network):
        LAYER_NODES[type(layer)](graph, layer)
    operator, attributes = OUTPUT_NODES[exportable.output(network)]
    graph.add(operator, output=OUTPUT, **attributes)
    size = mnist.IMAGE_SIZE
    proto = helper.make_model(
        helper.make_graph(graph.nodes, "handwriting-recognition", [
            helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 1, size, size])],
            [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", mnist.CLASSES])], graph.weights),
        opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION, producer_name="handwriting-recognition",
        doc_string=model.describe(network))
    helper.set_model_props(proto, properties(network, metadata))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def properties(network, metadata):
    """The model's metadata_props: names to strings."""
    dataset = metadata.get("dataset", "mnist")
    props = {"dataset": dataset, "classes": json.dumps(list(mnist.DATASETS[dataset].classes)),
             "flags": json.dumps(metadata.get("flags", {})), "loss": network.loss}
    if "test_accuracy" in metadata:
        props["test_accuracy"] = str(metadata["test_accuracy"])
    return props
