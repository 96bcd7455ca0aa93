"""Saving and loading networks: identical predictions back, and clean refusals of anything else."""

import errno
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import nn
from conftest import ROOT
from support import model


@pytest.fixture
def network():
    return nn.mlp([784, 32, 16, 10], "tanh", rng=np.random.default_rng(5))


@pytest.fixture
def saved(tmp_path, network):
    path = tmp_path / "net.npz"
    model.save(network, path, {"test_accuracy": 0.5})
    return path


def rewrite(source, target, change):
    """Copy a model file with `change(arrays)` applied to its arrays (a dict name -> array)."""
    with np.load(source) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    with open(target, "wb") as file:
        np.savez(file, **arrays)


def test_a_loaded_network_predicts_exactly_as_the_saved_one(network, saved):
    loaded, metadata = model.load(saved)
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.probabilities(x), network.probabilities(x))
    assert model.describe(loaded) == "dense 784-32 tanh, dense 32-16 tanh, dense 16-10"
    assert loaded.loss == "cross-entropy"
    assert metadata == {"test_accuracy": 0.5, "dataset": "mnist"}


def test_a_cnn_with_dropout_and_padding_round_trips(tmp_path):
    network = model.build([16], [4, 6], kernel=5, padding="same", dropout=0.25, rng=np.random.default_rng(1))
    path = tmp_path / "cnn.npz"
    model.save(network, path)
    loaded, _ = model.load(path)
    assert model.describe(loaded) == model.describe(network) == (
        "conv 4 5x5 padding 2 relu, maxpool 2x2, conv 6 5x5 padding 2 relu, maxpool 2x2, flatten, "
        "dropout 0.25, dense 294-16 relu, dropout 0.25, dense 16-10")
    x = np.random.default_rng(0).random((20, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.probabilities(x), network.probabilities(x))


# How files written so far say their inputs are made, spelled out: a change to model.INPUT would
# make every one of them unreadable.
PIXELS = {"height": 28, "width": 28, "scale": 1 / 255, "ink": "bright"}


def test_version_1_files_of_dense_networks_still_load(tmp_path, network):
    old = tmp_path / "old.npz"
    header = {"format": model.FORMAT, "version": 1, "sizes": [784, 32, 16, 10], "activation": "tanh",
              "loss": "cross-entropy", "input": PIXELS, "metadata": {"rounds": 3}}
    arrays = {f"{kind}{i}": array for i, layer in enumerate(network.layers)
              for kind, array in zip(("weights", "bias"), layer.parameters())}
    with open(old, "wb") as file:
        np.savez(file, header=np.array(json.dumps(header)), **arrays)
    loaded, metadata = model.load(old)
    x = np.random.default_rng(0).random((20, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.probabilities(x), network.probabilities(x))
    assert metadata == {"rounds": 3, "dataset": "mnist"}


def write_version_1(path, sizes, arrays=None):
    header = {"format": model.FORMAT, "version": 1, "sizes": sizes, "activation": "tanh", "loss": "cross-entropy",
              "input": PIXELS}
    with open(path, "wb") as file:
        np.savez(file, header=np.array(json.dumps(header)), **(arrays or {}))


@pytest.mark.parametrize("sizes", [[784], [784, 0, 10], [784, 32.5, 10], "784-10", None])
def test_version_1_files_with_bad_sizes_are_refused(tmp_path, sizes):
    path = tmp_path / "old.npz"
    write_version_1(path, sizes)
    with pytest.raises(model.ModelError, match=f"^{path}: bad layer sizes"):
        model.load(path)


def test_a_version_1_file_with_a_single_unit_layer_loads(tmp_path):
    network = nn.mlp([784, 1, 10], "tanh")
    path = tmp_path / "narrow.npz"
    write_version_1(path, [784, 1, 10], {f"{kind}{i}": array for i, layer in enumerate(network.layers)
                                         for kind, array in zip(("weights", "bias"), layer.parameters())})
    assert model.describe(model.load(path)[0]) == "dense 784-1 tanh, dense 1-10"


def test_a_file_without_metadata_loads_with_only_its_dataset(tmp_path, network):
    path = tmp_path / "old.npz"
    write_version_1(path, [784, 32, 16, 10], {f"{kind}{i}": array for i, layer in enumerate(network.layers)
                                              for kind, array in zip(("weights", "bias"), layer.parameters())})
    loaded, metadata = model.load(path)
    assert metadata == {"dataset": "mnist"}  # a file from before datasets reads as MNIST
    assert model.describe(loaded) == "dense 784-32 tanh, dense 32-16 tanh, dense 16-10"


def test_build_defaults_to_valid_3x3_relu_convolutions_without_dropout():
    network = model.build([16], [4])
    assert model.describe(network) == "conv 4 3x3 relu, maxpool 2x2, flatten, dense 676-16 relu, dense 16-10"
    assert network.loss == "cross-entropy" and network.layers[0].weights.dtype == np.float32


def test_build_checks_shapes_at_once():
    with pytest.raises(ValueError, match="7 x 7 kernel does not fit the 2 x 2 images"):
        model.build([], [8, 8, 8], kernel=7)


def test_save_leaves_no_temporary_file_and_keeps_the_name_as_given(tmp_path, network):
    model.save(network, tmp_path / "plain-name")
    assert [p.name for p in tmp_path.iterdir()] == ["plain-name"]


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_a_failed_save_keeps_the_old_model_and_names_the_path_given(tmp_path, saved, monkeypatch, broken):
    """As when saving onto a read-only or full disk (tests run as root, so chmod would not stop them)."""
    before = saved.read_bytes()
    def fail(*args):
        raise OSError(errno.EROFS, "Read-only file system", "x.tmp")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(OSError) as caught:
        model.save(nn.mlp([784, 8, 10]), saved)
    assert caught.value.filename == str(saved)
    assert saved.read_bytes() == before
    assert os.listdir(tmp_path) == [saved.name]


def test_save_into_a_file_instead_of_a_folder_names_the_path_given(tmp_path, network):
    target = tmp_path / "file" / "net.npz"
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError) as caught:
        model.save(network, target)
    assert caught.value.filename == str(target)


def test_a_model_remembers_its_dataset_and_one_from_before_datasets_reads_mnist(tmp_path, network, saved):
    fashion = tmp_path / "fashion.npz"
    model.save(network, fashion, {"rounds": 2}, dataset="fashion")
    assert model.load(fashion)[1] == {"rounds": 2, "dataset": "fashion"}
    unnamed = tmp_path / "unnamed.npz"  # version 2, written before the header named a dataset
    rewrite(saved, unnamed, lambda arrays: arrays.update(header=np.array(json.dumps(
        {name: value for name, value in json.loads(str(arrays["header"])).items() if name != "dataset"}))))
    assert "dataset" not in str(np.load(unnamed)["header"])
    assert model.load(unnamed)[1]["dataset"] == "mnist"
    with pytest.raises(ValueError, match="unknown dataset 'digits'"):
        model.save(network, tmp_path / "x.npz", dataset="digits")


def header_change(**changes):
    def change(arrays):
        header = json.loads(str(arrays["header"]))
        header.update(changes)
        arrays["header"] = np.array(json.dumps(header))

    return change


def layer_change(index, **changes):
    def change(arrays):
        header = json.loads(str(arrays["header"]))
        header["layers"][index].update(changes)
        arrays["header"] = np.array(json.dumps(header))

    return change


def resized(name, shape):
    def change(arrays):
        arrays[name] = np.zeros(shape, np.float32)

    return change


def both(*changes):
    def change(arrays):
        for each in changes:
            each(arrays)

    return change


@pytest.mark.parametrize(
    "change, complaint",
    [
        (header_change(version=99), "version 99"),
        (header_change(format="something else"), "not a model file"),
        (layer_change(0, outputs=-1),
         r"layer 1 \(dense\) claims weights of shape \(784, -1\), but the file holds \(784, 32\)"),
        (layer_change(0, inputs=10**12), r"claims weights of shape \(1000000000000, 32\)"),
        (layer_change(0, kernel=3), "unexpected keyword argument 'kernel'"),
        (both(layer_change(0, inputs=100), resized("weights0", (100, 32))), "a 100-input, 10-output network"),
        (both(layer_change(2, outputs=5), resized("weights2", (16, 5)), resized("bias2", (5,))),
         "a 784-input, 5-output network"),
        (both(layer_change(1, inputs=31), resized("weights1", (31, 16))),
         r"layer 2 \(Dense\) takes samples of shape \(31,\), but the layer before it gives \(32,\)"),
        (layer_change(0, activation="swish"), "layer 1 has an unknown activation 'swish'"),
        (layer_change(2, type="lstm"), "layer 3 is of an unknown type 'lstm'"),
        (layer_change(0, colour="red"), "unexpected keyword argument 'colour'"),
        (header_change(layers="dense"), "no list of layers"),
        (header_change(loss="hinge"), "unknown loss"),
        (header_change(input={"scale": 1}), "inputs are made differently"),
        (header_change(dataset="cifar"), "trained on an unknown dataset 'cifar'; this program knows mnist, fashion"),
        (header_change(dataset=["fashion"]), r"unknown dataset \['fashion'\]"),
        (header_change(metadata=[1]), "metadata is not a dictionary"),
        (lambda arrays: arrays.pop("header"), "no header"),
        (lambda arrays: arrays.pop("bias1"), "bias1 is missing"),
        (resized("weights0", (784, 31)),
         r"layer 1 \(dense\) claims weights of shape \(784, 32\), but the file holds \(784, 31\)"),
        (lambda arrays: arrays.pop("weights1"), r"claims weights of shape \(32, 16\), but the file holds none"),
        (resized("bias0", (31,)), r"bias0 is float32 \(31,\), expected float \(32,\)"),
        (lambda arrays: arrays.update(weights2=np.zeros((16, 10), np.int64)), "weights2 is int64"),
    ],
)
def test_inconsistent_or_foreign_files_are_refused_naming_the_file(tmp_path, saved, change, complaint):
    broken = tmp_path / "broken.npz"
    rewrite(saved, broken, change)
    with pytest.raises(model.ModelError, match=f"^{broken}: .*{complaint}"):
        model.load(broken)


def test_truncated_file_is_refused(tmp_path, saved):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(model.ModelError, match=f"^{truncated}: not a model file"):
        model.load(truncated)


def test_corrupted_bytes_are_refused(tmp_path, saved):
    corrupted = tmp_path / "corrupted.npz"
    data = bytearray(saved.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = bytes(64)  # zeros in the middle of the weights
    corrupted.write_bytes(bytes(data))
    with pytest.raises(model.ModelError, match=f"^{corrupted}: "):
        model.load(corrupted)


def test_pickled_objects_are_never_loaded(tmp_path):
    pickled = tmp_path / "pickled.npz"
    with open(pickled, "wb") as file:
        np.savez(file, header=np.array([{"format": model.FORMAT}], dtype=object))
    with pytest.raises(model.ModelError, match="not a model file"):
        model.load(pickled)


def test_other_files_and_missing_files_are_refused(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(model.ModelError, match=f"^{text}: not a model file"):
        model.load(text)
    archive = tmp_path / "other.npz"
    with zipfile.ZipFile(archive, "w") as file:
        file.writestr("readme.txt", "not numpy")
    with pytest.raises(model.ModelError, match=f"^{archive}: "):
        model.load(archive)
    with pytest.raises(model.ModelError, match="no such model file"):
        model.load(tmp_path / "missing.npz")


NOT_OURS = "not a model file written by train.py --save"


def test_a_npy_file_named_npz_is_refused_in_one_line(tmp_path):
    path = tmp_path / "weights.npz"
    with open(path, "wb") as file:
        np.save(file, np.zeros((784, 10), np.float32))
    with pytest.raises(model.ModelError) as caught:
        model.load(path)
    assert str(caught.value) == f"{path}: {NOT_OURS} (a single array, .npy)"


@pytest.mark.parametrize("content", ["hello\n", "{'header': 1}\n", ""], ids=["text", "python", "empty"])
def test_a_text_file_is_refused_without_numpys_advice_to_unpickle(tmp_path, content):
    path = tmp_path / "notes.npz"
    path.write_text(content)
    with pytest.raises(model.ModelError) as caught:
        model.load(path)
    assert str(caught.value) == f"{path}: {NOT_OURS} (not an .npz archive)"


def test_an_archive_of_python_objects_is_refused_without_numpys_advice(tmp_path):
    path = tmp_path / "objects.npz"
    with open(path, "wb") as file:
        np.savez(file, header=np.array([{"format": model.FORMAT}], dtype=object))
    with pytest.raises(model.ModelError) as caught:
        model.load(path)
    assert str(caught.value) == f"{path}: {NOT_OURS} (it holds Python objects, which are never loaded)"


class LeavesAMark:
    """An object whose unpickling creates the file `mark`: the harm a crafted model file could do."""

    def __init__(self, mark):
        self.mark = mark

    def __reduce__(self):
        return open, (str(self.mark), "w")


@pytest.mark.parametrize("name", ["header", "weights0", "extra"])
def test_a_crafted_file_cannot_run_code_when_loaded(tmp_path, saved, name):
    mark, crafted = tmp_path / "code-ran", tmp_path / "crafted.npz"
    rewrite(saved, crafted, lambda arrays: arrays.update({name: np.array([LeavesAMark(mark)], dtype=object)}))
    with pytest.raises(model.ModelError, match=f"^{crafted}: {NOT_OURS} \\(it holds Python objects"):
        model.load(crafted)
    assert not mark.exists()


def test_save_replaces_the_file_only_once_it_is_complete(tmp_path, saved, network, monkeypatch):
    """While the new content is written, the old file is still whole at its path, and the new one
    only appears under another name in the same folder."""
    before, seen, real_replace = saved.read_bytes(), [], os.replace

    def replace(source, destination):  # the moment the new content, written, is put in place
        seen.append((saved.read_bytes(), sorted(path.name for path in tmp_path.iterdir())))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    model.save(nn.mlp([784, 8, 10]), saved)
    (during, names), = seen
    assert during == before and len(names) == 2 and saved.name in names
    assert model.describe(model.load(saved)[0]) == "dense 784-8 relu, dense 8-10"
    assert os.listdir(tmp_path) == [saved.name]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["weights0", "bias2"])
def test_weights_holding_nan_or_infinity_are_refused(tmp_path, saved, name, value):
    broken = tmp_path / "diverged.npz"

    def spoil(arrays):
        arrays[name] = arrays[name].copy()
        arrays[name].flat[3] = value

    rewrite(saved, broken, spoil)
    with pytest.raises(model.ModelError, match=f"^{broken}: {name} holds NaN or infinity"):
        model.load(broken)


def npy_with_header(header):
    """An .npy file whose header is the text `header`, followed by a few bytes of data."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"  # numpy pads the header to 64 bytes
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + bytes(100)


@pytest.mark.parametrize("header", [
    "{'descr': '<f4', 'fortran_order':(False, 'shape': (784, 8), }",  # numpy's parser: TokenError
    "{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000000000000000000000,), }",  # OverflowError
    "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }",  # MemoryError
], ids=["unbalanced", "overflowing", "petabytes"])
def test_a_damaged_array_header_inside_the_archive_is_refused(tmp_path, header):
    """Found by tests/test_fuzz.py: errors numpy raises for a damaged .npy header inside an archive."""
    path = tmp_path / "damaged.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights0.npy", npy_with_header(header))
    with pytest.raises(model.ModelError, match=f"^{path}: {NOT_OURS} \\("):
        model.load(path)


def test_an_archive_member_marked_as_encrypted_is_refused(tmp_path, saved):
    """Found by tests/test_fuzz.py: zipfile raises RuntimeError for an encrypted member."""
    data = bytearray(saved.read_bytes())
    data[6] |= 1  # the first local header's flags: bit 0, encrypted
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1  # and the same member's flags in the central directory
    path = tmp_path / "encrypted.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(model.ModelError, match=f"^{path}: {NOT_OURS} \\(.*encrypted"):
        model.load(path)


def test_a_folder_is_refused_naming_it(tmp_path):
    with pytest.raises(model.ModelError, match=f"^{tmp_path}: {NOT_OURS} \\(Is a directory\\)$"):
        model.load(tmp_path)


def test_train_py_saves_loads_and_goes_on_training(tmp_path, mnist_dir):
    path = tmp_path / "model.npz"
    common = [sys.executable, str(ROOT / "train.py"), "--data-dir", str(mnist_dir), "--limit", "3000", "--quiet"]
    first = subprocess.run([*common, "--recipe", "mlp", "--hidden", "32", "--epochs", "2", "--save", str(path)],
                           capture_output=True, text=True, check=True)
    accuracy = first.stdout.splitlines()[0]
    evaluated = subprocess.run([*common, "--load", str(path)], capture_output=True, text=True, check=True)
    assert evaluated.stdout.splitlines()[0] == accuracy  # --load alone evaluates: the same figure
    subprocess.run([*common, "--load", str(path), "--epochs", "1", "--save", str(path)],
                   capture_output=True, text=True, check=True)
    network, metadata = model.load(path)
    assert model.describe(network) == "dense 784-32 relu, dense 32-10" and metadata["rounds"] == 3
    assert metadata["flags"]["epochs"] == 1 and 0 < metadata["test_accuracy"] <= 1 and metadata["date"]


def test_train_py_refuses_a_bad_model_file_in_one_line(tmp_path, mnist_dir):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 nonsense")
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "--data-dir", str(mnist_dir), "--load", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr and "Traceback" not in result.stderr


def test_train_py_says_in_one_line_before_training_when_it_could_not_save(tmp_path, mnist_dir):
    target = tmp_path / "missing-folder" / "model.npz"
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "--data-dir", str(mnist_dir), "--limit", "500",
                             "--hidden", "8", "--epochs", "1", "--save", str(target)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""  # refused before loading or training anything
    assert result.stderr.endswith(f"train.py: error: --save {target}: no such folder: {target.parent}\n")


def test_version_2_cnn_files_with_pooling_as_a_layer_still_load(tmp_path, monkeypatch):
    """Format 2 wrote a convolution, then max-pooling as a layer of its own; such a file loads as
    those layers and computes what the same weights compute in a pooled convolution."""
    import conv

    rng = np.random.default_rng(4)
    fused = model.build([], [3], rng=rng)
    fused.layers[0].bias[:] = rng.normal(size=3)
    convolution = conv.Conv2D((28, 28, 1), 3)
    convolution.weights[...], convolution.bias[...] = fused.layers[0].parameters()
    dense = nn.Dense(507, 10)
    dense.weights[...], dense.bias[...] = fused.layers[-1].parameters()
    apart = nn.Network([convolution, conv.MaxPool2D((26, 26, 3)), conv.Flatten((13, 13, 3)), dense])
    monkeypatch.setattr(model, "VERSION", 2)
    model.save(apart, tmp_path / "v2.npz")
    monkeypatch.undo()
    loaded, _ = model.load(tmp_path / "v2.npz")
    assert [type(layer) for layer in loaded.layers] == [conv.Conv2D, conv.MaxPool2D, conv.Flatten, nn.Dense]
    assert model.describe(loaded) == "conv 3 3x3 relu, maxpool 2x2, flatten, dense 507-10"
    x = rng.random((5, 784), dtype=np.float32)
    np.testing.assert_allclose(loaded.forward(x), fused.forward(x), rtol=1e-5, atol=1e-5)
