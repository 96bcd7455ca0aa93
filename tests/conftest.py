"""Shared test set-up: the repository on sys.path, IDX writing, small fake MNIST files, the real ones.

Helpers reach the tests as fixtures (`write_idx`, `fake_mnist`, `mnist_dir`, `fashion_dir`); tests
that run the scripts import ROOT from here. Fashion-MNIST's files have MNIST's names and format, so
`fake_mnist`'s files serve as a small Fashion-MNIST too.
"""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests import mnist, nn, ... as top-level modules

# IDX type codes as the format defines them, written out here rather than taken from mnist.py.
IDX_TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FAKE_SIZES = {"train": 12, "test": 5}
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's package dataset-fashion-mnist
PAUSED = "pausing inside the write"
# train.main in a process whose os.replace, which puts a written file in place (support/files.py),
# stops before putting the TARGET file in place for the Nth time, until the process is killed.
PAUSING_TRAIN = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
import train

target, pause_at, replaces = sys.argv[1], int(sys.argv[2]), []
real_replace = os.replace


def replace(source, destination):
    if os.fspath(destination) == target:
        replaces.append(destination)
        if len(replaces) == pause_at:
            print({PAUSED!r}, file=sys.stderr, flush=True)
            signal.pause()
    real_replace(source, destination)


os.replace = replace
sys.argv = ["train.py", *sys.argv[3:]]
train.main()
"""


def idx_bytes(array):
    """The IDX encoding of `array`: header, then the values big-endian."""
    array = np.asarray(array)
    code = IDX_TYPE_CODES[array.dtype.kind + str(array.dtype.itemsize)]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=None):
    """Write `array` to `path` as an IDX file, gzipped when `compress` is true (None: when path ends in .gz)."""
    path = Path(path)
    data = idx_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture(name="write_idx")
def write_idx_fixture():
    """The `write_idx(path, array, compress=None)` helper."""
    return write_idx


@pytest.fixture
def fake_mnist(tmp_path):
    """A folder with small valid gzipped MNIST files: 12 train and 5 test images, labels counting 0..9."""
    folder = tmp_path / "fake-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, (images_name, labels_name) in MNIST_FILES.items():
        n = FAKE_SIZES[split]
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(folder / f"{images_name}.gz", images)
        write_idx(folder / f"{labels_name}.gz", np.arange(n, dtype=np.uint8) % 10)
    return folder


@pytest.fixture(scope="session")
def dead_display():
    """A DISPLAY with no X server behind it (:4711, whose socket is not there); the test is skipped,
    with the reason, where one is."""
    if Path("/tmp/.X11-unix/X4711").exists():
        pytest.skip("an X server listens on :4711 here")
    return ":4711"


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder with the real MNIST files: $MNIST_DIR, else data/ where ./download-mnist.sh puts
    them. The test is skipped, with the reason, when the files are not there."""
    folder = Path(os.environ.get("MNIST_DIR") or ROOT / "data")
    names = [name for pair in MNIST_FILES.values() for name in pair]
    missing = [name for name in names if not (folder / f"{name}.gz").exists() and not (folder / name).exists()]
    if missing:
        pytest.skip(f"no MNIST files in {folder} (set MNIST_DIR, or run ./download-mnist.sh): "
                    "real-data tests need them")
    return folder


@pytest.fixture(scope="session")
def fashion_dir():
    """The folder of Debian's copy of Fashion-MNIST; the test is skipped, with the reason, without it."""
    names = [name for pair in MNIST_FILES.values() for name in pair]
    if not all((FASHION_DIR / f"{name}.gz").exists() for name in names):
        pytest.skip(f"no Fashion-MNIST files in {FASHION_DIR} (apt install dataset-fashion-mnist)")
    return FASHION_DIR


def train_paused_in_write(target, nth, args, **popen_arguments):
    """./train.py ARGS started in a process that stops inside its nth write of the file `target`,
    after the content is written and before it replaces the file, printing PAUSED to stderr first.
    Returns the subprocess.Popen, with stdout and stderr as pipes."""
    return subprocess.Popen([sys.executable, "-c", PAUSING_TRAIN, str(target), str(nth), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen_arguments)
