"""Committees (support/committee.py): several networks answering with the mean of their
probabilities, in predict.py, train.py --load and draw.py, and what is refused with several files.

The networks are untrained (model.build and nn.mlp with different seeds, fully connected and
convolutional): their answers differ from each other's, which is all a committee needs to be told
apart from any one of its members.
"""

import numpy as np
import pytest
from matplotlib.figure import Figure

import draw
import export
import nn
import predict
import shapes
import train
from conftest import write_idx
from support import committee, mnist, model, parallel

MNIST = mnist.DATASETS["mnist"]


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """train.py's flags choose their threads as on an idle machine (as in test_train_run.py)."""
    monkeypatch.setattr(parallel, "busy_cores", lambda: 0)


def networks():
    """Three untrained networks that answer differently: two fully connected, one convolutional."""
    return [nn.mlp([784, 16, 10], rng=np.random.default_rng(0)),
            model.build([8], conv_channels=(4,), rng=np.random.default_rng(1)),
            nn.mlp([784, 10], loss="mse", rng=np.random.default_rng(2))]


@pytest.fixture
def model_files(tmp_path):
    """The three networks saved as m1.npz, m2.npz, m3.npz in tmp_path; returns their paths."""
    paths = [tmp_path / f"m{i}.npz" for i in (1, 2, 3)]
    for network, path in zip(networks(), paths):
        model.save(network, path, {"rounds": 7})
    return paths


def inputs(count, seed=0):
    return np.random.default_rng(seed).random((count, 784), dtype=np.float32)


def mean_probabilities(paths, x):
    """The mean of the probabilities of the networks in the files `paths` for x, worked out here."""
    return np.mean([model.load(path)[0].probabilities(x) for path in paths], axis=0)


# ---------------------------------------------------------------------------------------------
# The committee.


def test_its_probabilities_are_the_mean_of_its_members_and_it_predicts_their_argmax():
    members, x = networks(), inputs(60)
    each = np.array([member.probabilities(x) for member in members])
    probabilities = committee.Committee(members).probabilities(x)
    np.testing.assert_allclose(probabilities, each.mean(axis=0), rtol=1e-6)
    assert np.array_equal(committee.Committee(members).predict(x), each.mean(axis=0).argmax(axis=1))
    # Untrained, they disagree: the committee is none of them.
    assert all(not np.allclose(probabilities, one) for one in each)
    assert all((committee.Committee(members).predict(x) != one.argmax(axis=1)).any() for one in each)


def test_the_batches_do_not_change_the_answers():
    members, x = networks(), inputs(23)
    np.testing.assert_allclose(committee.Committee(members).probabilities(x, batch_size=5),
                               committee.Committee(members).probabilities(x), rtol=1e-6)


def test_one_file_loads_as_its_network_and_several_as_their_committee(model_files):
    network, metadata = committee.load(model_files[:1])
    assert isinstance(network, nn.Network) and metadata == model.load(model_files[0])[1]
    network, metadata = committee.load(model_files)
    assert isinstance(network, committee.Committee) and len(network.members) == 3
    assert metadata == {"dataset": "mnist", "members": [{"rounds": 7, "dataset": "mnist"}] * 3}
    x = inputs(10)
    np.testing.assert_allclose(network.probabilities(x), mean_probabilities(model_files, x), rtol=1e-6)
    assert committee.name(model_files[:1]) == model_files[0]
    assert committee.name(["a.npz", "b.npz"]) == "the committee of a.npz, b.npz"


def test_networks_of_different_datasets_are_refused_naming_the_files(model_files, tmp_path):
    fashion = tmp_path / "fashion.npz"
    model.save(nn.mlp([784, 10]), fashion, dataset="fashion")
    with pytest.raises(model.ModelError) as error:
        committee.load([model_files[0], fashion])
    assert f"{model_files[0]} on MNIST, {fashion} on Fashion-MNIST" in str(error.value)


@pytest.mark.parametrize("write, complaint", [
    (lambda path: None, "no such model file"),
    (lambda path: path.write_text("weights, honest\n"), "not a model file"),
], ids=["missing", "not a model"])
def test_a_bad_file_among_several_is_the_one_named(model_files, tmp_path, write, complaint):
    bad = tmp_path / "bad.npz"
    write(bad)
    with pytest.raises(model.ModelError) as error:
        committee.load([model_files[0], bad, model_files[1]])
    assert str(error.value).startswith(f"{bad}: {complaint}")


# ---------------------------------------------------------------------------------------------
# predict.py


def run_predict(capsys, *args):
    """predict.main on the command line args, in this process; returns (exit status, stdout, stderr)."""
    try:
        predict.main(list(map(str, args)))
        status = 0
    except SystemExit as exit_status:
        status = exit_status.code
    return status, *capsys.readouterr()


def test_predict_with_several_models_prints_the_answers_of_their_mean(model_files, tmp_path, fake_mnist, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    shapes.write_grey_png(tmp_path / "seven.png", shapes.seven())
    status, out, err = run_predict(capsys, "--model", *model_files, "seven.png", "--data-dir", fake_mnist,
                                   "--test-index", 0, 3)
    assert status == 0, err
    network = committee.Committee(model.load(path)[0] for path in model_files)
    _, _, digits, lines, _ = predict.preprocess(tmp_path / "seven.png", MNIST, network)
    picture = predict.describe_number("seven.png", mean_probabilities(model_files, digits.reshape(len(digits), -1)),
                                      MNIST, lines)
    images, labels = mnist.load_split("test", fake_mnist)
    tests = mean_probabilities(model_files, mnist.as_inputs(images[[0, 3]]))
    assert out.splitlines() == [
        f"{committee.name(model_files)}: each answer is the mean of the 3 networks' probabilities",
        picture,
        f"{predict.describe('test image 0', tests[0])}; real label {labels[0]}",
        f"{predict.describe('test image 3', tests[1])}; real label {labels[3]}"]
    # The member's own answers are not the committee's.
    alone = run_predict(capsys, "--model", model_files[0], "--data-dir", fake_mnist, "--test-index", 0, 3)[1]
    assert alone.splitlines() != out.splitlines()[2:]


def test_a_picture_after_one_model_is_a_picture_as_before(model_files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shapes.write_grey_png(tmp_path / "seven.png", shapes.seven())
    status, out, err = run_predict(capsys, "--model", model_files[0], "seven.png")
    digits = predict.preprocess(tmp_path / "seven.png", MNIST, model.load(model_files[0])[0])[2]
    assert status == 0, err
    assert out == predict.describe_number("seven.png", mean_probabilities(model_files[:1], digits.reshape(
        len(digits), -1))) + "\n"


def test_predict_draws_the_committees_probabilities(model_files, fake_mnist, monkeypatch):
    drawn = []
    monkeypatch.setattr(predict, "draw_pages", lambda rows, dataset, output: drawn.extend(rows))
    predict.main(["--model", *map(str, model_files), "--data-dir", str(fake_mnist), "--test-index", "1", "--show"])
    images, _ = mnist.load_split("test", fake_mnist)
    (*_, probabilities), = drawn
    np.testing.assert_allclose(probabilities, mean_probabilities(model_files, mnist.as_inputs(images[[1]])), rtol=1e-6)


def test_predict_names_a_bad_file_among_several_in_one_line(model_files, tmp_path, fake_mnist, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.npz").write_text("weights, honest\n")
    status, out, err = run_predict(capsys, "--model", model_files[0], "bad.npz", "--data-dir", fake_mnist,
                                   "--test-index", 0)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and ": error: bad.npz: not a model file" in err


def test_a_fashion_committee_says_so_in_one_line(tmp_path, fake_mnist, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("f1.npz", "f2.npz"):
        model.save(nn.mlp([784, 10], rng=np.random.default_rng(len(name))), tmp_path / name, dataset="fashion")
    status, out, err = run_predict(capsys, "--model", "f1.npz", "f2.npz", "--data-dir", fake_mnist, "--test-index", 0)
    assert status == 0, err
    assert out.splitlines()[0] == (
        "the committee of f1.npz, f2.npz: each answer is the mean of the 2 networks' probabilities; trained on "
        f"Fashion-MNIST, its classes are {', '.join(mnist.DATASETS['fashion'].classes)}")


# ---------------------------------------------------------------------------------------------
# train.py --load


@pytest.fixture
def labelled_by_the_committee(model_files, fake_mnist, tmp_path):
    """A dataset folder: fake_mnist's training images, and 40 test images labelled with the
    committee's answers, which its members each get partly wrong."""
    folder = tmp_path / "committee-mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes((fake_mnist / name).read_bytes())
    images = np.random.default_rng(5).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = mean_probabilities(model_files, mnist.as_inputs(images)).argmax(axis=1).astype(np.uint8)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return folder


def test_train_evaluates_the_committee_of_several_loaded_networks(model_files, labelled_by_the_committee, tmp_path,
                                                                  capsys):
    images, labels = mnist.load_split("test", labelled_by_the_committee)
    alone = [nn.accuracy(model.load(path)[0], mnist.as_inputs(images), labels) for path in model_files]
    assert max(alone) < 1
    plots = tmp_path / "plots"
    train.main(["--data-dir", str(labelled_by_the_committee), "--load", *map(str, model_files),
                "--plot-dir", str(plots)])
    out = capsys.readouterr().out.splitlines()
    assert f"--load {' '.join(map(str, model_files))}" in out[0] and "--epochs 0" in out[0]
    assert out[1:4] == [f"loaded {path}: {model.describe(model.load(path)[0])}; trained 7 rounds; alone it recognizes "
                        f"{accuracy:.2%} of the test images" for path, accuracy in zip(model_files, alone)]
    assert out[4] == f"{committee.name(model_files)}: each answer is the mean of the 3 networks' probabilities"
    assert out[5] == "correctly recognized images after training: 100.00%"
    assert "accuracy 100.0% (40 of 40 images)" in out
    assert sorted(path.name for path in plots.iterdir()) == ["confusion.png", "mistakes.png", "training.png",
                                                             "weights.png"]


def test_train_quiet_prints_only_the_committees_accuracy(model_files, labelled_by_the_committee, capsys):
    train.main(["--data-dir", str(labelled_by_the_committee), "--load", *map(str, model_files), "--quiet",
                "--epochs", "0"])
    assert capsys.readouterr().out == "correctly recognized images after training: 100.00%\n"


@pytest.mark.parametrize("flags, named", [
    (["--epochs", "1"], "--epochs 1"),
    (["--save", "out.npz"], "--save"),
    (["--samples", "my-digits"], "--samples"),
    (["--checkpoint", "run.npz"], "--checkpoint"),
], ids=["training", "save", "samples", "checkpoint"])
def test_train_refuses_to_train_or_save_a_committee(model_files, fake_mnist, tmp_path, capsys, monkeypatch, flags,
                                                    named):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_status:
        train.main(["--data-dir", str(fake_mnist), "--load", *map(str, model_files[:2]), *flags])
    err = capsys.readouterr().err
    assert exit_status.value.code == 2 and err.count("\n") == 1
    assert f": error: {named}" in err and "training takes one model" in err
    assert not (tmp_path / flags[1]).exists()


def test_train_names_a_bad_file_among_several(model_files, fake_mnist, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_status:
        train.main(["--data-dir", str(fake_mnist), "--load", str(model_files[0]), str(tmp_path / "gone.npz")])
    err = capsys.readouterr().err
    assert exit_status.value.code == 1 and err.count("\n") == 1
    assert f": error: {tmp_path / 'gone.npz'}: no such model file" in err


def test_one_loaded_file_is_still_kept_under_its_own_name(model_files, fake_mnist, tmp_path, capsys):
    saved = tmp_path / "more.npz"
    train.main(["--data-dir", str(fake_mnist), "--load", str(model_files[0]), "--epochs", "1", "--save", str(saved)])
    assert f"loaded {model_files[0]}: dense 784-16 relu, dense 16-10; trained 7 rounds\n" in capsys.readouterr().out
    assert model.load(saved)[1]["rounds"] == 8


# ---------------------------------------------------------------------------------------------
# draw.py and export.py


def test_draw_reads_a_drawing_with_the_mean_of_the_networks(model_files, monkeypatch):
    boards, board_of = [], draw.DrawingBoard
    monkeypatch.setattr(draw, "open_window", lambda: Figure(figsize=draw.WINDOW))
    monkeypatch.setattr(draw.plt, "show", lambda: None)
    monkeypatch.setattr(draw, "DrawingBoard", lambda *arguments: boards.append(board_of(*arguments)))
    draw.main(["--model", *map(str, model_files)])
    (board,) = boards
    board.ink[50:170, 105:118] = 1  # a stroke down the middle
    digit, probabilities = board.read()
    np.testing.assert_allclose(probabilities, mean_probabilities(model_files, digit.reshape(1, -1))[0], rtol=1e-6)
    board.update()
    assert board.answer.get_text().startswith(f"{probabilities.argmax()}  (")


def test_export_takes_one_model_and_never_writes_over_a_second(model_files, capsys):
    before = model_files[1].read_bytes()
    with pytest.raises(SystemExit) as exit_status:
        export.main(list(map(str, model_files[:2])))
    assert exit_status.value.code == 2
    assert f": error: {model_files[1]}: export.py takes one model" in capsys.readouterr().err.splitlines()[-1]
    assert model_files[1].read_bytes() == before
