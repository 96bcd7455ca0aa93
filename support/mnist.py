"""Read the MNIST handwritten digits, or Fashion-MNIST's pictures of clothes, from IDX files into
numpy arrays.

The IDX format (http://yann.lecun.com/exdb/mnist/) is tiny: two zero bytes, a type code, the number of
dimensions, each dimension as a big-endian uint32, then the raw values. MNIST ships four such files,
gzip-compressed:

    train-images-idx3-ubyte.gz  60000 x 28 x 28 uint8    train-labels-idx1-ubyte.gz  60000 uint8
    t10k-images-idx3-ubyte.gz   10000 x 28 x 28 uint8    t10k-labels-idx1-ubyte.gz   10000 uint8

Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist) has files of the same names and
format: 28 x 28 grey pictures of ten kinds of clothing, labelled 0..9. DATASETS names both.

Every problem with a file raises MnistError, whose message names the file and what is wrong.
"""

import gzip
import hashlib
import math
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from support import augment


class Dataset(NamedTuple):
    """What tells the datasets apart: their name in messages, the names of their classes by label,
    what a class is called, and the folder (relative to this file) that holds their files by default."""

    title: str
    classes: tuple
    label_name: str
    folder: str


DATASETS = {
    "mnist": Dataset("MNIST", tuple("0123456789"), "digit", "data"),
    "fashion": Dataset("Fashion-MNIST", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                         "Sneaker", "Bag", "Ankle boot"), "class", "data/fashion"),
}
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SIZE = 28  # pixels on each side of every image of both datasets
CLASSES = 10  # the labels of both datasets are 0..9
# What tells the two datasets' image files apart: the published files by their checksums (those that
# download-mnist.sh checks downloads against: SHA-256 for MNIST, the MD5 sums Fashion-MNIST's
# authors publish), and copies that are not byte for byte the published ones (recompressed, or
# rebuilt like some MNIST copies) by their mean pixel value, 0-255, over all the images of a file:
# a digit is a thin stroke on blank paper, a piece of clothing fills much of its picture. The
# training and test images of a dataset are within a grey level of each other.
PUBLISHED_IMAGES = {
    ("sha256", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"): "mnist",  # train
    ("sha256", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"): "mnist",  # test
    ("md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"): "fashion",  # train
    ("md5", "bef4ecab320f06d8554ea6380940ec79"): "fashion",  # test
}
MEAN_PIXEL = {"mnist": 33.5, "fashion": 73.0}
MEAN_PIXEL_TOLERANCE = 10  # grey levels either side: beyond, the images look like neither dataset

# IDX type code -> numpy dtype; multi-byte values are big-endian.
IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
# Deflate, gzip's compression, turns at most 1032 bytes into one, so a gzip file of n bytes holds
# at most 1032 n bytes of data.
MAX_GZIP_RATIO = 1032
CHUNK = 1 << 20  # bytes read at a time


class MnistError(ValueError):
    """A missing, unreadable or malformed MNIST file; the message names the file."""


def default_data_dir(dataset="mnist"):
    """The folder holding the dataset's files: $MNIST_DIR if set, else data/ (MNIST) or
    data/fashion/ (Fashion-MNIST) beside this file."""
    return Path(os.environ.get("MNIST_DIR") or Path(__file__).resolve().parent.parent / DATASETS[dataset].folder)


def read_idx(path):
    """Read one IDX file (gzipped or not) into an array of the shape and type its header gives.

    The size the header claims is checked against the file before anything is allocated, and gzip
    data is decompressed piece by piece up to that size only, so neither a lying header nor a
    gzip bomb can make it allocate more than the file can hold.
    """
    path = Path(path)
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise MnistError(f"{path}: file not found") from None
    except OSError as error:
        raise MnistError(f"{path}: cannot read ({error.strerror})") from None
    with file:
        size = os.fstat(file.fileno()).st_size
        if file.peek(2)[:2] == GZIP_MAGIC:
            try:
                with gzip.GzipFile(fileobj=file) as stream:
                    return _parse_idx(path, stream, MAX_GZIP_RATIO * size)
            except (OSError, EOFError, zlib.error) as error:
                raise MnistError(f"{path}: broken gzip data ({error or 'truncated'})") from None
        if path.suffix == ".gz":
            raise MnistError(f"{path}: not a gzip file, although its name ends in .gz")
        try:
            return _parse_idx(path, file, size)
        except OSError as error:
            raise MnistError(f"{path}: cannot read ({error.strerror})") from None


def _parse_idx(path, stream, capacity):
    """The array in an IDX `stream` whose content can hold at most `capacity` bytes."""

    def fail(problem):
        raise MnistError(f"{path}: {problem}")

    header = _read_at_most(stream, 4)
    if len(header) < 4:
        fail(f"incomplete IDX header ({len(header)} bytes, need at least 4)")
    if header[0] != 0 or header[1] != 0:
        fail("not an IDX file (the first two bytes must be zero)")
    type_code, ndim = header[2], header[3]
    if type_code not in IDX_TYPES:
        fail(f"unknown IDX type code 0x{type_code:02x}")
    if ndim == 0:
        fail("IDX header declares zero dimensions")
    header_size = 4 + 4 * ndim
    header += _read_at_most(stream, header_size - 4)
    if len(header) < header_size:
        fail(f"incomplete IDX header ({len(header)} bytes, need {header_size} for {ndim} dimensions)")
    shape = tuple(int(n) for n in np.frombuffer(header, ">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = header_size + math.prod(shape) * dtype.itemsize  # exact: np.prod would wrap at 2**64
    if expected > capacity:  # more than the file can hold: measure what it has, keeping none of it
        fail(f"truncated: {header_size + _count_rest(stream)} bytes, but the header {shape} needs exactly {expected}")
    # One byte more than the header claims is enough to tell that a file is overlong.
    data = _read_at_most(stream, expected - header_size + 1)
    found = header_size + len(data)
    if found < expected:
        fail(f"truncated: {found} bytes, but the header {shape} needs exactly {expected}")
    if found > expected:
        more = len(stream.read(CHUNK))  # a little more, for the message; a gzip bomb is not read to its end
        size = f"{found + more}" if more < CHUNK else f"over {found + more}"
        fail(f"overlong: {size} bytes, but the header {shape} needs exactly {expected}")
    return np.frombuffer(data, dtype).reshape(shape)


def _read_at_most(stream, n):
    """Up to `n` bytes from `stream` (fewer at its end), read piece by piece: asking for all at once
    would make Python allocate `n` bytes first, whatever the stream holds."""
    data = bytearray()
    while len(data) < n:
        piece = stream.read(min(CHUNK, n - len(data)))
        if not piece:
            break
        data += piece
    return data


def _count_rest(stream):
    """How many bytes remain in `stream`, read piece by piece and not kept."""
    count = 0
    while piece := stream.read(CHUNK):
        count += len(piece)
    return count


def find_file(data_dir, name, dataset="mnist"):
    """Path of `name` in data_dir, compressed (name.gz) or not; MnistError when neither exists."""
    data_dir = Path(data_dir)
    for candidate in (data_dir / f"{name}.gz", data_dir / name):
        if candidate.exists():
            return candidate
    download = "./download-mnist.sh" if dataset == "mnist" else f"./download-mnist.sh --dataset {dataset}"
    raise MnistError(
        f"{data_dir / (name + '.gz')}: file not found; run {download} "
        f"or set MNIST_DIR to the folder that holds the {DATASETS[dataset].title} files"
    )


def load_split(split="train", data_dir=None, dataset="mnist"):
    """One split of a dataset of DATASETS, validated.

    Returns images: (N, 28, 28) uint8 (0 = background, 255 = ink) and labels: (N,) uint8 in 0..9,
    N = 60000 for "train" and 10000 for "test". Without data_dir, from default_data_dir(dataset).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    data_dir = default_data_dir(dataset) if data_dir is None else Path(data_dir)
    image_path, label_path = (find_file(data_dir, name, dataset) for name in SPLITS[split])
    images, labels = read_idx(image_path), read_idx(label_path)
    _check_type(image_path, images, (None, IMAGE_SIZE, IMAGE_SIZE), "N x 28 x 28")
    _check_type(label_path, labels, (None,), "N")
    if len(images) != len(labels):
        raise MnistError(f"{image_path}: {len(images)} images, but {label_path.name} has {len(labels)} labels")
    n_classes, label_name = len(DATASETS[dataset].classes), DATASETS[dataset].label_name
    if labels.size and labels.max() >= n_classes:
        raise MnistError(f"{label_path}: label {labels.max()} is not a {label_name} 0-{n_classes - 1}")
    seen, evidence = recognize(image_path, images)
    if seen not in (None, dataset):
        raise MnistError(f"{image_path}: {DATASETS[seen].title}'s images, not {DATASETS[dataset].title}'s "
                         f"({evidence}): give --dataset {seen} for them, or set MNIST_DIR (or --data-dir) to the "
                         f"folder of {DATASETS[dataset].title}'s files")
    return images, labels


def recognize(path, images):
    """Which dataset's images file `path` is, holding `images` (N, 28, 28) uint8: (a name in
    DATASETS, the evidence in words), by the file's published checksum, else by the images' mean
    pixel value; (None, None) when it looks like neither dataset's."""
    content = Path(path).read_bytes()
    for (algorithm, checksum), dataset in PUBLISHED_IMAGES.items():
        if hashlib.new(algorithm, content).hexdigest() == checksum:
            return dataset, f"the {algorithm.upper()} checksum of {DATASETS[dataset].title}'s published file"
    mean = float(images.mean()) if images.size else float("nan")
    for dataset, typical in MEAN_PIXEL.items():
        if abs(mean - typical) <= MEAN_PIXEL_TOLERANCE:
            return dataset, f"mean pixel value {mean:.1f}; {DATASETS[dataset].title}'s is about {typical:g}"
    return None, None


def _check_type(path, array, shape, described):
    """Refuse an IDX array that is not uint8 of the given shape (None: any length)."""
    if array.dtype != np.uint8:
        raise MnistError(f"{path}: values are {array.dtype}, expected unsigned bytes")
    if len(array.shape) != len(shape) or any(want not in (None, got) for want, got in zip(shape, array.shape)):
        raise MnistError(f"{path}: shape {array.shape}, expected {described}")


def as_inputs(images):
    """Network inputs from images: (N, 28, 28) uint8 -> (N, 784) float32 in [0, 1]."""
    x = images.reshape(len(images), math.prod(images.shape[1:])).astype(np.float32)
    x /= 255
    return x


def shuffled_inputs(images, labels, rng, max_shift=0, out=None, degrees=0.0, zoom=0.0, elastic=()):
    """One epoch's training data: the images in a random order, each moved by a random whole number
    of pixels, at most max_shift, up or down and left or right (a digit moved a little is still the
    same digit, so the network sees new examples every epoch). With degrees or zoom, each image is
    also turned and scaled at random (augment.distort), and moved by any amount up to max_shift; with
    elastic, (alpha, sigma), also distorted elastically.

    images: (N, 28, 28) uint8, labels: (N,). Returns (N, 784) float32 in [0, 1], written into `out`
    when given, and the labels in the same order.
    """
    n = len(images)
    out = np.empty((n, IMAGE_SIZE * IMAGE_SIZE), np.float32) if out is None else out
    if degrees or zoom or elastic:
        order = rng.permutation(n)
        return augment.distort(images[order], rng, degrees, zoom, max_shift, out, *elastic), labels[order]
    rows, labels = shuffled_pixels(images, labels, rng, max_shift)
    np.copyto(out, rows.pixels)
    out /= 255
    return out, labels


def shuffled_pixels(images, labels, rng, max_shift=0, out=None):
    """What shuffled_inputs gives without turning or scaling, the same for the same generator, but
    as PixelRows, whose floats are made a batch at a time; `out`: the (N, 784) uint8 array of an
    earlier round's PixelRows, to be reused."""
    n = len(images)
    order = rng.permutation(n)
    out = np.empty((n, IMAGE_SIZE * IMAGE_SIZE), np.uint8) if out is None else out
    pictures = out.reshape(n, IMAGE_SIZE, IMAGE_SIZE)
    m = max_shift
    padded = np.pad(images, ((0, 0), (m, m), (m, m))) if m else images
    offsets = rng.integers(0, 2 * m + 1, size=(n, 2))
    # One slice per possible shift, each copying all the images that drew it: a loop over at most
    # (2 m + 1)^2 shifts, never over images.
    for dy in range(2 * m + 1):
        for dx in range(2 * m + 1):
            rows = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
            pictures[rows] = padded[order[rows], dy : dy + IMAGE_SIZE, dx : dx + IMAGE_SIZE]
    return PixelRows(out), labels[order]


class PixelRows:
    """Network inputs made from uint8 images a batch at a time: rows[i:j] is as_inputs of those
    images, (j - i, 784) float32 in [0, 1]. A round's 60,000 images stay bytes (47 MB) instead of
    floats (188 MB): fresh memory is slow to touch on a virtual machine (half a second of the ten
    that --recipe fast takes)."""

    def __init__(self, pixels):
        self.pixels = pixels  # (N, 784) uint8

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, rows):
        return as_inputs(self.pixels[rows])
