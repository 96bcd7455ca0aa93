"""Property-based tests: damaged, mutated and random files given to every reader of files.

Each reader either reads the file correctly or raises its module's own error (mnist.MnistError,
model.ModelError, ink.ImageError), never another exception. The mutations start from small valid
files: truncations, flipped bits (many of them where the file's structure is, since a flip inside
the data is rarely interesting), overwritten header bytes, and bytes at random.
"""

import functools
import gzip
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import nn
from conftest import idx_bytes
from support import ink, mnist, model

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One folder for the module: Hypothesis runs each test many times, and function-scoped fixtures
    would not be set up again between the runs."""
    return tmp_path_factory.mktemp("fuzz")


# --- Mutations of a file's bytes ----------------------------------------------------------------------


def flip_bits(data, flips):
    """`data` with the bits (offset, bit) in `flips` inverted (offsets past the end wrap around)."""
    flipped = bytearray(data)
    for offset, bit in flips:
        flipped[offset % len(flipped)] ^= 1 << bit
    return bytes(flipped)


def overwrite(data, offset, replacement):
    return data[:offset] + replacement + data[offset + len(replacement):]


def mutations(original, hot_spots=(0,), spread=64):
    """Damaged copies of `original`: truncated, bits flipped, bytes overwritten, or random bytes.

    Offsets are drawn anywhere in the file or within `spread` bytes after one of the `hot_spots`
    (where headers and tables are)."""
    n = len(original)
    near_structure = st.tuples(st.sampled_from(hot_spots), st.integers(0, spread - 1)).map(lambda t: min(sum(t), n - 1))
    offsets = st.one_of(st.integers(0, n - 1), near_structure)
    return st.one_of(
        offsets.map(lambda k: original[:k]),
        st.lists(st.tuples(offsets, st.integers(0, 7)), min_size=1, max_size=6).map(lambda f: flip_bits(original, f)),
        st.tuples(offsets, st.binary(min_size=1, max_size=8)).map(lambda t: overwrite(original, *t)),
        st.binary(max_size=min(n, 512)),
        st.binary(max_size=16).map(lambda head: head + original[len(head):]),
    )


def read_or_own_error(read, path, own_error, names_file=True):
    """read(path), or None when it raises `own_error` in one line that names the file (if names_file);
    any other exception goes through and fails the test."""
    try:
        return read(path)
    except own_error as error:
        message = str(error)
        assert "\n" not in message
        assert message.startswith(f"{path}: ") or not names_file
        return None


# --- The IDX reader ---------------------------------------------------------------------------------------

IDX_ARRAYS = [
    np.arange(2 * 5 * 4, dtype=np.uint8).reshape(2, 5, 4),
    np.array([-3, 0, 300, -32768], ">i2"),
    np.array([[1.5, -2.0, np.inf]], ">f4"),
]


IDX_FILES = [idx_bytes(array) for array in IDX_ARRAYS]


@st.composite
def idx_contents(draw):
    """(bytes of a file, its content once decompressed): plain, gzip of a mutated IDX, or mutated gzip."""
    original = draw(st.sampled_from(IDX_FILES))
    layer = draw(st.sampled_from(["plain", "gzip of mutated", "mutated gzip"]))
    if layer == "mutated gzip":
        compressed = gzip.compress(original, mtime=0)
        data = draw(mutations(compressed, hot_spots=(0, len(compressed) - 8), spread=16))
        return data, None
    data = draw(mutations(original, hot_spots=(0,), spread=16))
    return (gzip.compress(data, mtime=0) if layer == "gzip of mutated" else data), data


@EXAMPLES
@given(idx_contents(), st.sampled_from(["digits-idx", "digits-idx.gz"]))
@example((IDX_FILES[0], IDX_FILES[0]), "digits-idx")
def test_idx_reader_reads_exactly_or_raises_mnist_error(folder, content, name):
    data, decompressed = content
    path = folder / name
    path.write_bytes(data)
    array = read_or_own_error(mnist.read_idx, path, mnist.MnistError)
    if array is None:
        return
    if decompressed is None:  # a mutated gzip stream that still decompresses
        decompressed = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    assert idx_bytes(array) == decompressed


# --- Model files --------------------------------------------------------------------------------------------


@functools.cache
def model_file():
    """The bytes of a small valid model file and the offsets of its zip structure."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "valid.npz"
        model.save(nn.mlp([784, 8, 10], rng=np.random.default_rng(0)), path, {"test_accuracy": 0.5})
        data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [info.header_offset for info in archive.infolist()]
    # Local headers, the .npy headers just after them, and the central directory at the end.
    hot_spots = tuple(members) + tuple(offset + 40 for offset in members) + (len(data) - 400, len(data) - 200)
    return data, hot_spots


SHAPES = [(784, 8), (8,), (8, 10), (10,)]  # the weights and biases of the fuzzed model


def model_with_header(path, change):
    """Write to `path` the fuzzed model with its JSON header text replaced by change(text)."""
    with np.load(io.BytesIO(model_file()[0])) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["header"] = np.array(change(str(arrays["header"])))
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def test_the_fuzzed_model_file_is_valid_to_begin_with(folder):
    path = folder / "valid-copy.npz"
    path.write_bytes(model_file()[0])
    network, metadata = model.load(path)
    assert [p.shape for p in network.parameters()] == SHAPES and metadata == {"test_accuracy": 0.5, "dataset": "mnist"}


@EXAMPLES
@given(data=st.data())
def test_model_loader_loads_or_raises_model_error(folder, data):
    original, hot_spots = model_file()
    path = folder / "mutated.npz"
    path.write_bytes(data.draw(mutations(original, hot_spots)))
    loaded = read_or_own_error(model.load, path, model.ModelError)
    if loaded is not None:
        network, _ = loaded
        assert [p.shape for p in network.parameters()] == SHAPES
        assert all(np.isfinite(p).all() for p in network.parameters())


JSON_PIECES = ['"', "[", "]", "{", "}", ",", ":", "0", "1", "-1", "1.0", "1e999", "NaN", "null", "true", '""', "784",
               "99999999999"]


@EXAMPLES
@given(data=st.data())
def test_model_loader_survives_any_header_text(folder, data):
    """The zip checksums stop most byte-level changes; here the JSON header itself is mutated and the
    archive written anew, so that its checksums are right."""

    def mutate(text):
        edits = st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, 4), st.sampled_from(JSON_PIECES)),
                         min_size=1, max_size=4)
        for offset, removed, piece in data.draw(edits):
            text = text[:offset] + piece + text[offset + removed:]
        return text

    path = folder / "mutated-header.npz"
    model_with_header(path, mutate)
    read_or_own_error(model.load, path, model.ModelError)


def test_a_header_claiming_a_huge_layer_is_refused_before_anything_is_allocated(folder):
    def claim_a_huge_layer(text):
        header = json.loads(text)
        header["layers"][0]["outputs"] = header["layers"][1]["inputs"] = 10**12
        return json.dumps(header)

    path = folder / "huge-layer.npz"
    model_with_header(path, claim_a_huge_layer)
    with pytest.raises(model.ModelError):
        model.load(path)


# --- Pictures for predict.py (support/ink.py) ----------------------------------------------------------------


def picture_bytes(format_name, **options):
    """A small picture of a ring, as `format_name` (PNG or JPEG)."""
    rows, columns = np.indices((24, 20))
    ring = np.abs(np.hypot(rows - 12, columns - 10) - 6) < 2
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.where(ring, 30, 220).astype(np.uint8)).save(buffer, format_name, **options)
    return buffer.getvalue()


PICTURES = {"PNG": picture_bytes("PNG"), "JPEG": picture_bytes("JPEG", quality=90)}
# Where the structure is: PNG's signature and IHDR chunk; JPEG's markers (quantisation and Huffman
# tables, the frame header with the picture's size, the scan header).
JPEG_MARKERS = (0xD8, 0xDB, 0xC4, 0xC0, 0xDA)
PICTURE_HOT_SPOTS = {
    "PNG": (0, 8, 33),
    "JPEG": tuple(i for i, pair in enumerate(zip(PICTURES["JPEG"], PICTURES["JPEG"][1:]))
                  if pair[0] == 0xFF and pair[1] in JPEG_MARKERS),
}


@pytest.mark.parametrize("kind", PICTURES)
@EXAMPLES
@given(data=st.data())
def test_picture_reader_reads_or_raises_image_error(folder, kind, data):
    path = folder / f"mutated.{kind.lower()}"
    path.write_bytes(data.draw(mutations(PICTURES[kind], PICTURE_HOT_SPOTS[kind], spread=24)))
    # ImageError leaves naming the file to its caller, predict.py's main.
    grey = read_or_own_error(ink.read_image, path, ink.ImageError, names_file=False)
    if grey is not None:
        assert grey.ndim == 2 and grey.dtype.kind == "f"
        assert np.isfinite(grey).all() and grey.min() >= 0 and grey.max() <= 1


def jpeg_claiming_size(height, width):
    """The small JPEG with the picture size in its frame header (SOF0: FF C0, length, precision,
    height, width) changed, its data left as it is."""
    data = bytearray(PICTURES["JPEG"])
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_jpeg_claiming_a_huge_size_is_an_image_error(folder):
    """Found by the property above: a JPEG whose header claims 65000 x 65000 pixels (over Pillow's
    limit against decompression bombs)."""
    path = folder / "huge.jpg"
    path.write_bytes(jpeg_claiming_size(65000, 65000))
    with pytest.raises(ink.ImageError):
        ink.read_image(path)
