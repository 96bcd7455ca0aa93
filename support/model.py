"""Models: the networks train.py builds from its flags, saved to an .npz file and loaded back.

The file is a plain numpy archive, read with allow_pickle=False so that opening a model can never
run code: one array per weight matrix and bias vector (weights{i} and bias{i} of layer i) and a JSON
header holding the layers (each as the arguments that rebuild it), the loss, how inputs are made
from pixels, the dataset whose classes the outputs are (a name in mnist.DATASETS), and metadata
such as the test accuracy and the flags it was trained with. Files written by earlier versions
still load: one step at read time (_upgrade) turns their header into today's.
"""

import json
import math
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

import conv
import nn
from support import files, mnist

FORMAT = "handwriting-recognition network"
VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
# How a network input is made from a 28 x 28 uint8 image: row by row, pixel / 255 (0 paper, 1 ink).
INPUT = {"height": mnist.IMAGE_SIZE, "width": mnist.IMAGE_SIZE, "scale": 1 / 255, "ink": "bright"}
IMAGE_SHAPE = (mnist.IMAGE_SIZE, mnist.IMAGE_SIZE, 1)
LAYER_TYPES = {"dense": nn.Dense, "dropout": nn.Dropout, "conv": conv.Conv2D, "maxpool": conv.MaxPool2D,
               "flatten": conv.Flatten}


ZIP_MAGIC = b"PK\x03\x04"  # an .npz file is a zip archive of .npy files
NPY_MAGIC = b"\x93NUMPY"


class ModelError(ValueError):
    """A file that is not a model this project wrote, or is damaged; the message names the file."""


def build(hidden, conv_channels=(), kernel=3, padding="valid", activation="relu", loss="cross-entropy", dropout=0.0,
          init="scaled", rng=None, dropout_rng=None, pool=2):
    """The network train.py's flags describe, float32, for 28 x 28 images and 10 classes.

    One block per entry C of conv_channels: C filters of K x K, the activation, P x P max-pooling (one
    conv.Conv2D layer; P = 1: none). kernel and pool: K and P for every block, or a sequence of one per
    block; padding: "valid" (none) or "same" ((K - 1) // 2 zeros around the image, which keep its
    size). Then the hidden dense layers
    of the given sizes and the output layer (nn.mlp), each after a dropout layer when dropout > 0. rng
    draws the initial weights, dropout_rng the dropout masks. Raises ValueError when the images become
    too small for a block.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    kernels, pools = (per_block(value, name, len(conv_channels)) for value, name in ((kernel, "kernel sizes"),
                                                                                   (pool, "pooling sizes")))
    layers, shape = [], IMAGE_SHAPE
    for channels, k, p in zip(conv_channels, kernels, pools):
        layers.append(conv.Conv2D(shape, channels, k, (k - 1) // 2 if padding == "same" else 0, activation, rng,
                                  init, pool=p))
        shape = layers[-1].output_shape
    if conv_channels:
        layers.append(conv.Flatten(shape))
    dense = nn.mlp([math.prod(shape), *hidden, mnist.CLASSES], activation, loss, rng, init, dropout=dropout,
                   dropout_rng=dropout_rng)
    return nn.Network(layers + dense.layers, loss)


def per_block(value, name, blocks):
    """One value per convolutional block: `value` repeated, or the sequence `value` of one per block."""
    values = [value] * blocks if isinstance(value, int) else list(value)
    if len(values) != blocks:
        raise ValueError(f"{len(values)} {name} for {blocks} convolutional blocks: give one, or one per block")
    return values


def describe(network):
    """One line about the layers: "conv 32 3x3 relu, maxpool 2x2, flatten, dense 5408-10"."""
    words = {
        nn.Dense: lambda layer: f"dense {layer.weights.shape[0]}-{layer.weights.shape[1]}",
        nn.Dropout: lambda layer: f"dropout {layer.rate:g}",
        conv.Conv2D: lambda layer: f"conv {layer.output_shape[2]} {layer.kernel}x{layer.kernel}"
                                   + (f" padding {layer.padding}" if layer.padding else ""),
        conv.MaxPool2D: lambda layer: "maxpool 2x2",
        conv.Flatten: lambda layer: "flatten",
    }
    parts = []
    for layer in network.layers:
        activation = getattr(layer, "activation", "identity")
        parts.append(words[type(layer)](layer) + ("" if activation == "identity" else f" {activation}"))
        if getattr(layer, "pool", 1) > 1:
            parts.append(f"maxpool {layer.pool}x{layer.pool}")
    return ", ".join(parts)


def layer_config(layer):
    """What rebuilds `layer` without its weights: its type (a name in LAYER_TYPES) and its
    constructor's arguments."""
    if isinstance(layer, nn.Dense):
        inputs, outputs = layer.weights.shape
        return {"type": "dense", "inputs": inputs, "outputs": outputs, "activation": layer.activation}
    if isinstance(layer, nn.Dropout):
        return {"type": "dropout", "rate": layer.rate}
    if isinstance(layer, conv.Conv2D):
        return {"type": "conv", "input_shape": list(layer.input_shape), "channels": layer.output_shape[2],
                "kernel": layer.kernel, "padding": layer.padding, "activation": layer.activation, "pool": layer.pool}
    kind = {conv.MaxPool2D: "maxpool", conv.Flatten: "flatten"}[type(layer)]
    return {"type": kind, "input_shape": list(layer.input_shape)}


def weights_shape(config):
    """The shape of the weights a layer's config (as layer_config gives it) asks for, known before the
    layer is made; None for a layer without weights."""
    if config["type"] == "dense":
        return config["inputs"], config["outputs"]
    if config["type"] == "conv":
        return config.get("kernel", 3) ** 2 * config["input_shape"][2], config["channels"]
    return None


def save(network, path, metadata=None, extra_arrays=None, dataset="mnist"):
    """Write `network`, trained on `dataset` (a name in mnist.DATASETS), a JSON-able `metadata` dict
    and any `extra_arrays` (name -> array, for a checkpoint) to `path` atomically and durably
    (files.py). Raises OSError naming `path` when it cannot be written."""
    if dataset not in mnist.DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(mnist.DATASETS)}")
    header = {"format": FORMAT, "version": VERSION, "layers": [layer_config(layer) for layer in network.layers],
              "loss": network.loss, "input": INPUT, "dataset": dataset, "metadata": metadata or {}}
    arrays = {"header": np.array(json.dumps(header))}
    for i, layer in enumerate(network.layers):
        if layer.parameters():
            arrays[f"weights{i}"], arrays[f"bias{i}"] = layer.parameters()
    arrays.update(extra_arrays or {})

    # A file object: given a name, np.savez would append .npz to it.
    files.write_atomically(path, lambda file: np.savez(file, **arrays))


def load(path):
    """Read a model file; returns (network, metadata). metadata is the dict given to save, with
    "dataset" added: the name in mnist.DATASETS of the dataset whose classes the network's outputs
    are. Raises ModelError naming the file when it is missing, not ours, of an unknown version, or
    inconsistent."""
    network, metadata, _ = read(path)
    return network, metadata


def read(path):
    """Read a model file; returns (network, metadata as load gives it, all its arrays by name, extra
    ones included)."""
    path = Path(path)
    arrays = _read_arrays(path)
    header = _read_header(path, arrays)
    network = _build_from(path, header, arrays)
    for i, layer in enumerate(network.layers):
        for name, target in zip((f"weights{i}", f"bias{i}"), layer.parameters()):
            array = arrays.get(name)
            if array is None or array.shape != target.shape or array.dtype.kind != "f":
                found = "missing" if array is None else f"{array.dtype} {array.shape}"
                raise ModelError(f"{path}: {name} is {found}, expected float {target.shape}")
            target[...] = array
    return network, {**header["metadata"], "dataset": header["dataset"]}, arrays


def _read_arrays(path):
    """The arrays of the .npz file `path` by name, each checked to be a numpy array of finite numbers."""
    not_ours = f"{path}: not a model file written by train.py --save"
    try:
        with open(path, "rb") as file:
            magic = file.read(len(NPY_MAGIC))
            if magic.startswith(ZIP_MAGIC):  # np.load would read anything else as an array or a pickle
                file.seek(0)
                with np.load(file, allow_pickle=False) as archive:
                    arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file; train one with ./train.py --save {path}") from None
    except OSError as error:  # the file (a folder, no permission) or its zip structure
        raise ModelError(f"{not_ours} ({error.strerror or error})") from None
    except (EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, SyntaxError,
            tokenize.TokenError, OverflowError, MemoryError) as error:
        # Beyond broken zip data: NotImplementedError for an unknown compression method,
        # RuntimeError for a member marked as encrypted, SyntaxError and TokenError from numpy's
        # parser of a damaged array header, OverflowError and MemoryError for an array header
        # claiming more than memory holds.
        raise ModelError(f"{not_ours} ({error or type(error).__name__})") from None
    except ValueError as error:
        if "allow_pickle" in str(error):  # numpy's advice to load it unsafely is not for our users
            raise ModelError(f"{not_ours} (it holds Python objects, which are never loaded)") from None
        raise ModelError(f"{not_ours} ({error})") from None
    if not magic.startswith(ZIP_MAGIC):
        raise ModelError(f"{not_ours} ({'a single array, .npy' if magic == NPY_MAGIC else 'not an .npz archive'})")
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray):
            raise ModelError(f"{not_ours} ({name} is not a numpy array)")
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            raise ModelError(f"{path}: {name} holds NaN or infinity (a training run that diverged, or a damaged file)")
    return arrays


def _read_header(path, arrays):
    """The checked JSON header of a model file's arrays."""
    try:
        header = json.loads(str(arrays["header"]))
    except (KeyError, ValueError):
        raise ModelError(f"{path}: not a model file written by train.py --save (no header)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelError(f"{path}: not a model file written by train.py --save")
    if header.get("version") not in READABLE_VERSIONS:
        raise ModelError(f"{path}: model format version {header.get('version')!r}; this program reads versions "
                         f"{' and '.join(map(str, READABLE_VERSIONS))}")
    _upgrade(path, header)
    if header.get("loss") not in nn.LOSSES:
        raise ModelError(f"{path}: unknown loss {header.get('loss')!r}")
    if header.get("input") != INPUT:
        raise ModelError(f"{path}: its inputs are made differently from pixels: {header.get('input')!r}")
    if not isinstance(header["dataset"], str) or header["dataset"] not in mnist.DATASETS:
        raise ModelError(f"{path}: trained on an unknown dataset {header['dataset']!r}; this program knows "
                         f"{', '.join(mnist.DATASETS)}")
    if not isinstance(header.setdefault("metadata", {}), dict):
        raise ModelError(f"{path}: its metadata is not a dictionary")
    return header


def _upgrade(path, header):
    """Turn the header of a file written by an earlier version into today's, in place. Version 1
    held only the sizes of its dense layers and their activation; files from before datasets had
    names were all trained on MNIST. (Version 2 kept max-pooling as a layer of its own, which
    conv.MaxPool2D still is.)"""
    if header["version"] == 1:
        header["layers"] = _dense_layers(path, header.get("sizes"), header.get("activation"))
    header.setdefault("dataset", "mnist")
    header["version"] = VERSION


def _dense_layers(path, sizes, activation):
    """The layers of a version 1 file, which held the sizes of its dense layers and their activation."""
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(isinstance(n, int) and n > 0 for n in sizes)):
        raise ModelError(f"{path}: bad layer sizes {sizes!r}")
    last = len(sizes) - 2
    return [{"type": "dense", "inputs": n_in, "outputs": n_out, "activation": "identity" if i == last else activation}
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]


def _build_from(path, header, arrays):
    """The network that the header's layers describe, with fresh weights; ModelError if it is not one.
    Each layer's weights must be in `arrays` before the layer is built: a header may claim anything."""
    configs = header.get("layers")
    if not isinstance(configs, list) or not configs:
        raise ModelError(f"{path}: no list of layers")
    layers = []
    for i, config in enumerate(configs):
        kind = config.get("type") if isinstance(config, dict) else None
        if kind not in LAYER_TYPES:
            raise ModelError(f"{path}: layer {i + 1} is of an unknown type {kind!r}")
        if config.get("activation", "identity") not in nn.ACTIVATIONS:
            raise ModelError(f"{path}: layer {i + 1} has an unknown activation {config['activation']!r}")
        arguments = {name: value for name, value in config.items() if name != "type"}
        try:
            claimed, found = weights_shape(config), arrays.get(f"weights{i}")
            if claimed is not None and (found is None or found.shape != tuple(claimed)):
                raise ModelError(f"{path}: layer {i + 1} ({kind}) claims weights of shape {tuple(claimed)}, but the "
                                 f"file holds {'none' if found is None else found.shape}")
            layers.append(LAYER_TYPES[kind](**arguments))
        except ModelError:
            raise
        except (TypeError, ValueError, IndexError, KeyError) as error:
            raise ModelError(f"{path}: layer {i + 1} ({kind}) cannot be built: {error}") from None
    try:
        network = nn.Network(layers, header["loss"])
    except ValueError as error:
        raise ModelError(f"{path}: {error}") from None
    pixels, outputs = math.prod(network.input_shape or (0,)), math.prod(network.output_shape or (0,))
    if pixels != math.prod(IMAGE_SHAPE) or outputs != mnist.CLASSES:
        raise ModelError(f"{path}: a {pixels}-input, {outputs}-output network; digits need {math.prod(IMAGE_SHAPE)} "
                         f"and {mnist.CLASSES}")
    return network
