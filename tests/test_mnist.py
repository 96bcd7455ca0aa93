"""mnist.py: IDX files read back exactly, every malformed file refused by name, and (with $MNIST_DIR) the real data."""

import gzip
import hashlib
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from support import mnist

ROOT = Path(__file__).resolve().parent.parent
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
N_TRAIN = 12  # training images in the fake_mnist fixture


def u32(*values):
    return np.array(values, ">u4").tobytes()


HEADER_2X3 = b"\0\0\x08\x02" + u32(2, 3)  # uint8, shape (2, 3): needs 6 bytes of data
VALID_IDX = HEADER_2X3 + bytes(range(6))


def raises_about(path, problem):
    """pytest.raises for an MnistError whose message is '<path>: <problem...>' (problem is a regex)."""
    return pytest.raises(mnist.MnistError, match=f"^{re.escape(str(path))}: {problem}")


def with_crc_flipped(gzipped):
    data = bytearray(gzipped)
    data[-8] ^= 0xFF  # the trailer is CRC-32 (4 bytes) then the length (4 bytes)
    return bytes(data)


# --- read_idx -------------------------------------------------------------------------------------------

ARRAYS = {
    "uint8-3d": np.arange(2 * 28 * 28).reshape(2, 28, 28).astype(np.uint8),
    "uint8-1d": np.arange(10, dtype=np.uint8),
    "int8": np.array([-128, 0, 127], np.int8),
    "int16": np.array([[-(2**15), 2**15 - 1]], ">i2"),
    "int32": np.array([[-(2**31), 0], [1, 2**31 - 1]], ">i4"),
    "float32": np.array([[1.5, -0.25, np.inf]], ">f4"),
    "float64": np.array([np.pi, -1e300], ">f8"),
}


@pytest.mark.parametrize("name, gzipped", [("data-idx", False), ("data-idx.gz", True)], ids=["plain", "gzip"])
@pytest.mark.parametrize("array", ARRAYS.values(), ids=ARRAYS.keys())
def test_read_idx_returns_what_was_written(tmp_path, write_idx, array, name, gzipped):
    path = write_idx(tmp_path / name, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gzipped
    result = mnist.read_idx(path)
    assert result.dtype == array.dtype
    assert result.shape == array.shape
    np.testing.assert_array_equal(result, array)


def test_read_idx_recognises_gzip_by_content_not_name(tmp_path, write_idx):
    path = write_idx(tmp_path / "data-idx", ARRAYS["uint8-1d"], compress=True)
    np.testing.assert_array_equal(mnist.read_idx(path), ARRAYS["uint8-1d"])


BROKEN_IDX = {
    "empty": (b"", r"incomplete IDX header \(0 bytes, need at least 4\)"),
    "shorter than 4 bytes": (b"\0\0\x08", r"incomplete IDX header \(3 bytes, need at least 4\)"),
    "first byte not zero": (b"\x01\0\x08\x01" + u32(0), r"not an IDX file \(the first two bytes must be zero\)"),
    "second byte not zero": (b"\0\x01\x08\x01" + u32(0), r"not an IDX file \(the first two bytes must be zero\)"),
    "unknown type code": (b"\0\0\x0a\x01" + u32(0), "unknown IDX type code 0x0a"),
    "zero dimensions": (b"\0\0\x08\x00", "IDX header declares zero dimensions"),
    "header shorter than its dimensions": (
        b"\0\0\x08\x03" + u32(2, 3),
        r"incomplete IDX header \(12 bytes, need 16 for 3 dimensions\)",
    ),
    "truncated": (VALID_IDX[:-1], r"truncated: 17 bytes, but the header \(2, 3\) needs exactly 18"),
    "overlong": (VALID_IDX + b"\0", r"overlong: 19 bytes, but the header \(2, 3\) needs exactly 18"),
    # 2**16 ** 4 == 2**64 wraps to 0 in int64 arithmetic: the size check must use exact integers
    "size overflowing 64 bits": (b"\0\0\x08\x04" + u32(*[2**16] * 4), r"truncated: 20 bytes, but the header"),
}


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("content, problem", BROKEN_IDX.values(), ids=BROKEN_IDX.keys())
def test_read_idx_rejects_malformed_file(tmp_path, content, problem, gzipped):
    path = tmp_path / ("broken-idx.gz" if gzipped else "broken-idx")
    path.write_bytes(gzip.compress(content) if gzipped else content)
    with raises_about(path, problem):
        mnist.read_idx(path)


BROKEN_GZIP = {
    "not gzip but named .gz": (VALID_IDX, r"not a gzip file, although its name ends in \.gz"),
    "truncated gzip": (gzip.compress(VALID_IDX)[:-10], r"broken gzip data \("),
    "bad CRC": (with_crc_flipped(gzip.compress(VALID_IDX)), r"broken gzip data \("),
}


@pytest.mark.parametrize("content, problem", BROKEN_GZIP.values(), ids=BROKEN_GZIP.keys())
def test_read_idx_rejects_broken_gzip(tmp_path, content, problem):
    path = tmp_path / "broken-idx.gz"
    path.write_bytes(content)
    with raises_about(path, problem):
        mnist.read_idx(path)


# --- no huge allocation, whatever a header claims ------------------------------------------------------

ZEROS = bytes(32 << 20)  # 32 MiB, which gzip squeezes into about 32 KiB
MiB = 1 << 20


def peak_memory_of(function, *args):
    """The most memory Python and numpy held at once while `function(*args)` ran, in bytes."""
    tracemalloc.start()
    try:
        function(*args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def read_idx_failing(path):
    with pytest.raises(mnist.MnistError):
        mnist.read_idx(path)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_header_claiming_a_terabyte_allocates_nothing_of_the_kind(tmp_path, gzipped):
    content = b"\0\0\x08\x03" + u32(2**20, 2**10, 2**10) + bytes(100)
    path = tmp_path / "huge-idx"
    path.write_bytes(gzip.compress(content) if gzipped else content)
    with raises_about(path, r"truncated: 116 bytes, but the header \(1048576, 1024, 1024\) needs exactly "
                            r"1099511627792$"):
        mnist.read_idx(path)
    assert peak_memory_of(read_idx_failing, path) < 8 * MiB


def test_a_gzip_bomb_is_read_only_as_far_as_its_header_claims(tmp_path):
    path = tmp_path / "bomb-idx.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + u32(10) + ZEROS, compresslevel=9))
    assert path.stat().st_size < MiB
    with raises_about(path, r"overlong: over \d+ bytes, but the header \(10,\) needs exactly 18$"):
        mnist.read_idx(path)
    assert peak_memory_of(read_idx_failing, path) < 8 * MiB


def test_a_gzip_bomb_claiming_more_than_gzip_can_hold_is_measured_not_kept(tmp_path):
    path = tmp_path / "bomb-idx.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x02" + u32(2**20, 2**20) + ZEROS, compresslevel=9))
    with raises_about(path, f"truncated: {12 + len(ZEROS)} bytes, but the header"):
        mnist.read_idx(path)
    assert peak_memory_of(read_idx_failing, path) < 8 * MiB


@pytest.mark.parametrize("is_dir, problem", [(False, "file not found$"), (True, r"cannot read \(")],
                         ids=["missing", "directory"])
def test_read_idx_rejects_unreadable_path(tmp_path, is_dir, problem):
    path = tmp_path / "data-idx"
    if is_dir:
        path.mkdir()
    with raises_about(path, problem):
        mnist.read_idx(path)


def test_mnist_error_is_a_value_error():
    assert issubclass(mnist.MnistError, ValueError)


# --- load_split -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"], ids=["plain", "gzip"])
def test_load_split_returns_the_files_arrays(tmp_path, write_idx, suffix):
    images = np.random.default_rng(1).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    labels = np.array([7, 0, 9], np.uint8)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels)
    got_images, got_labels = mnist.load_split("test", tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.dtype == got_labels.dtype == np.uint8


def test_load_split_reads_mnist_dir_by_default(monkeypatch, fake_mnist):
    monkeypatch.setenv("MNIST_DIR", str(fake_mnist))
    images, labels = mnist.load_split("test")
    assert images.shape == (5, 28, 28)
    assert labels.tolist() == [0, 1, 2, 3, 4]


def test_load_split_rejects_unknown_split(fake_mnist):
    with pytest.raises(ValueError, match="unknown split 'validation'; choose one of train, test"):
        mnist.load_split("validation", fake_mnist)


BROKEN_SPLIT = {
    "images 2-d": (TRAIN_IMAGES, np.zeros((N_TRAIN, 784), np.uint8), r"shape \(12, 784\), expected N x 28 x 28"),
    "images 4-d": (TRAIN_IMAGES, np.zeros((N_TRAIN, 28, 28, 1), np.uint8), r"shape \(12, 28, 28, 1\), expected N x"),
    "images not 28x28": (TRAIN_IMAGES, np.zeros((N_TRAIN, 28, 27), np.uint8), r"shape \(12, 28, 27\), expected N x"),
    "images not uint8": (TRAIN_IMAGES, np.zeros((N_TRAIN, 28, 28), ">i4"), r"values are \S+, expected unsigned bytes"),
    "labels 2-d": (TRAIN_LABELS, np.zeros((N_TRAIN, 1), np.uint8), r"shape \(12, 1\), expected N$"),
    "labels not uint8": (TRAIN_LABELS, np.zeros(N_TRAIN, ">f4"), r"values are \S+, expected unsigned bytes"),
    "label above 9": (TRAIN_LABELS, np.array([0] * 11 + [10], np.uint8), "label 10 is not a digit 0-9"),
    "more images than labels": (
        TRAIN_IMAGES,
        np.zeros((N_TRAIN + 1, 28, 28), np.uint8),
        f"13 images, but {re.escape(TRAIN_LABELS)} has 12 labels",
    ),
}


@pytest.mark.parametrize("file_name, array, problem", BROKEN_SPLIT.values(), ids=BROKEN_SPLIT.keys())
def test_load_split_rejects_invalid_mnist_file(fake_mnist, write_idx, file_name, array, problem):
    path = write_idx(fake_mnist / file_name, array)
    with raises_about(path, problem):
        mnist.load_split("train", fake_mnist)


@pytest.mark.parametrize("split, name", [
    ("train", "train-images-idx3-ubyte"),
    ("train", "train-labels-idx1-ubyte"),
    ("test", "t10k-images-idx3-ubyte"),
    ("test", "t10k-labels-idx1-ubyte"),
])
def test_load_split_names_missing_file_and_how_to_get_it(fake_mnist, split, name):
    path = fake_mnist / f"{name}.gz"
    path.unlink()
    with raises_about(path, r"file not found; run \./download-mnist\.sh or set MNIST_DIR"):
        mnist.load_split(split, fake_mnist)


# --- default_data_dir and as_inputs ---------------------------------------------------------------------

def test_default_data_dir_is_mnist_dir_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert mnist.default_data_dir() == tmp_path


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_default_data_dir_is_data_beside_mnist_py_otherwise(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("MNIST_DIR", raising=False)
    else:
        monkeypatch.setenv("MNIST_DIR", value)
    assert mnist.default_data_dir() == ROOT / "data"


def test_as_inputs_flattens_to_float32_in_unit_interval():
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 0, 0] = 255
    images[1, 27, 27] = 51
    x = mnist.as_inputs(images)
    assert x.shape == (2, 784)
    assert x.dtype == np.float32
    assert x[0, 0] == 1.0
    assert x[1, 783] == pytest.approx(0.2)
    assert np.count_nonzero(x) == 2  # 0 stays 0.0


# --- datasets by name ------------------------------------------------------------------------------------

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's package dataset-fashion-mnist


def test_the_datasets_and_their_class_names():
    assert list(mnist.DATASETS) == ["mnist", "fashion"]
    assert mnist.DATASETS["mnist"].classes == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    assert mnist.DATASETS["fashion"].classes == FASHION_CLASSES


@pytest.mark.parametrize("dataset, folder", [("mnist", "data"), ("fashion", "data/fashion")])
def test_each_dataset_has_its_own_default_folder_unless_mnist_dir_is_set(monkeypatch, tmp_path, dataset, folder):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    assert mnist.default_data_dir(dataset) == ROOT / folder
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert mnist.default_data_dir(dataset) == tmp_path


def test_load_split_reads_fashion_from_mnist_dir(monkeypatch, fake_mnist):
    monkeypatch.setenv("MNIST_DIR", str(fake_mnist))
    images, labels = mnist.load_split("test", dataset="fashion")
    assert images.shape == (5, 28, 28) and labels.tolist() == [0, 1, 2, 3, 4]


def test_load_split_rejects_unknown_dataset(fake_mnist):
    with pytest.raises(ValueError, match="unknown dataset 'kmnist'; choose one of mnist, fashion"):
        mnist.load_split("train", fake_mnist, dataset="kmnist")


def test_a_missing_fashion_file_says_how_to_download_fashion(fake_mnist):
    path = fake_mnist / "t10k-images-idx3-ubyte.gz"
    path.unlink()
    with raises_about(path, r"file not found; run \./download-mnist\.sh --dataset fashion or set MNIST_DIR to "
                            "the folder that holds the Fashion-MNIST files$"):
        mnist.load_split("test", fake_mnist, dataset="fashion")


def test_a_fashion_label_above_9_is_not_a_class(fake_mnist, write_idx):
    path = write_idx(fake_mnist / TRAIN_LABELS, np.array([0] * 11 + [12], np.uint8))
    with raises_about(path, "label 12 is not a class 0-9$"):
        mnist.load_split("train", fake_mnist, dataset="fashion")


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"no {DEBIAN_FASHION} (apt-get install dataset-fashion-mnist)")
@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_real_fashion_mnist_has_the_same_number_of_each_class(split, n):
    images, labels = mnist.load_split(split, DEBIAN_FASHION, dataset="fashion")
    assert images.shape == (n, 28, 28)
    assert np.bincount(labels).tolist() == [n // 10] * 10


# --- the real MNIST files (skipped unless $MNIST_DIR is set) ---------------------------------------------

REAL = {  # split: (images, count of each digit 0..9, first five labels)
    "train": (60000, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], [5, 0, 4, 1, 9]),
    "test": (10000, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], [7, 2, 1, 0, 4]),
}
real_split = pytest.mark.parametrize("split", REAL)


@pytest.fixture(scope="module")
def real_mnist(mnist_dir):
    """split -> (images, labels), read once for this module."""
    return {split: mnist.load_split(split, mnist_dir) for split in REAL}


@real_split
def test_real_split_shapes_and_types(real_mnist, split):
    images, labels = real_mnist[split]
    assert images.shape == (REAL[split][0], 28, 28)
    assert labels.shape == (REAL[split][0],)
    assert images.dtype == labels.dtype == np.uint8


@real_split
def test_real_split_digit_counts(real_mnist, split):
    assert np.bincount(real_mnist[split][1], minlength=10).tolist() == REAL[split][1]


@real_split
def test_real_split_first_labels(real_mnist, split):
    assert real_mnist[split][1][:5].tolist() == REAL[split][2]


@real_split
def test_real_split_pixels_span_0_to_255(real_mnist, split):
    images = real_mnist[split][0]
    assert (images.min(), images.max()) == (0, 255)


def test_shuffled_inputs_without_shift_are_a_permutation_of_the_inputs():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    labels = np.arange(50) % 10
    x, shuffled_labels = mnist.shuffled_inputs(images, labels, np.random.default_rng(1))
    order = np.random.default_rng(1).permutation(50)
    np.testing.assert_array_equal(x, mnist.as_inputs(images)[order])
    np.testing.assert_array_equal(shuffled_labels, labels[order])


def test_shifted_inputs_move_each_digit_by_at_most_max_shift_and_keep_its_label():
    images = np.zeros((200, 28, 28), np.uint8)
    images[:, 10:18, 12:16] = np.arange(200)[:, None, None]  # a block whose brightness tells the image apart
    out = np.empty((200, 784), np.float32)
    x, labels = mnist.shuffled_inputs(images, np.arange(200), np.random.default_rng(2), max_shift=2, out=out)
    assert x is out
    pictures = x.reshape(200, 28, 28) * 255
    seen = set()
    for picture, label in zip(pictures, labels):
        rows, columns = np.nonzero(picture)
        if label:  # image 0 is all black
            assert np.allclose(picture[rows, columns], label) and picture.sum() == pytest.approx(32 * label)
            dy, dx = rows.min() - 10, columns.min() - 12
            assert abs(dy) <= 2 and abs(dx) <= 2
            seen.add((dy, dx))
    assert len(seen) == 25  # every shift from -2 to 2 in both directions turns up


# --- which dataset the files are ---------------------------------------------------------------------


def with_test_images(folder, write_idx, images):
    """folder's fake files, their test images replaced by `images`; returns the images file's path."""
    return write_idx(folder / "t10k-images-idx3-ubyte.gz", np.asarray(images, np.uint8))


@pytest.mark.parametrize("dataset, other", [("mnist", "fashion"), ("fashion", "mnist")])
def test_images_that_look_like_the_other_dataset_are_refused_by_name(fake_mnist, write_idx, dataset, other):
    """Their mean pixel value is the other dataset's: the files' checksums are not the published ones."""
    path = with_test_images(fake_mnist, write_idx, np.full((5, 28, 28), round(mnist.MEAN_PIXEL[other])))
    title, other_title = mnist.DATASETS[dataset].title, mnist.DATASETS[other].title
    with raises_about(path, rf"{re.escape(other_title)}'s images, not {re.escape(title)}'s \(mean pixel value "
                            rf"\d+\.0; .*\): give --dataset {other} for them, or set MNIST_DIR"):
        mnist.load_split("test", fake_mnist, dataset)
    assert mnist.load_split("test", fake_mnist, other)[0].shape == (5, 28, 28)


def test_images_like_neither_dataset_are_taken_as_asked(fake_mnist, write_idx):
    with_test_images(fake_mnist, write_idx, np.full((5, 28, 28), 127))  # as the random fake ones
    for dataset in mnist.DATASETS:
        assert mnist.load_split("test", fake_mnist, dataset)[0].shape == (5, 28, 28)


def test_a_published_file_is_known_by_its_checksum_whatever_its_pixels(fake_mnist, write_idx, monkeypatch):
    path = with_test_images(fake_mnist, write_idx, np.full((5, 28, 28), mnist.MEAN_PIXEL["mnist"]))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setattr(mnist, "PUBLISHED_IMAGES", {("md5", md5): "fashion"})
    with raises_about(path, r"Fashion-MNIST's images, not MNIST's \(the MD5 checksum of Fashion-MNIST's published "
                            r"file\)"):
        mnist.load_split("test", fake_mnist)


def test_the_published_checksums_are_those_download_mnist_checks():
    script = (ROOT / "download-mnist.sh").read_text()
    sums = re.findall(r'^ +(\w+):\w+-images-idx3-ubyte\.gz\) +echo "(\w+) (\w+)', script, re.MULTILINE)
    assert len(sums) == 4
    assert mnist.PUBLISHED_IMAGES == {(algorithm, checksum): dataset for dataset, algorithm, checksum in sums}


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"no {DEBIAN_FASHION} (apt-get install dataset-fashion-mnist)")
@pytest.mark.parametrize("split", ["train", "test"])
def test_real_fashion_mnist_is_not_taken_for_mnist(split):
    path = DEBIAN_FASHION / f"{mnist.SPLITS[split][0]}.gz"
    with raises_about(path, r"Fashion-MNIST's images, not MNIST's \(mean pixel value 7\d\.\d"):
        mnist.load_split(split, DEBIAN_FASHION)


@real_split
def test_real_mnist_is_known_as_mnist_and_not_taken_for_fashion(mnist_dir, real_mnist, split):
    """Whether or not its file is the published one: this folder's training images are a faithful
    reconstruction, whose checksum differs."""
    path = mnist_dir / f"{mnist.SPLITS[split][0]}.gz"
    assert mnist.recognize(path, real_mnist[split][0])[0] == "mnist"
    with raises_about(path, r"MNIST's images, not Fashion-MNIST's"):
        mnist.load_split(split, mnist_dir, "fashion")


def test_the_readmes_mnist_dir_examples_are_folders_any_user_has():
    """The folder the README's own download example fills, or Debian's package's; never one of the
    machine the README's figures came from."""
    readme = (ROOT / "README.md").read_text()
    folders = set(re.findall(r"MNIST_DIR=(\S+)", readme))
    assert folders and folders <= {"~/mnist", str(DEBIAN_FASHION)}, folders
    assert "./download-mnist.sh ~/mnist " in readme


@pytest.mark.parametrize("shift", [0, 2])
def test_shuffled_pixels_make_the_same_batches_as_shuffled_inputs_a_batch_at_a_time(shift):
    rng = np.random.default_rng(3)
    images, labels = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50)
    inputs, input_labels = mnist.shuffled_inputs(images, labels, np.random.default_rng(7), shift)
    rows, row_labels = mnist.shuffled_pixels(images, labels, np.random.default_rng(7), shift)
    assert len(rows) == 50 and rows.pixels.dtype == np.uint8 and np.array_equal(row_labels, input_labels)
    for start in range(0, 50, 16):
        batch = rows[start : start + 16]
        assert batch.dtype == np.float32 and np.array_equal(batch, inputs[start : start + 16])
    again, _ = mnist.shuffled_pixels(images, labels, np.random.default_rng(8), shift, out=rows.pixels)
    assert again.pixels is rows.pixels
