"""report.py: the confusion matrix and class table on hand-made examples, and the four pictures drawn
for a tiny random network, off-screen, with every warning treated as an error."""

import sys

import matplotlib.image
import numpy as np
import pytest

import nn
from support import figures, mnist, model, report

pytestmark = pytest.mark.filterwarnings("error")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PICTURES = ["training.png", "confusion.png", "mistakes.png", "weights.png"]

# Three classes: 0 is right once and taken for 1 once; 1 is right once; 2 is right twice and taken for 0 once.
LABELS = [0, 0, 1, 2, 2, 2]
PREDICTED = [0, 1, 1, 2, 0, 2]
MATRIX = [[1, 1, 0],
          [0, 1, 0],
          [1, 0, 2]]


def table_rows(table):
    """The class table's digit lines as {digit: [precision, recall, f1, images]}."""
    lines = table.splitlines()
    return {int(line.split()[0]): line.split()[1:] for line in lines[1:-1]}


# ----------------------------------------------------------------------------------------------
# Numbers.


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    np.testing.assert_array_equal(report.confusion_matrix(LABELS, PREDICTED, classes=3), MATRIX)


def test_confusion_matrix_has_ten_classes_by_default():
    matrix = report.confusion_matrix(np.array([9, 3], np.uint8), np.array([4, 3]))
    assert matrix.shape == (10, 10)
    assert matrix[9, 4] == 1 and matrix[3, 3] == 1 and matrix.sum() == 2


@pytest.mark.parametrize("labels, predicted", [([0, 3], [0, 1]), ([0, 1], [0, -1]), ([0, 1], [0]), ([0, 1, 2], [0, 1])])
def test_confusion_matrix_refuses_values_outside_the_classes(labels, predicted):
    with pytest.raises(ValueError, match="ints in 0..2"):
        report.confusion_matrix(labels, predicted, classes=3)


def test_class_table_gives_precision_recall_f1_and_images_per_digit():
    rows = table_rows(report.class_table(MATRIX))
    # precision = right / called that digit, recall = right / images of it, f1 = 2 right / (images + called)
    assert rows == {
        0: ["50.0%", "50.0%", "50.0%", "2"],
        1: ["50.0%", "100.0%", "66.7%", "1"],
        2: ["100.0%", "66.7%", "80.0%", "3"],
    }


def test_class_table_ends_with_the_accuracy():
    assert report.class_table(MATRIX).splitlines()[-1] == "accuracy 66.7% (4 of 6 images)"


def test_class_table_columns_are_aligned():
    lines = report.class_table(report.confusion_matrix([0, 1, 1, 1, 2] * 300, [0, 1, 1, 2, 2] * 300, classes=3))
    header, *rows, _ = lines.splitlines()
    assert header.split() == ["digit", "precision", "recall", "f1", "images"]
    # Right-aligned columns: every line is as long as the header and each field ends where its heading does.
    heading_ends = [header.index(word) + len(word) for word in header.split()]
    for row in rows:
        assert len(row) == len(header)
        assert all(row[end - 1] != " " and (end == len(row) or row[end] == " ") for end in heading_ends)


def test_class_table_shows_dash_for_a_digit_never_predicted():
    # Digit 2 has an image but is never predicted: no precision, recall and f1 0. Digit 3 never occurs at all.
    rows = table_rows(report.class_table(report.confusion_matrix([0, 1, 2], [0, 1, 1], classes=4)))
    assert rows[2] == ["-", "0.0%", "0.0%", "1"]
    assert rows[3] == ["-", "-", "-", "0"]
    assert rows[1] == ["50.0%", "100.0%", "66.7%", "1"]


def test_class_table_of_no_images_has_no_accuracy():
    assert report.class_table(np.zeros((10, 10), int)).splitlines()[-1] == "accuracy - (0 of 0 images)"


def test_confident_mistakes_are_ordered_by_the_wrong_answers_probability():
    labels = np.array([0, 1, 2, 0, 1])
    probabilities = np.array([
        [0.9, 0.1, 0.0],  # right
        [0.6, 0.4, 0.0],  # wrong, 0.6
        [0.0, 0.1, 0.9],  # right
        [0.0, 0.05, 0.95],  # wrong, 0.95
        [0.2, 0.0, 0.8],  # wrong, 0.8
    ])
    np.testing.assert_array_equal(report.confident_mistakes(labels, probabilities, 10), [3, 4, 1])
    np.testing.assert_array_equal(report.confident_mistakes(labels, probabilities, 2), [3, 4])
    assert len(report.confident_mistakes(labels, np.eye(3)[labels], 10)) == 0


# ----------------------------------------------------------------------------------------------
# Pictures.


def fake_history(rounds, validation):
    return [{"round": i + 1, "cost": 1.0 / (i + 1), "train": 0.8 + 0.05 * i,
             "validation": 0.85 + 0.04 * i if validation else None, "test": 0.84 + 0.04 * i, "seconds": 1.5}
            for i in range(rounds)]


@pytest.fixture
def test_set():
    """50 random 'test images' (50, 28, 28) uint8 and labels (50,)."""
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50)


@pytest.fixture(autouse=True)
def no_pyplot(monkeypatch):
    """Make `import matplotlib.pyplot` fail: the pictures must be drawn without it, hence without a display."""
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)


def assert_pictures(paths, folder):
    """`paths` are the four PNG files in `folder`, each a small picture that matplotlib reads back."""
    assert paths == [folder / name for name in PICTURES]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE
        assert len(data) < 200_000, f"{path.name} is {len(data)} bytes"
        height, width, _ = matplotlib.image.imread(path).shape
        assert 150 <= height <= 1200 and 400 <= width <= 1200, f"{path.name} is {width} x {height}"


def write(folder, history, sizes, test_set, probabilities=None):
    images, labels = test_set
    network = nn.mlp(sizes, rng=np.random.default_rng(0))
    if probabilities is None:
        probabilities = network.probabilities(mnist.as_inputs(images))
    return figures.write_plots(folder, history, network, images, labels, probabilities)


@pytest.mark.parametrize("rounds", [3, 1, 0])
@pytest.mark.parametrize("validation", [True, False], ids=["validation", "no-validation"])
def test_write_plots_writes_four_pngs_into_a_new_folder(tmp_path, test_set, rounds, validation):
    folder = tmp_path / "new" / "plots"
    paths = write(folder, fake_history(rounds, validation), [784, 16, 10], test_set)
    assert_pictures(paths, folder)


def test_write_plots_with_no_mistakes(tmp_path, test_set):
    probabilities = np.eye(10)[test_set[1]]
    assert_pictures(write(tmp_path, fake_history(3, True), [784, 16, 10], test_set, probabilities), tmp_path)


def test_write_plots_for_a_network_without_hidden_layers(tmp_path, test_set):
    assert_pictures(write(tmp_path, fake_history(2, False), [784, 10], test_set), tmp_path)


def test_write_plots_replaces_old_pictures(tmp_path, test_set):
    for name in PICTURES:
        (tmp_path / name).write_bytes(b"old")
    write(tmp_path, [], [784, 16, 10], test_set)
    assert all((tmp_path / name).read_bytes()[:8] == PNG_SIGNATURE for name in PICTURES)


def test_weights_picture_shows_at_most_32_units_with_a_scale_centred_at_zero():
    network = nn.mlp([784, 40, 10], rng=np.random.default_rng(2))
    network.layers[0].weights[:, 1] = 0  # a dead unit still gets a scale
    figure = figures.weights_figure(*figures.first_layer_pictures(network))
    images = [axes.images[0] for axes in figure.axes]
    assert len(images) == figures.WEIGHT_UNITS
    for unit, image in enumerate(images):
        low, high = image.get_clim()
        assert high > 0 and low == -high
        assert high == (np.abs(network.layers[0].weights[:, unit]).max() or 1.0)
        np.testing.assert_array_equal(image.get_array(), network.layers[0].weights[:, unit].reshape(28, 28))


def test_a_cnn_shows_its_first_layer_filters(tmp_path, test_set):
    network = model.build([], [6], kernel=5, rng=np.random.default_rng(0))
    pictures, kind = figures.first_layer_pictures(network)
    assert kind == "filter" and pictures.shape == (6, 5, 5)
    np.testing.assert_array_equal(pictures[2], network.layers[0].weights[:, 2].reshape(5, 5))
    figure = figures.weights_figure(pictures, kind)
    assert [axes.get_title() for axes in figure.axes] == [f"filter {i}" for i in range(6)]
    images, labels = test_set
    paths = figures.write_plots(tmp_path, fake_history(2, False), network, images, labels,
                               network.probabilities(mnist.as_inputs(images)))
    assert_pictures(paths, tmp_path)


def test_training_picture_without_rounds_says_so():
    axes, = figures.training_figure([]).axes
    assert [text.get_text() for text in axes.texts] == ["no training rounds: nothing to plot"]
    assert not axes.lines


def test_training_picture_plots_validation_only_when_there_is_some():
    for validation, labels in ((True, ["train accuracy (during the round)", "validation accuracy", "test accuracy"]),
                               (False, ["train accuracy (during the round)", "test accuracy"])):
        _, accuracy_axes = figures.training_figure(fake_history(3, validation)).axes
        assert [line.get_label() for line in accuracy_axes.lines] == labels
        np.testing.assert_allclose(accuracy_axes.lines[-1].get_ydata(), [84, 88, 92])


# ----------------------------------------------------------------------------------------------
# Fashion-MNIST: the classes by name, in the table and in every picture.

FASHION = mnist.DATASETS["fashion"]


def test_class_table_names_fashion_classes_under_their_noun():
    lines = report.class_table(report.confusion_matrix([0, 9, 9, 6], [0, 9, 7, 0]), FASHION).splitlines()
    assert lines[0] == "      class  precision  recall      f1  images"
    assert lines[1] == "T-shirt/top      50.0%  100.0%   66.7%       1"
    assert lines[10] == " Ankle boot     100.0%   50.0%   66.7%       2"
    assert [line[:11].strip() for line in lines[1:-1]] == list(FASHION.classes)
    assert all(len(line) == len(lines[0]) for line in lines[1:-1])


def test_mnist_pictures_name_digits_as_before():
    matrix = report.confusion_matrix([0, 1, 2], [0, 2, 2])
    axes = figures.confusion_figure(matrix).axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("predicted digit", "true digit")
    assert [label.get_text() for label in axes.get_xticklabels()] == list("0123456789")
    figure = figures.mistakes_figure(np.zeros((3, 28, 28), np.uint8), np.array([0, 1, 2]), np.eye(10)[[0, 2, 2]])
    assert [axes.get_title() for axes in figure.axes] == ["true 1, said 2 (1.00)"]


def test_fashion_pictures_name_the_classes(tmp_path, test_set):
    images, labels = test_set
    matrix = report.confusion_matrix([0, 1, 9], [0, 7, 9])
    axes = figures.confusion_figure(matrix, FASHION).axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("predicted class", "true class")
    for ticks in (axes.get_xticklabels(), axes.get_yticklabels()):
        assert [label.get_text() for label in ticks] == list(FASHION.classes)
    figure = figures.mistakes_figure(images[:2], np.array([1, 8]), np.eye(10)[[7, 8]], FASHION)
    assert [axes.get_title() for axes in figure.axes] == ["true Trouser,\nsaid Sneaker (1.00)"]
    no_hidden = nn.mlp([784, 10], rng=np.random.default_rng(0))
    figure = figures.weights_figure(*figures.first_layer_pictures(no_hidden), FASHION)
    assert [axes.get_title() for axes in figure.axes] == list(FASHION.classes)
    assert figure._suptitle.get_text().startswith("Weights from the pixels to each class (no hidden layer)")
    network = nn.mlp([784, 16, 10], rng=np.random.default_rng(0))
    paths = figures.write_plots(tmp_path, fake_history(2, False), network, images, labels,
                               network.probabilities(mnist.as_inputs(images)), FASHION)
    assert_pictures(paths, tmp_path)
