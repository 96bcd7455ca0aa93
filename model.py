"""Save a trained network to an .npz file and load it back.

The file is a plain numpy archive, read with allow_pickle=False so that opening a model can never
run code: one array per weight matrix and bias vector (weights0, bias0, weights1, ...) and a JSON
header holding the architecture, how inputs are made from pixels, and metadata such as the test
accuracy and the flags it was trained with.
"""

import json
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

import files
import nn

FORMAT = "handwriting-recognition network"
VERSION = 1
# How a network input is made from a 28 x 28 uint8 image: row by row, pixel / 255 (0 paper, 1 ink).
INPUT = {"height": 28, "width": 28, "scale": 1 / 255, "ink": "bright"}


ZIP_MAGIC = b"PK\x03\x04"  # an .npz file is a zip archive of .npy files
NPY_MAGIC = b"\x93NUMPY"


class ModelError(ValueError):
    """A file that is not a model this project wrote, or is damaged; the message names the file."""


def save(network, path, metadata=None):
    """Write `network` and a JSON-able `metadata` dict to `path` atomically and durably (files.py).
    Raises OSError naming `path` when it cannot be written."""
    header = {"format": FORMAT, "version": VERSION, "sizes": network.sizes, "activation": network.activation,
              "loss": network.loss, "input": INPUT, "metadata": metadata or {}}
    arrays = {"header": np.array(json.dumps(header))}
    for i, layer in enumerate(network.layers):
        arrays[f"weights{i}"], arrays[f"bias{i}"] = layer.weights, layer.bias
    # np.savez is given a file object: given a name, it would append .npz to it
    files.write_atomically(path, lambda file: np.savez(file, **arrays))


def load(path):
    """Read a model file; returns (network, metadata). Raises ModelError naming the file when it is
    missing, not ours, of an unknown version, or inconsistent."""
    path = Path(path)
    arrays = _read_arrays(path)
    header = _read_header(path, arrays)
    network = nn.Network(header["sizes"], header["activation"], header["loss"])
    for i, layer in enumerate(network.layers):
        for name, target in ((f"weights{i}", layer.weights), (f"bias{i}", layer.bias)):
            array = arrays.get(name)
            if array is None or array.shape != target.shape or array.dtype.kind != "f":
                found = "missing" if array is None else f"{array.dtype} {array.shape}"
                raise ModelError(f"{path}: {name} is {found}, expected float {target.shape}")
            target[...] = array
    return network, header["metadata"]


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
    if header.get("version") != VERSION:
        raise ModelError(f"{path}: model format version {header.get('version')!r}; this program reads version {VERSION}")
    sizes = header.get("sizes")
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(isinstance(n, int) and n > 0 for n in sizes)):
        raise ModelError(f"{path}: bad layer sizes {sizes!r}")
    pixels = INPUT["height"] * INPUT["width"]
    if sizes[0] != pixels or sizes[-1] != 10:
        raise ModelError(f"{path}: a {sizes[0]}-input, {sizes[-1]}-output network; digits need {pixels} and 10")
    if header.get("activation") not in nn.ACTIVATIONS or header.get("loss") not in nn.LOSSES:
        raise ModelError(f"{path}: unknown activation {header.get('activation')!r} or loss {header.get('loss')!r}")
    if header.get("input") != INPUT:
        raise ModelError(f"{path}: its inputs are made differently from pixels: {header.get('input')!r}")
    header.setdefault("metadata", {})
    return header
