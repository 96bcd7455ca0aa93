"""export.py: ONNX models that onnxruntime computes as numpy does, for every kind of network train.py
makes, the web folder's files, and one-line refusals that leave nothing half-written. The web page
in a browser: test_web.py."""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from conftest import ROOT
from support import exportable, mnist, model, web_export

EXPORT = str(ROOT / "export.py")
AGREEMENT_IMAGES = 1000
ACTIVATIONS = ("relu", "leaky-relu", "sigmoid", "tanh", "identity")


@pytest.fixture(scope="module")
def digits():
    """(1000, 784) float32 test inputs and their labels: MNIST's first test images where MNIST_DIR (or
    data/) holds them, else random specks of ink, labelled by how much ink they hold (a tenth of them
    per label), which a network learns enough of in one round to answer with some confidence."""
    try:
        images, labels = mnist.load_split("test")
    except mnist.MnistError:
        rng = np.random.default_rng(0)
        density = rng.uniform(0.05, 0.5, (AGREEMENT_IMAGES, 1, 1))
        images = (255 * rng.random((AGREEMENT_IMAGES, 28, 28)) * (rng.random((AGREEMENT_IMAGES, 28, 28)) < density))
        labels = np.argsort(np.argsort(images.sum(axis=(1, 2)))) * 10 // AGREEMENT_IMAGES
    return mnist.as_inputs(images[:AGREEMENT_IMAGES].astype(np.uint8)), labels[:AGREEMENT_IMAGES]


def trained(network, digits):
    """The network after one round of learning the test digits: its weights moved away from their
    initial values and its biases away from zero."""
    x, labels = digits
    nn.train_epoch(network, nn.Adam(network.parameters()), x, labels, 50, lambda batch: 2e-3)
    return network


@pytest.fixture(scope="module")
def onnxruntime():
    pytest.importorskip("onnx", reason="the ONNX tests need the onnx package (pip install -r requirements-dev.txt)")
    return pytest.importorskip("onnxruntime", reason="the ONNX tests need onnxruntime (pip install -r "
                                                     "requirements-dev.txt)")


def onnx_probabilities(onnxruntime, proto, x):
    """What onnxruntime computes from the model for rows x (N, 784), given as images (N, 1, 28, 28)."""
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": x.reshape(-1, 1, 28, 28)})[0]


def assert_onnx_computes_as_numpy(onnxruntime, network, digits):
    import onnx

    from support import onnx_export

    proto = onnx_export.to_onnx(network, {"dataset": "mnist"})
    onnx.checker.check_model(proto, full_check=True)
    x = digits[0]
    got, expected = onnx_probabilities(onnxruntime, proto, x), network.probabilities(x)
    assert got.shape == (AGREEMENT_IMAGES, 10) and got.dtype == np.float32
    assert np.abs(got - expected).max() <= 1e-5


# The recipes' shapes, as train.py --recipe mlp / cnn builds them (padding "valid": 28 -> 26 -> 13 -> 11 -> 5,
# the odd row pooled away), and a CNN with padding "same" (28 -> 14 -> 7).
NETWORKS = {
    "mlp recipe": lambda: model.build([512], rng=np.random.default_rng(1)),
    "cnn recipe": lambda: model.build([256], (32, 64), 3, "valid", "relu", dropout=0.4, rng=np.random.default_rng(1),
                                      dropout_rng=np.random.default_rng(2)),
    "cnn, padding same, 5x5": lambda: model.build([32], (8, 16), 5, "same", "relu", rng=np.random.default_rng(1)),
    "two hidden layers, dropout": lambda: model.build([64, 32], dropout=0.2, rng=np.random.default_rng(1)),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_onnxruntime_computes_the_probabilities_numpy_does(onnxruntime, digits, name):
    assert_onnx_computes_as_numpy(onnxruntime, trained(NETWORKS[name](), digits), digits)


@pytest.mark.parametrize("loss", nn.LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_and_loss_in_convolutions_and_dense_layers(onnxruntime, digits, activation, loss):
    network = model.build([24], (4,), 3, "same", activation, loss, rng=np.random.default_rng(3))
    assert_onnx_computes_as_numpy(onnxruntime, trained(network, digits), digits)


def test_an_untrained_network_with_random_biases_too(onnxruntime, digits):
    network = model.build([16], (3, 5), 3, "same", "tanh", rng=np.random.default_rng(4))
    for layer in network.layers:
        if layer.parameters():
            layer.bias[...] = np.random.default_rng(5).normal(0, 1, layer.bias.shape)
    assert_onnx_computes_as_numpy(onnxruntime, network, digits)


def test_pooling_as_a_layer_of_its_own_as_model_files_of_version_2_kept_it(onnxruntime, digits):
    import conv

    rng = np.random.default_rng(6)
    first, second = conv.Conv2D((28, 28, 1), 4, 3, 0, "relu", rng), conv.Conv2D((13, 13, 4), 6, 3, 1, "tanh", rng)
    network = nn.Network([first, conv.MaxPool2D((26, 26, 4)), second, conv.MaxPool2D((13, 13, 6)),
                          conv.Flatten((6, 6, 6)), nn.Dense(216, 10, rng=rng)])
    assert_onnx_computes_as_numpy(onnxruntime, trained(network, digits), digits)
    assert [layer.pool for layer in exportable.layers(network)[:2]] == [2, 2] and first.pool == 1
    page_layers = json.loads(web_export.site_files(network, {})[web_export.NETWORK])["layers"]
    assert [(layer["pool"], layer["outputShape"]) for layer in page_layers[:2]] == [(2, [13, 13, 4]), (2, [6, 6, 6])]


def test_pooling_of_its_own_after_something_else_than_a_convolution_is_refused():
    import conv

    network = nn.Network([conv.MaxPool2D((28, 28, 1)), conv.Flatten((14, 14, 1)), nn.Dense(196, 10)])
    with pytest.raises(exportable.ExportError, match="layer 1 is a MaxPool2D"):
        exportable.layers(network)


def run_export(*args, cwd=ROOT, **environment):
    return subprocess.run([sys.executable, EXPORT, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **environment})


def save(tmp_path, network, name="model.npz", **saved):
    path = tmp_path / name
    model.save(network, path, **saved)
    return path


def test_the_onnx_file_carries_opset_17_the_shapes_the_dataset_its_classes_and_flags(onnxruntime, tmp_path):
    import onnx

    flags = {"recipe": "mlp", "hidden": [16], "epochs": 3}
    path = save(tmp_path, nn.mlp([784, 16, 10]), metadata={"flags": flags, "test_accuracy": 0.875}, dataset="fashion")
    result = run_export(path, tmp_path / "model.onnx")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {tmp_path / 'model.onnx'}: ONNX opset 17")
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    assert [(opset.domain, opset.version) for opset in proto.opset_import] == [("", 17)]
    dims = [[dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]
            for value in (proto.graph.input[0], proto.graph.output[0])]
    assert dims == [["N", 1, 28, 28], ["N", 10]]
    props = {prop.key: prop.value for prop in proto.metadata_props}
    assert props["dataset"] == "fashion" and json.loads(props["classes"])[9] == "Ankle boot"
    assert json.loads(props["flags"]) == flags and float(props["test_accuracy"]) == 0.875
    assert props["loss"] == "cross-entropy"


def test_dropout_exports_as_nothing(onnxruntime):
    from support import onnx_export

    proto = onnx_export.to_onnx(model.build([16], (2,), dropout=0.5), {})
    assert [node.op_type for node in proto.graph.node] == [
        "Conv", "Relu", "MaxPool", "Transpose", "Flatten", "Gemm", "Relu", "Gemm", "Softmax"]


def unpacked(path):
    """The floats of a weights.bin, read as its docstring (support/web_export.py) says they are packed."""
    planes = np.frombuffer(gzip.decompress(path.read_bytes()), np.uint8).reshape(3, -1).astype(np.uint32)
    return ((planes[0] << 24) | (planes[1] << 16) | (planes[2] << 8)).view(np.float32)


def test_the_web_folder_holds_the_page_the_network_and_its_weights_to_16_bits(tmp_path):
    network = model.build([16], (3,), 3, "same", "tanh", "mse", rng=np.random.default_rng(0))
    path = save(tmp_path, network, dataset="fashion")
    result = run_export(path, "--web", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    assert sorted(entry.name for entry in site.iterdir()) == sorted([*web_export.PAGE, "network.json", "weights.bin"])
    description = json.loads((site / "network.json").read_text())
    assert description["dataset"] == "fashion" and description["output"] == "sigmoid"
    assert [layer["type"] for layer in description["layers"]] == ["conv", "dense", "dense"]  # no flatten
    weights = unpacked(site / "weights.bin")
    assert weights.size == description["floats"]
    parameters = [layer.parameters() for layer in network.layers if layer.parameters()]
    for layer, (weights_array, bias) in zip(description["layers"], parameters):
        for start, array in ((layer["weights"], weights_array.ravel()), (layer["bias"], bias)):
            assert np.all(np.abs(weights[start : start + array.size] - array) <= np.abs(array) * 2**-16)
    for name in web_export.PAGE:
        assert (site / name).read_bytes() == (ROOT / "web" / name).read_bytes()


def test_weights_round_to_the_nearest_float_of_16_significant_bits():
    floats = np.array([1.0, 1 + 2**-15, 1 + 2**-16 + 2**-20, 1 + 2**-16 - 2**-20, -3.0, 2 - 2**-23, 0.0], np.float32)
    path_bytes = web_export.packed(floats)
    planes = np.frombuffer(gzip.decompress(path_bytes), np.uint8).reshape(3, -1).astype(np.uint32)
    got = ((planes[0] << 24) | (planes[1] << 16) | (planes[2] << 8)).view(np.float32)
    assert got.tolist() == [1.0, 1 + 2**-15, 1 + 2**-15, 1.0, -3.0, 2.0, 0.0]


def test_a_second_export_to_the_same_folder_replaces_the_first(tmp_path):
    site = tmp_path / "site"
    for hidden in (16, 8):
        result = run_export(save(tmp_path, nn.mlp([784, hidden, 10])), "--web", site)
        assert result.returncode == 0, result.stderr
    assert json.loads((site / "network.json").read_text())["layers"][0]["outputs"] == 8


# ----------------------------------------------------------------------------------------------
# Bad input: one line, "export.py: error: ...", a non-zero exit, and no file written.


def assert_refused(result, *words):
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("export.py: error: "), result.stderr
    for word in words:
        assert word in result.stderr


def test_a_damaged_model_is_refused_and_nothing_is_written(tmp_path):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(save(tmp_path, nn.mlp([784, 16, 10])).read_bytes()[:3000])
    result = run_export(damaged, "--web", tmp_path / "site", cwd=tmp_path)  # --web: no onnx package needed
    assert_refused(result, "damaged.npz", "not a model file")
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["damaged.npz", "model.npz"]


def test_a_missing_model_and_a_picture_instead_of_one_are_refused(tmp_path):
    assert_refused(run_export(tmp_path / "none.npz", "--web", tmp_path / "site"), "no such model file")
    picture = tmp_path / "digit.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert_refused(run_export(picture, "--web", tmp_path / "site"), "not an .npz archive")
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["digit.png"]


class Unknown(nn.Layer):
    """A layer the exporters have never heard of."""

    input_shape = output_shape = (784,)

    def forward(self, x, training=False):
        return x


@pytest.mark.parametrize("where", ["model.onnx", "--web"])
def test_a_layer_export_does_not_know_is_refused_and_nothing_is_written(tmp_path, monkeypatch, capsys, where):
    import export

    network = nn.Network([Unknown(), nn.Dense(784, 10)])
    monkeypatch.setattr(model, "load", lambda path: (network, {"dataset": "mnist"}))
    monkeypatch.setattr(sys, "argv", ["export.py"])
    if where == "model.onnx":
        pytest.importorskip("onnx", reason="the ONNX export needs the onnx package")
    arguments = ["model.npz", str(tmp_path / "model.onnx")] if where == "model.onnx" else [
        "model.npz", "--web", str(tmp_path / "site")]
    with pytest.raises(SystemExit) as exit_status:
        export.main(arguments)
    assert exit_status.value.code == 1
    assert capsys.readouterr().err == ("export.py: error: layer 1 is a Unknown, which export.py cannot export "
                                       "(it knows Dense, Conv2D, Flatten and Dropout)\n")
    assert list(tmp_path.iterdir()) == []


def test_an_activation_export_does_not_know_is_refused():
    network = nn.mlp([784, 16, 10])
    network.layers[0].activation = "softplus"
    with pytest.raises(exportable.ExportError, match="layer 1 has the activation 'softplus'"):
        exportable.layers(network)


@pytest.mark.parametrize("target, problem", [
    ("missing/model.onnx", "no such folder"),
    ("folder", "is a folder, not a file"),
])
def test_an_onnx_path_that_cannot_be_written_is_refused(tmp_path, target, problem):
    pytest.importorskip("onnx", reason="the ONNX export needs the onnx package")
    (tmp_path / "folder").mkdir()
    path = save(tmp_path, nn.mlp([784, 16, 10]))
    assert_refused(run_export(path, tmp_path / target), problem)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["folder", "model.npz"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_a_web_folder_that_is_a_file_is_refused(tmp_path):
    path = save(tmp_path, nn.mlp([784, 16, 10]))
    (tmp_path / "site").write_text("a file")
    assert_refused(run_export(path, "--web", tmp_path / "site"), "is a file, not a folder")
    assert (tmp_path / "site").read_text() == "a file"


def test_a_folder_with_other_files_is_refused_without_force_and_kept_with_it(tmp_path):
    path = save(tmp_path, nn.mlp([784, 16, 10]))
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("my own page")
    (site / "notes.txt").write_text("mine")
    assert_refused(run_export(path, "--web", site), "--force", "index.html, notes.txt")
    assert sorted(entry.name for entry in site.iterdir()) == ["index.html", "notes.txt"]
    assert (site / "index.html").read_text() == "my own page"
    result = run_export(path, "--web", site, "--force")
    assert result.returncode == 0, result.stderr
    assert (site / "notes.txt").read_text() == "mine" and (site / "network.json").exists()


def test_an_onnx_refusal_writes_no_web_folder_either(tmp_path):
    pytest.importorskip("onnx", reason="the ONNX export needs the onnx package")
    path = save(tmp_path, nn.mlp([784, 16, 10]))
    assert_refused(run_export(path, tmp_path / "missing" / "model.onnx", "--web", tmp_path / "site"), "no such folder")
    assert not (tmp_path / "site").exists()


def test_a_write_that_fails_midway_leaves_no_temporary_file(tmp_path, monkeypatch, capsys):
    import export
    from support import files

    path = save(tmp_path, nn.mlp([784, 16, 10]))

    def full_disk(file):
        file.write(b"half")
        raise OSError(28, "No space left on device")

    real = files.write_atomically
    monkeypatch.setattr(files, "write_atomically", lambda target, write: real(target, full_disk))
    monkeypatch.setattr(sys, "argv", ["export.py"])
    with pytest.raises(SystemExit) as exit_status:
        export.main([str(path), "--web", str(tmp_path / "site")])
    assert exit_status.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("export.py: error: ") and error.endswith(": cannot write (No space left on device)\n")
    assert str(tmp_path / "site") in error and error.count("\n") == 1
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.npz"]  # no site/, no temporary folder


def test_without_the_onnx_package_one_line_says_what_to_install(tmp_path):
    hidden = tmp_path / "no-onnx"
    hidden.mkdir()
    (hidden / "onnx.py").write_text("raise ImportError('No module named onnx')\n")
    path = save(tmp_path, nn.mlp([784, 16, 10]))
    result = run_export(path, tmp_path / "model.onnx", PYTHONPATH=str(hidden))
    assert_refused(result, "needs the onnx package", "requirements-export.txt")
    assert not (tmp_path / "model.onnx").exists()
    # The web page needs no onnx.
    assert run_export(path, "--web", tmp_path / "site", PYTHONPATH=str(hidden)).returncode == 0


def test_neither_an_onnx_file_nor_a_web_folder_is_a_usage_error(tmp_path):
    result = run_export(save(tmp_path, nn.mlp([784, 16, 10])))
    assert result.returncode == 2 and "give an OUTPUT.onnx file, or --web FOLDER, or both" in result.stderr
