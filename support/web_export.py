"""A trained network as a static web page that reads digits drawn in any browser.

The folder holds the page and its scripts, copied from web/ (index.html, page.js, prepare.js and
recognizer.js, which runs the network), and the network itself: network.json describes the layers,
weights.bin holds their weights and biases one after another (packed below). Each layer in
network.json names where its weights start among those floats:

    {"type": "dense", "inputs": 784, "outputs": 512, "activation": "relu", "weights": 0, "bias": 401408}
    {"type": "conv", "inputShape": [28, 28, 1], "outputShape": [13, 13, 32], "kernel": 3, "padding": 0,
     "stride": 1, "pool": 2, "activation": "relu", "weights": 0, "bias": 288}
    {"type": "scale", "features": 32, "activation": "relu", "weights": 320, "bias": 352}

with the arrays in this project's layout (nn.Dense, conv.Conv2D): dense weights (inputs, outputs),
convolution weights (kernel * kernel * in_channels, channels), images channels last. A "scale" layer
is a batch normalisation that could not go into the layer before it (exportable.py): each value
times its feature's (its channel's) scale plus its shift, nn.BatchNorm.scale_and_shift. Flatten
layers are left out: the page keeps every image as flat rows channels last, as conv.Flatten reads it.

    site = site_files(network, metadata)   # name -> bytes, made before anything is written
    write_site(site, "site/")

weights.bin is small enough to load on a phone: each float32 is rounded to its 16 most significant
bits (of 24; relative error at most 2^-16, which moves the default network's probabilities by less
than 1e-5), so that its top three bytes hold it; the first bytes of all the floats come first, then
the second bytes, then the third, and the whole is gzip-compressed. Grouped so, the bytes holding
signs and exponents, alike from one weight to the next, compress well; a float's four bytes side
by side would not. For the default network that is 0.98 MB instead of 1.6 MB of plain float32.
"""

import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np

import conv
import nn
from support import exportable, files, mnist, model

TEMPLATES = Path(__file__).resolve().parent.parent / "web"
PAGE = ("index.html", "page.js", "prepare.js", "recognizer.js")
NETWORK, WEIGHTS = "network.json", "weights.bin"
FORMAT = "handwriting-recognition web network"
VERSION = 1


class FolderError(ValueError):
    """A folder that the page may not be written into."""


def site_files(network, metadata):
    """The folder's files, name -> content (bytes), for `network` and `metadata` as model.load gives
    them. Raises exportable.ExportError for a network with a layer the page cannot run."""
    layers, arrays, offset = [], [], 0
    for layer in exportable.layers(network):
        if isinstance(layer, conv.Flatten):
            continue
        weights, bias = layer.scale_and_shift() if isinstance(layer, nn.BatchNorm) else layer.parameters()
        layers.append({**shape(layer), "activation": layer.activation,
                       "weights": offset, "bias": offset + weights.size})
        arrays += [weights.ravel(), bias]
        offset += weights.size + bias.size
    dataset = metadata.get("dataset", "mnist")
    description = {"format": FORMAT, "version": VERSION, "dataset": dataset,
                   "classes": list(mnist.DATASETS[dataset].classes), "output": exportable.output(network),
                   "description": model.describe(network), "testAccuracy": metadata.get("test_accuracy"),
                   "weightsFile": WEIGHTS, "floats": offset, "layers": layers}
    site = {name: (TEMPLATES / name).read_bytes() for name in PAGE}
    site[NETWORK] = json.dumps(description, indent=1).encode()
    site[WEIGHTS] = packed(np.concatenate(arrays))
    return site


def packed(floats):
    """float32 values (n,) -> weights.bin's bytes: each rounded to the nearest float32 whose lowest byte
    is 0 (adding half of that byte carries into the exponent when the mantissa is full, as rounding
    should), its three top bytes grouped by place, gzip-compressed. mtime=0: the same network gives
    the same file."""
    top = (floats.astype(np.float32).view(np.uint32) + np.uint32(0x80)) >> np.uint32(8)
    planes = np.stack([top >> np.uint32(16), top >> np.uint32(8), top]).astype(np.uint8)  # astype keeps the low byte
    return gzip.compress(planes.tobytes(), compresslevel=9, mtime=0)


def shape(layer):
    """What the page needs to know of a layer besides its activation and weights."""
    if isinstance(layer, nn.BatchNorm):
        return {"type": "scale", "features": layer.gamma.size}
    if isinstance(layer, nn.Dense):
        inputs, outputs = layer.weights.shape
        return {"type": "dense", "inputs": inputs, "outputs": outputs}
    return {"type": "conv", "inputShape": list(layer.input_shape), "outputShape": list(layer.output_shape),
            "kernel": layer.kernel, "padding": layer.padding, "stride": layer.stride, "pool": layer.pool}


def check_folder(folder, force=False):
    """Raise FolderError when `folder` holds files other than an earlier export's and force is false."""
    folder = Path(folder)
    entries = sorted(entry.name for entry in folder.iterdir()) if folder.is_dir() else []
    if not entries or force or (is_site(folder) and set(entries) <= set(PAGE) | {NETWORK, WEIGHTS}):
        return
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise FolderError(f"it holds other files ({shown}): give --force to write the page beside them, "
                      "or choose an empty or new folder")


def is_site(folder):
    """Whether `folder` holds a page that export.py wrote: a network.json of this format."""
    try:
        return json.loads((Path(folder) / NETWORK).read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def write_site(site, folder):
    """Write the files of site_files into `folder`, made if missing (with its parents). They are written
    into a new folder beside it first, which then becomes `folder`, or whose files are moved into it one
    by one, each atomically: a failure leaves `folder` as it was. Raises OSError naming the file."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    staging.mkdir()
    try:
        for name, content in site.items():
            try:
                files.write_atomically(staging / name, lambda file, content=content: file.write(content))
            except OSError as error:
                raise OSError(error.errno, error.strerror, str(folder / name)) from None
        if not folder.exists():
            staging.rename(folder)
            return
        for name in site:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
