"""draw.py: the drawing board on an off-screen figure, driven by synthetic mouse and key events,
and the program without a screen. A real window is tried by hand (see the README)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.backend_bases import KeyEvent, MouseEvent
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from test_predict import trained_model  # noqa: F401  (a fixture: a small network trained on real MNIST)

import draw
import nn
import predict
from conftest import ROOT
from support import framing, ink, mnist, model, samples

DRAW = str(ROOT / "draw.py")


class Hand:
    """Moves the mouse and presses keys on a DrawingBoard, as a GUI would send the events."""

    def __init__(self, board):
        self.board, self.canvas = board, board.figure.canvas

    def at(self, point):
        """Screen pixels of a canvas point (x, y) in canvas pixels."""
        return self.board.canvas_axes.transData.transform(point)

    def mouse(self, name, point, button=None):
        MouseEvent(name, self.canvas, *self.at(point), button=button)._process()

    def stroke(self, *points, button=1):
        self.mouse("button_press_event", points[0], button)
        for point in points[1:]:
            self.mouse("motion_notify_event", point, button)
        self.mouse("button_release_event", points[-1], button)

    def key(self, key):
        KeyEvent("key_press_event", self.canvas, key)._process()


def new_board(network, dataset="mnist"):
    board = draw.DrawingBoard(Figure(figsize=draw.WINDOW), network, dataset)
    return board, Hand(board)


@pytest.fixture
def untrained_board():
    return new_board(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)))


@pytest.fixture(scope="module")
def trained_network(trained_model):  # noqa: F811
    return model.load(trained_model)[0]


def circle(centre, radius, n=40):
    angles = np.linspace(0, 2 * np.pi, n)
    return [(centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a)) for a in angles]


def test_a_vertical_stroke_reads_as_1_and_a_ring_as_0(trained_network):
    board, hand = new_board(trained_network)
    hand.stroke(*[(112, y) for y in range(40, 190, 10)])
    assert board.read()[1].argmax() == 1 and board.answer.get_text().startswith("1")
    hand.key("c")
    hand.stroke(*circle((112, 112), (60)))
    assert board.read()[1].argmax() == 0 and board.answer.get_text().startswith("0")


def test_the_network_sees_the_drawing_framed_as_predict_py_frames_a_digit(untrained_board):
    board, hand = untrained_board
    hand.stroke((60, 50), (160, 50), (90, 190))  # a seven
    digit = framing.frame(board.ink)
    assert np.array_equal(board.input_image.get_array(), digit)
    probabilities = board.network.probabilities(digit.reshape(1, 784))[0]
    assert np.allclose([bar.get_height() for bar in board.bars], probabilities)
    # A pen about as wide for the digit as MNIST's: framing finds nothing to widen.
    rows, columns = np.nonzero(board.ink)
    seven = board.ink[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    assert framing.thicken(seven) is seven
    assert framing.TYPICAL <= framing.stroke_width(seven) / max(seven.shape) <= 1.5 * framing.TYPICAL


def test_the_pen_draws_only_where_the_mouse_went_with_a_button_down(untrained_board):
    board, hand = untrained_board
    hand.mouse("motion_notify_event", (50, 50))  # no button: nothing
    assert not board.ink.any()
    hand.stroke((100, 100), (100, 150))
    assert board.ink[100:150, 100].min() == 1 and board.ink[:, :80].max() == 0 and board.ink[:80].max() == 0
    hand.mouse("motion_notify_event", (200, 200))  # after the release: nothing
    assert board.ink[190:, 190:].max() == 0


def test_clearing_empties_the_canvas_and_the_chart(untrained_board):
    board, hand = untrained_board
    hand.stroke((100, 40), (100, 190))
    assert board.ink.any() and any(bar.get_height() > 0 for bar in board.bars)
    hand.key("c")
    assert not board.ink.any() and not board.canvas_image.get_array().any()
    assert not board.input_image.get_array().any()
    assert all(bar.get_height() == 0 for bar in board.bars) and board.answer.get_text() == "draw a digit"


def test_the_right_button_erases(untrained_board):
    board, hand = untrained_board
    hand.stroke((100, 40), (100, 190))
    hand.stroke((60, 115), (140, 115), button=3)
    assert board.ink[100:130, 100].max() == 0 and board.ink[40:80, 100].min() == 1


def test_s_saves_a_new_picture_each_time_that_predict_py_reads(untrained_board, tmp_path, monkeypatch):
    board, hand = untrained_board
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drawing-1.png").write_bytes(b"someone else's")
    hand.stroke((100, 40), (100, 190))
    hand.key("s")
    hand.key("s")
    assert (tmp_path / "drawing-1.png").read_bytes() == b"someone else's"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["drawing-1.png", "drawing-2.png", "drawing-3.png"]
    # The drawing itself, to the nearest of 256 grey levels, and read as the digit the board shows:
    # the same but for the faint edges predict.py leaves out. (This stroke is symmetric, its centre
    # halfway between two pixels: see test_framing's halfway test.)
    assert np.abs(ink.read_image(tmp_path / "drawing-2.png") - (1 - board.ink)).max() <= 0.5 / 255 + 1e-6
    _, _, digits, _, _ = predict.preprocess(tmp_path / "drawing-2.png")
    assert np.abs(digits[0] - framing.frame(board.ink)).mean() < 0.02
    assert "saved drawing-3.png" in board.message.get_text()


def test_a_digit_key_keeps_the_drawing_as_a_sample_of_that_digit_never_over_another(untrained_board, tmp_path,
                                                                                    monkeypatch, capsys):
    board, hand = untrained_board
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-digits" / "7").mkdir(parents=True)
    (tmp_path / "my-digits" / "7" / "sample-1.png").write_bytes(b"an earlier sample")
    hand.stroke((60, 50), (160, 50), (90, 190))  # a seven, which the untrained network misreads
    hand.key("7")
    hand.key("7")
    hand.key("1")
    assert (tmp_path / "my-digits" / "7" / "sample-1.png").read_bytes() == b"an earlier sample"
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()) == [
        "my-digits/1/sample-1.png", "my-digits/7/sample-1.png", "my-digits/7/sample-2.png", "my-digits/7/sample-3.png"]
    # The drawing, dark ink on white, as s saves it; train.py --samples reads it as the board frames it.
    assert np.abs(ink.read_image(tmp_path / "my-digits/7/sample-2.png") - (1 - board.ink)).max() <= 0.5 / 255 + 1e-6
    images, labels, unreadable = samples.read(tmp_path / "my-digits")
    assert list(labels) == [1, 7, 7] and [path.name for path, _ in unreadable] == ["sample-1.png"]
    assert np.abs(images[0] / 255 - framing.frame(board.ink)).mean() < 0.02  # but for faint edges, as s's test
    answer = board.classes[board.read()[1].argmax()]
    line = f"kept my-digits/1/sample-1.png as a 1 (read as {answer})"
    assert board.message.get_text() == line and capsys.readouterr().out.splitlines()[-1] == line


def test_a_digit_key_on_an_empty_canvas_keeps_nothing(untrained_board, tmp_path, monkeypatch):
    board, hand = untrained_board
    monkeypatch.chdir(tmp_path)
    hand.key("4")
    assert not any(tmp_path.iterdir()) and "draw a digit first" in board.message.get_text()


def test_the_samples_folder_is_the_one_given(tmp_path):
    board, hand = new_board(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)))
    board.samples_folder = tmp_path / "my-hand"
    hand.stroke((100, 40), (100, 190))
    hand.key("1")
    assert (tmp_path / "my-hand" / "1" / "sample-1.png").is_file()


def test_c_takes_the_saved_note_off_the_screen_too(tmp_path, monkeypatch):
    """On a canvas that draws (Agg), with the updates drawn over a kept background as on screen."""
    figure = Figure(figsize=draw.WINDOW)
    FigureCanvasAgg(figure)
    board = draw.DrawingBoard(figure, nn.mlp([784, 16, 10], rng=np.random.default_rng(0)))
    hand = Hand(board)
    figure.canvas.draw()

    def note_strip():  # the bottom left of the window, where the note is written
        return np.asarray(figure.canvas.buffer_rgba())[-30:, :300].copy()

    empty = note_strip()
    monkeypatch.chdir(tmp_path)
    hand.stroke((100, 40), (100, 190))
    hand.key("s")
    assert board.message.get_text() == "saved drawing-1.png" and not np.array_equal(note_strip(), empty)
    hand.key("c")
    assert board.message.get_text() == "" and np.array_equal(note_strip(), empty)


def test_q_closes_the_window():
    import matplotlib.pyplot as plt

    figure = plt.figure()  # on the Agg backend: a pyplot figure without a screen
    board = draw.DrawingBoard(figure, nn.mlp([784, 16, 10]))
    Hand(board).key("q")
    assert not plt.fignum_exists(figure.number)


def run_draw(*args, cwd, **environment):
    hidden = {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"}
    environ = {key: value for key, value in os.environ.items() if key not in hidden}
    return subprocess.run([sys.executable, DRAW, *map(str, args)], cwd=cwd, env=environ | environment,
                          capture_output=True, text=True)


def test_without_a_display_one_line_and_exit_1(tmp_path):
    model.save(nn.mlp([784, 16, 10]), tmp_path / "model.npz")
    for environment in ({}, {"MPLBACKEND": "agg"}):
        result = run_draw(cwd=tmp_path, **environment)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == "draw.py: error: no display (DISPLAY is not set): draw.py needs a screen to draw on\n"


def test_a_display_that_cannot_be_opened_is_named_in_one_line_and_exit_1(tmp_path, dead_display):
    """It used to ask "is DISPLAY set?" of a DISPLAY that was set."""
    model.save(nn.mlp([784, 16, 10]), tmp_path / "model.npz")
    result = run_draw(cwd=tmp_path, DISPLAY=dead_display)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"draw.py: error: the display {dead_display} could not be opened: draw.py needs a screen "
                             "to draw on\n")


def test_a_missing_model_says_how_to_train_one(tmp_path):
    result = run_draw("--model", "mine.npz", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "./train.py --save mine.npz" in result.stderr


def test_a_convolutional_network_works_the_same():
    board, hand = new_board(model.build([16], conv_channels=(4,)))
    hand.stroke((100, 40), (100, 190))
    assert sum(bar.get_height() for bar in board.bars) == pytest.approx(1, abs=1e-5)


def test_a_fashion_network_answers_with_its_class_names():
    board, hand = new_board(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)), "fashion")
    assert board.answer.get_text() == "draw something to wear"
    names = [label.get_text() for label in board.bars[0].axes.get_xticklabels()]
    assert names == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"]
    assert board.bars[0].axes.get_title() == "probabilities (Fashion-MNIST)"
    hand.stroke((100, 40), (100, 190))
    best = board.read()[1].argmax()
    assert board.answer.get_text().startswith(f"{names[best]}  (")
    # Framed as Fashion-MNIST frames its pictures: the stroke's length fills the frame.
    seen = board.input_image.get_array()
    assert np.array_equal(seen, framing.frame(board.ink, mnist.DATASETS["fashion"]))
    assert seen[0].any() and seen[-1].any()


def test_a_dataset_flag_against_the_model_is_one_line_and_exit_2(tmp_path):
    model.save(nn.mlp([784, 16, 10]), tmp_path / "model.npz", dataset="fashion")
    result = run_draw("--dataset", "mnist", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith("draw.py: error: --dataset mnist: model.npz was trained on "
                                                     "Fashion-MNIST")
