"""predict.py: pictures made into MNIST-like digits, and the program run on them.

The unit tests draw their own shapes and need no data. The tests with the real MNIST files train a
small network, then draw test-set digits the way a person's picture of them would look (enlarged,
dark ink on greyish paper, off centre, some in colour, some as JPEG) and check that the network
answers the same for the picture as for the original digit.
"""

import os
import re
import struct
import subprocess
import sys
import zlib

import matplotlib.image
import numpy as np
import PIL.Image
import pytest

import nn
import predict
from conftest import ROOT
from support import mnist, model

PREDICT = str(ROOT / "predict.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ANSWER = r"(\d) \(confidence [01]\.\d\d\); then (\d) \([01]\.\d\d\), (\d) \([01]\.\d\d\)"
GREYISH_PAPER, DARK_INK = 0.85, 0.1
CREAM_PAPER, BLUE_INK = (0.95, 0.9, 0.75), (0.1, 0.15, 0.55)

# ---------------------------------------------------------------------------------------------
# Drawing: ink (H, W) float32 in [0, 1], 1 where the pen went, and pictures made from it.


def ellipse(shape, centre, radii):
    """Ink of a filled ellipse in a picture of `shape`; centre and radii as (row, column)."""
    rows, columns = np.indices(shape)
    inside = ((rows - centre[0]) / radii[0]) ** 2 + ((columns - centre[1]) / radii[1]) ** 2 <= 1
    return inside.astype(np.float32)


def stroke(shape, *points, width):
    """Ink of a pen line `width` pixels wide through the (row, column) points, in a picture of `shape`."""
    pixels = np.indices(shape).reshape(2, -1).T.astype(float)
    ink = np.zeros(len(pixels), bool)
    for start, end in zip(np.array(points[:-1], float), np.array(points[1:], float)):
        along = np.clip((pixels - start) @ (end - start) / ((end - start) @ (end - start)), 0, 1)
        ink |= np.linalg.norm(pixels - start - along[:, None] * (end - start), axis=1) <= width / 2
    return ink.reshape(shape).astype(np.float32)


def seven(scale=1, width=12):
    """Ink of a seven in a picture of 120 x 90 pixels times `scale`, drawn `width` pixels wide."""
    return stroke((120 * scale, 90 * scale), *scale * np.array([(20, 15), (20, 75), (105, 35)]), width=width)


def paint(ink, paper=GREYISH_PAPER, colour=DARK_INK):
    """The picture of `ink` in `colour` on `paper`: grey (H, W) for numbers, RGB (H, W, 3) for triples."""
    paper, colour = np.asarray(paper, np.float32), np.asarray(colour, np.float32)
    return paper + (colour - paper) * (ink[..., None] if paper.ndim else ink)


def save(path, picture):
    """Write a grey (H, W) or RGB (H, W, 3) picture with values in [0, 1]; the format follows the name."""
    matplotlib.image.imsave(path, np.clip(picture, 0, 1), cmap="gray", vmin=0, vmax=1)
    return path


def centre_of_mass(digit):
    rows, columns = np.indices(digit.shape)
    return np.array([(digit * rows).sum(), (digit * columns).sum()]) / digit.sum()


def ink_box(digit):
    """(height, width) of the smallest box around all the ink."""
    rows, columns = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def assert_mnist_like(digit):
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1
    assert np.abs(centre_of_mass(digit) - 14).max() <= 1
    assert max(ink_box(digit)) in (19, 20, 21)


# ---------------------------------------------------------------------------------------------
# From ink to an MNIST-like digit.

SHAPES = {
    "small blob in a corner": lambda: ellipse((60, 80), (12, 65), (5, 6)),
    "tiny dot, enlarged": lambda: ellipse((40, 40), (30, 8), (1.5, 1.5)),
    "tall ellipse": lambda: ellipse((300, 200), (100, 60), (80, 25)),
    "wide ellipse": lambda: ellipse((200, 400), (150, 250), (20, 120)),
    "thin vertical stroke": lambda: stroke((300, 300), (20, 250), (280, 250), width=3),
    "thick diagonal stroke": lambda: stroke((100, 150), (10, 10), (60, 140), width=15),
    "seven, off centre": lambda: np.pad(seven(), ((5, 200), (150, 3))),
    "L, heavy at the bottom": lambda: stroke((200, 200), (20, 30), (150, 30), (150, 120), width=20),
}


@pytest.mark.parametrize("draw", SHAPES.values(), ids=SHAPES.keys())
def test_digit_is_centred_by_mass_and_20_pixels_long(draw):
    assert_mnist_like(predict.to_mnist(draw()))


@pytest.mark.parametrize("radii, box", [((80, 40), (20, 10)), ((30, 90), (7, 20))], ids=["2:1", "1:3"])
def test_aspect_ratio_is_kept(radii, box):
    digit = predict.to_mnist(ellipse((400, 400), (200, 200), radii))
    assert np.abs(np.subtract(ink_box(digit), box)).max() <= 1


@pytest.mark.parametrize("draw", SHAPES.values(), ids=SHAPES.keys())
def test_a_digit_made_the_mnist_way_comes_back_unchanged(draw):
    digit = predict.to_mnist(draw())
    assert np.allclose(predict.to_mnist(digit), digit)


def test_thin_strokes_are_widened_and_thick_ones_kept():
    thick = seven(width=12)
    assert predict.thicken(thick) is thick
    thin = predict.to_mnist(seven(scale=5, width=4))  # a fine pen, photographed close up
    assert np.count_nonzero(thin > 0.5) > 0.7 * np.count_nonzero(predict.to_mnist(thick) > 0.5)
    assert_mnist_like(thin)


def test_no_ink_at_all_is_an_image_error():
    with pytest.raises(predict.ImageError, match="no ink"):
        predict.to_mnist(np.zeros((30, 30), np.float32))


# ---------------------------------------------------------------------------------------------
# From a grey picture to ink.


def test_greyish_paper_becomes_0_and_ink_1():
    ink = seven()
    rng = np.random.default_rng(0)
    grey = paint(ink, paper=0.8, colour=0.2) + rng.normal(0, 0.01, ink.shape).astype(np.float32)
    normalized = predict.normalize(grey)
    assert normalized.dtype == np.float32 and normalized.shape == ink.shape
    assert np.all(normalized[ink == 0] == 0)
    assert normalized[ink == 1].min() > 0.9 and normalized.max() == 1


def test_light_ink_on_dark_paper_gives_the_same_digit():
    ink = seven()
    grey = paint(ink) + np.random.default_rng(1).normal(0, 0.01, ink.shape).astype(np.float32)
    dark_on_light = predict.to_mnist(predict.normalize(grey))
    light_on_dark = predict.to_mnist(predict.normalize(1 - grey))
    assert np.abs(dark_on_light - light_on_dark).max() < 1e-5


def test_faint_marks_are_not_ink():
    ink = np.pad(seven(), 40)
    grey = paint(ink)
    grey[:, :40] -= 0.1  # a shadow along one side, far fainter than the ink
    grey[150:160, 100:160] -= 0.15  # a smudge
    normalized = predict.normalize(grey)
    assert np.array_equal(normalized > 0, ink > 0)


@pytest.mark.parametrize("grey", [np.full((40, 50), 0.93), np.ones((5, 5)),
                                  0.8 + np.random.default_rng(2).normal(0, 0.02, (300, 400)),
                                  np.linspace(0.7, 0.9, 100)[:, None] * np.ones((100, 80))],
                         ids=["grey page", "white page", "grainy page", "shaded page"])
def test_a_page_without_ink_is_an_image_error(grey):
    with pytest.raises(predict.ImageError, match="no ink"):
        predict.normalize(grey.astype(np.float32))


def four(shape=(150, 120), width=10):
    """Ink of an open four, `width` pixels wide, in a picture of 150 x 120 pixels."""
    return np.maximum(stroke(shape, (15, 70), (95, 20), (95, 100), width=width),
                      stroke(shape, (40, 75), (135, 75), width=width))


@pytest.mark.parametrize("levels", [30, 60, 100])
@pytest.mark.parametrize("light", ["added", "multiplied"])
def test_paper_brightening_from_left_to_right_still_shows_the_ink(levels, light):
    ink = four()
    ramp = np.linspace(0, levels / 255, ink.shape[1], dtype=np.float32)
    if light == "added":  # the paper from 0.55 to 0.55 + levels / 255, the ink lifted as much
        grey = paint(ink, paper=0.55, colour=0.15) + ramp
    else:  # a lamp: light falls on paper and ink alike, the paper from 0.6 to 0.6 + levels / 255
        grey = paint(ink, paper=1, colour=0.15) * (0.6 + ramp)
    grey += np.random.default_rng(3).normal(0, 0.01, ink.shape).astype(np.float32)
    normalized = predict.normalize(grey)
    assert np.array_equal(normalized > 0, ink > 0)
    assert np.abs(predict.to_mnist(normalized) - predict.to_mnist(ink)).mean() < 0.01


def test_the_paper_level_follows_light_that_changes_slowly_and_not_the_ink():
    rows, columns = np.indices((200, 300)) / 200
    light = 0.9 - 0.2 * (rows - 0.4) ** 2 - 0.1 * (columns - 1) ** 2 + 0.05 * rows * columns  # a lamp above
    ink = np.pad(four(), ((20, 30), (100, 80)))
    level = predict.paper_level((light * (1 - 0.8 * ink)).astype(np.float32))
    assert level.dtype == np.float32 and np.abs(level - light).max() < 1e-3


# ---------------------------------------------------------------------------------------------
# Finding the digits of a number.


def test_groups_are_pixels_touching_by_a_side_or_a_corner():
    mask = np.array([[1, 1, 0, 0, 1],
                     [0, 0, 1, 0, 1],
                     [1, 0, 0, 0, 0],
                     [1, 0, 1, 1, 1]], bool)
    labels, count = predict.label_groups(mask)
    assert count == 4
    assert np.all((labels >= 0) == mask)
    groups = {frozenset(zip(*np.nonzero(labels == number))) for number in range(count)}
    assert groups == {frozenset({(0, 0), (0, 1), (1, 2)}), frozenset({(0, 4), (1, 4)}),
                      frozenset({(2, 0), (3, 0)}), frozenset({(3, 2), (3, 3), (3, 4)})}


def test_a_long_winding_stroke_is_one_group():
    snake = np.zeros((81, 60), bool)  # rows of ink joined at alternate ends: one path of thousands of pixels
    snake[::2] = True
    snake[1::4, -1] = True
    snake[3::4, 0] = True
    labels, count = predict.label_groups(np.pad(snake, ((0, 0), (0, 3))) | np.eye(81, 63, 62, dtype=bool))
    assert count == 2 and np.all(labels[:, :60][snake] == labels[0, 0])


def five(width=10):
    """Ink of a five whose bar does not touch its body, in a picture of 150 x 110 pixels."""
    body = stroke((150, 110), (20, 25), (70, 20), (65, 70), (90, 90), (120, 70), (135, 40), (125, 15), width=width)
    return np.maximum(body, stroke((150, 110), (5, 40), (5, 95), width=width))


def broken_four():
    """The four with its stem broken in two below the bar."""
    ink = four()
    ink[105:115, 60:90] = 0
    return ink


def number(*inks, gaps):
    """The inks side by side, `gaps` (one fewer) columns apart."""
    parts = [inks[0]]
    for ink, gap in zip(inks[1:], gaps):
        parts += [np.zeros((ink.shape[0], gap), np.float32), ink]
    return np.hstack(parts)


def test_digits_are_found_left_to_right_with_their_strokes_that_do_not_touch():
    seven_ = np.pad(seven(), ((15, 15), (0, 0)))  # 150 rows, like the others
    ink = np.pad(number(five(), broken_four(), seven_, four(), gaps=[10, 3, 30]), 20)
    ink[5, 5] = 1  # a speck
    boxes, inks = predict.split_digits(ink)
    widths = [110, 120, 90, 120]
    lefts = 20 + np.cumsum([0, 110 + 10, 120 + 3, 90 + 30])
    assert len(boxes) == 4
    for (top, left, bottom, right), digit, expected_left, width, expected in zip(
            boxes, inks, lefts, widths, [five(), broken_four(), seven_, four()]):
        region = ink[top:bottom, left:right]
        assert expected_left <= left and right <= expected_left + width and digit.shape == region.shape
        assert np.array_equal(predict.to_mnist(digit), predict.to_mnist(expected))


def test_one_digit_is_one_box_around_all_its_ink():
    boxes, inks = predict.split_digits(broken_four())
    rows, columns = np.nonzero(broken_four())
    assert boxes.tolist() == [[rows.min(), columns.min(), rows.max() + 1, columns.max() + 1]]
    assert np.array_equal(inks[0], broken_four()[rows.min():rows.max() + 1, columns.min():columns.max() + 1])


# ---------------------------------------------------------------------------------------------
# Reading files.


def write_grey_png(path, ink):
    PIL.Image.fromarray(np.round(255 * paint(ink)).astype(np.uint8)).save(path)  # mode "L", as scanners write


def write_16_bit_png(path, ink):
    PIL.Image.fromarray(np.round(65535 * paint(ink)).astype(np.uint16)).save(path)


def write_rgb_png(path, ink):
    PIL.Image.fromarray(np.round(255 * paint(ink, CREAM_PAPER, BLUE_INK)).astype(np.uint8)).save(path)


def write_transparent_png(path, ink):
    """Black everywhere, the ink opaque and the paper transparent, as drawing programs save."""
    rgba = np.zeros(ink.shape + (4,), np.float32)
    rgba[..., 3] = ink
    matplotlib.image.imsave(path, rgba)


def write_jpeg(path, ink):
    matplotlib.image.imsave(path, paint(ink, CREAM_PAPER, BLUE_INK), format="jpg")


FORMATS = {
    "grey PNG": ("digit.png", write_grey_png),
    "16-bit grey PNG": ("digit.png", write_16_bit_png),
    "RGB PNG": ("digit.png", write_rgb_png),
    "RGBA PNG, transparent paper": ("digit.png", write_transparent_png),
    "JPEG": ("digit.jpg", write_jpeg),
    "JPEG named .png": ("digit.png", write_jpeg),
}


@pytest.mark.parametrize("name, write", FORMATS.values(), ids=FORMATS.keys())
def test_pictures_are_read_in_grey_and_give_the_digit(tmp_path, name, write):
    ink = seven()
    write(tmp_path / name, ink)
    grey = predict.read_image(tmp_path / name)
    assert grey.shape == ink.shape and grey.dtype == np.float32
    assert grey.min() >= 0 and grey.max() <= 1
    assert grey[0, 0] > 0.5  # the paper is light, whatever its colour or transparency
    _, _, digits = predict.preprocess(tmp_path / name)
    assert np.abs(digits - predict.to_mnist(ink)).mean() < 0.02


# EXIF orientations and how far (in quarter turns anticlockwise) the stored picture is turned from upright.
@pytest.mark.parametrize("orientation, quarter_turns", [(1, 0), (3, 2), (6, 1), (8, 3)],
                         ids=["upright", "upside down", "turned left", "turned right"])
def test_photos_are_turned_upright_as_their_exif_orientation_says(tmp_path, orientation, quarter_turns):
    ink = seven()
    exif = PIL.Image.Exif()
    exif[0x0112] = orientation  # the EXIF Orientation tag
    stored = paint(np.rot90(ink, quarter_turns))
    PIL.Image.fromarray(np.round(255 * stored).astype(np.uint8)).save(tmp_path / "photo.png", exif=exif)
    grey = predict.read_image(tmp_path / "photo.png")
    assert np.abs(grey - paint(ink)).max() < 0.01


def write_huge_png(path, size=14000):
    """A small PNG whose header claims size x size pixels, above Pillow's decompression-bomb limit."""
    write_grey_png(path, seven())
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", size, size)  # width and height in the IHDR chunk ...
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))  # ... and the chunk's checksum
    path.write_bytes(bytes(data))


def write_text(path):
    path.write_text("not a picture\n")


def write_truncated_png(path):
    write_grey_png(path, seven())
    path.write_bytes(path.read_bytes()[:200])


BAD_FILES = {
    "text named .png": (write_text, "not a picture"),
    "truncated PNG": (write_truncated_png, "damaged"),
    "missing": (lambda path: None, "no such file"),
    "folder": (lambda path: path.mkdir(), "cannot read"),
    "14000 x 14000 pixels": (write_huge_png, "too large"),
}


@pytest.mark.parametrize("write, complaint", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_unreadable_files_are_image_errors(tmp_path, write, complaint):
    write(tmp_path / "x.png")
    with pytest.raises(predict.ImageError, match=complaint):
        predict.read_image(tmp_path / "x.png")


# ---------------------------------------------------------------------------------------------
# The program, with a network that knows nothing (enough for its output and errors).


def run_predict(*args, cwd):
    """Run predict.py with the venv's python, without a display or MNIST_DIR."""
    hidden = {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND", "MNIST_DIR"}
    environ = {key: value for key, value in os.environ.items() if key not in hidden}
    return subprocess.run([sys.executable, PREDICT, *map(str, args)], cwd=cwd, env=environ,
                          capture_output=True, text=True)


def assert_png_picture(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width, _ = matplotlib.image.imread(path).shape
    assert 100 <= height <= 5000 and 100 <= width <= 2000


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("untrained") / "model.npz"
    model.save(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)), path)
    return path


@pytest.fixture
def pictures(tmp_path):
    """Two good pictures of a seven, a PNG and a JPEG."""
    write_grey_png(tmp_path / "seven.png", seven())
    write_jpeg(tmp_path / "seven.jpg", seven())
    return [tmp_path / "seven.png", tmp_path / "seven.jpg"]


def test_prints_one_line_per_picture_and_draws_them(tmp_path, untrained_model, pictures):
    result = run_predict("--model", untrained_model, *pictures, "--output", tmp_path / "out.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(pictures)
    for line, picture in zip(lines, pictures):
        answer = re.fullmatch(re.escape(str(picture)) + ": " + ANSWER, line)
        assert answer and len(set(answer.groups())) == 3, line
    assert_png_picture(tmp_path / "out.png")


def test_show_without_a_display_saves_the_picture(tmp_path, untrained_model, pictures):
    result = run_predict("--model", untrained_model, pictures[0], "--show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "saved to predict.png" in result.stdout
    assert_png_picture(tmp_path / "predict.png")


def test_bad_files_get_a_line_each_and_the_others_are_still_classified(tmp_path, untrained_model, pictures):
    write_text(tmp_path / "x.png")
    save(tmp_path / "blank.png", np.full((50, 50), 0.9))
    write_huge_png(tmp_path / "huge.png")
    bad = {tmp_path / "x.png": "not a picture", tmp_path / "missing.jpg": "no such file",
           tmp_path / "blank.png": "no ink", tmp_path / "huge.png": "too large"}
    good, other_good = pictures
    result = run_predict("--model", untrained_model, good, *bad, other_good, cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [str(good), str(other_good)]
    errors = result.stderr.splitlines()
    assert len(errors) == len(bad)
    for line, (path, complaint) in zip(errors, bad.items()):
        assert line.startswith(f"predict.py: error: {path}: ") and complaint in line


def test_a_number_prints_its_digits_left_to_right_and_draws_their_boxes(tmp_path, untrained_model):
    seven_ = np.pad(seven(), ((15, 15), (0, 0)))
    write_grey_png(tmp_path / "number.png", np.pad(number(five(), broken_four(), seven_, gaps=[20, 25]), 30))
    result = run_predict("--model", untrained_model, tmp_path / "number.png", "--output", tmp_path / "out.png",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    confidence = r"[01]\.\d\d"
    assert re.fullmatch(re.escape(str(tmp_path / "number.png")) + rf": \d{{3}} \(confidence of each digit: "
                        rf"{confidence}, {confidence}, {confidence}\)\n", result.stdout), result.stdout
    assert_png_picture(tmp_path / "out.png")


@pytest.mark.parametrize("write_model, complaint", [
    (lambda path: None, "no such model file"),
    (lambda path: path.write_text("weights, honest\n"), "not a model file"),
], ids=["missing", "not a model"])
def test_a_bad_model_is_one_line_and_exit_1(tmp_path, pictures, write_model, complaint):
    write_model(tmp_path / "model.npz")
    result = run_predict(*pictures, cwd=tmp_path)  # --model defaults to model.npz
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and complaint in result.stderr and "model.npz" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args, complaint", [
    ([], "give at least one IMAGE, or --test-index"),
    (["--test-index", "5"], "--test-index 5: there are 5 test images, numbered 0 to 4"),
    (["--test-index", "-1"], "--test-index: '-1' must be a whole number, 0 or more"),
], ids=["nothing to do", "index past the end", "negative index"])
def test_usage_errors_exit_2(tmp_path, untrained_model, fake_mnist, args, complaint):
    result = run_predict("--model", untrained_model, "--data-dir", fake_mnist, *args, cwd=tmp_path)
    assert result.returncode == 2
    assert complaint in result.stderr and "Traceback" not in result.stderr


def test_test_index_prints_the_real_labels(tmp_path, untrained_model, fake_mnist, pictures):
    result = run_predict("--model", untrained_model, "--data-dir", fake_mnist, pictures[0], "--test-index", 3, 1,
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    picture_line, *test_lines = result.stdout.splitlines()
    assert picture_line.startswith(f"{pictures[0]}: ")
    for line, index in zip(test_lines, [3, 1], strict=True):  # the fake test images are labelled 0, 1, 2, ...
        assert re.fullmatch(f"test image {index}: {ANSWER}; real label {index}", line), line


# ---------------------------------------------------------------------------------------------
# With the real MNIST files: a trained network, and test digits drawn as a person's pictures.

AGREEMENT_DIGITS = 200


@pytest.fixture(scope="module")
def trained_model(mnist_dir, tmp_path_factory):
    """The file of a small network trained for two rounds (about 96% of the test digits right)."""
    images, labels = mnist.load_split("train", mnist_dir)
    rng = np.random.default_rng(0)
    network = nn.mlp([784, 128, 10], "relu", rng=rng)
    optimizer = nn.Adam(network.parameters())
    x = None
    for _ in range(2):
        x, shuffled_labels = mnist.shuffled_inputs(images, labels, rng, max_shift=1, out=x)
        nn.train_epoch(network, optimizer, x, shuffled_labels, 128, lambda batch: 1e-3)
    path = tmp_path_factory.mktemp("trained") / "model.npz"
    model.save(network, path)
    return path


@pytest.fixture(scope="module")
def test_digits(mnist_dir):
    images, labels = mnist.load_split("test", mnist_dir)
    return images[:AGREEMENT_DIGITS], labels[:AGREEMENT_DIGITS]


def draw_as_picture(image, rng):
    """A 28 x 28 uint8 MNIST digit as someone's picture of it: enlarged 3 to 6 times, dark on greyish
    paper with some grain, off centre in a larger page; a third in blue on cream."""
    ink = np.kron(image / 255, np.ones((rng.integers(3, 7),) * 2))
    top, left, bottom, right = rng.integers(5, 80, 4)
    ink = np.pad(ink, ((top, bottom), (left, right))).astype(np.float32)
    picture = paint(ink, CREAM_PAPER, BLUE_INK) if rng.random() < 1 / 3 else paint(ink)
    return picture + rng.normal(0, 0.01, picture.shape)


@pytest.fixture(scope="module")
def drawn_digits(test_digits, tmp_path_factory):
    """The test digits drawn as pictures, every fourth a JPEG, the others PNG; their paths."""
    folder = tmp_path_factory.mktemp("drawn")
    rng = np.random.default_rng(0)
    return [save(folder / f"digit-{i}.{'jpg' if i % 4 == 3 else 'png'}", draw_as_picture(image, rng))
            for i, image in enumerate(test_digits[0])]


def test_pictures_get_the_answers_of_their_mnist_digits(trained_model, test_digits, drawn_digits):
    network, _ = model.load(trained_model)
    originals = network.probabilities(mnist.as_inputs(test_digits[0])).argmax(axis=1)
    inputs = np.array([predict.preprocess(path)[2].reshape(784) for path in drawn_digits])
    answers = network.probabilities(inputs).argmax(axis=1)
    agreement, labels = np.mean(answers == originals), test_digits[1]
    print(f"\npictures of {len(drawn_digits)} test digits get the same answer as the digits: {agreement:.1%}; "
          f"right: {np.mean(answers == labels):.1%} of the pictures, {np.mean(originals == labels):.1%} of the digits")
    assert agreement >= 0.95


def test_program_names_the_digits_in_pictures_and_of_the_test_set(tmp_path, trained_model, test_digits,
                                                                  drawn_digits, mnist_dir):
    pictures = drawn_digits[:5]
    result = run_predict("--model", trained_model, *pictures, "--test-index", 0, 1, 2, "--data-dir", mnist_dir,
                         "--output", tmp_path / "out.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(pictures) + 3
    for line, picture, label in zip(lines, pictures, test_digits[1]):
        assert re.fullmatch(re.escape(str(picture)) + ": " + ANSWER, line).group(1) == str(label), line
    for line, index, label in zip(lines[len(pictures):], [0, 1, 2], [7, 2, 1]):
        assert re.fullmatch(f"test image {index}: {ANSWER}; real label {label}", line).group(1) == str(label), line
    assert_png_picture(tmp_path / "out.png")


# ---------------------------------------------------------------------------------------------
# Numbers: rows of test digits drawn as a person's picture of a number.

NUMBERS = 200


@pytest.fixture(scope="module")
def reading_model(request):
    """The model the figures are measured with: $PREDICT_MODEL (e.g. the default recipe's, from
    ./train.py --save), else the small network trained above."""
    return os.environ.get("PREDICT_MODEL") or request.getfixturevalue("trained_model")


def draw_number(images, rng):
    """MNIST digits (n, 28, 28) uint8 in a row as someone's picture of a number: each cropped to its
    ink and enlarged 3 to 5 times, gaps of 1 to 12 MNIST pixels between them (times the enlargement),
    dark ink on light paper with some grain; a third with a grey cast, a third in blue on cream."""
    scale = rng.integers(3, 6)
    parts = []
    for image in images:
        columns = np.flatnonzero(image.any(axis=0))
        gap = np.zeros((28 * scale, rng.integers(1, 13) * scale))
        parts += [gap, np.kron(image[:, columns[0]:columns[-1] + 1] / 255, np.ones((scale, scale)))]
    top, bottom = rng.integers(5, 60, 2)
    ink = np.pad(np.hstack(parts[1:]), ((top, bottom), tuple(rng.integers(10, 60, 2)))).astype(np.float32)
    look = rng.integers(3)
    picture = paint(ink, CREAM_PAPER, BLUE_INK) if look == 2 else paint(ink, paper=[0.85, 0.6][look], colour=0.1)
    return picture + rng.normal(0, 0.01, picture.shape)


@pytest.fixture(scope="module")
def drawn_numbers(mnist_dir, tmp_path_factory):
    """NUMBERS pictures of 3 to 6 test digits (from test image 1000 on), every third a JPEG; their
    paths, what they show as text, and the digits' MNIST images."""
    images, labels = mnist.load_split("test", mnist_dir)
    folder = tmp_path_factory.mktemp("numbers")
    rng = np.random.default_rng(0)
    paths, texts, originals, start = [], [], [], 1000
    for i in range(NUMBERS):
        n = rng.integers(3, 7)
        paths.append(save(folder / f"number-{i}.{'jpg' if i % 3 == 2 else 'png'}",
                          draw_number(images[start:start + n], rng)))
        texts.append("".join(map(str, labels[start:start + n])))
        originals.append(images[start:start + n])
        start += n
    return paths, texts, originals


def read_digits(network, x):
    """The network's answers for the digits x (n, 784), as text."""
    return "".join(map(str, network.probabilities(x).argmax(axis=1)))


def score(answers, texts):
    """The share of numbers read exactly and the share of digits read right; a number read with the
    wrong count of digits has all its digits wrong."""
    right = sum(sum(map(str.__eq__, answer, text)) for answer, text in zip(answers, texts) if len(answer) == len(text))
    return np.mean([answer == text for answer, text in zip(answers, texts)]), right / sum(map(len, texts))


def test_numbers_are_read_digit_by_digit(reading_model, drawn_numbers):
    network, _ = model.load(reading_model)
    paths, texts, originals = drawn_numbers
    read = [read_digits(network, predict.preprocess(path)[2].reshape(-1, 784)) for path in paths]
    # The network's answers for the MNIST images of the same digits: what reading numbers could reach.
    unchanged = [read_digits(network, mnist.as_inputs(images)) for images in originals]
    counted = np.mean([len(answer) == len(text) for answer, text in zip(read, texts)])
    (exact, digits_right), (reachable, reachable_digits) = score(read, texts), score(unchanged, texts)
    print(f"\n{len(texts)} numbers of 3 to 6 test digits ({sum(map(len, texts))} digits): {exact:.1%} read exactly, "
          f"{digits_right:.1%} of the digits right, {counted:.1%} with the right count of digits; the MNIST images "
          f"of the same digits: {reachable:.1%} of the numbers, {reachable_digits:.1%} of the digits")
    assert counted >= 0.95 and digits_right >= 0.9


# ---------------------------------------------------------------------------------------------
# A Fashion-MNIST network: answers named with its classes, its own test set, no other dataset.

FASHION_NAME = "(T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot)"
FASHION_ANSWER = ANSWER.replace(r"(\d)", FASHION_NAME)


@pytest.fixture(scope="module")
def fashion_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("fashion") / "fashion.npz"
    model.save(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)), path, dataset="fashion")
    return path


def test_a_fashion_model_says_so_and_names_its_classes(tmp_path, fashion_model, fake_mnist, pictures):
    result = run_predict("--model", fashion_model, "--data-dir", fake_mnist, pictures[0], "--test-index", 3, 1,
                         "--output", tmp_path / "out.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    announcement, picture_line, *test_lines = result.stdout.splitlines()
    assert announcement == (f"{fashion_model} was trained on Fashion-MNIST: its classes are T-shirt/top, Trouser, "
                            "Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot")
    assert re.fullmatch(re.escape(str(pictures[0])) + ": " + FASHION_ANSWER, picture_line), picture_line
    for line, label in zip(test_lines, ["Dress", "Trouser"], strict=True):  # the fake test labels are 0, 1, 2, ...
        assert re.fullmatch(rf"test image \d: {FASHION_ANSWER}; real label {label}", line), line
    assert_png_picture(tmp_path / "out.png")


def test_several_things_in_one_picture_are_named_with_commas():
    probabilities = np.eye(10, dtype=np.float32)[[7, 8]]
    assert predict.describe_number("x.png", probabilities, mnist.DATASETS["fashion"]) == \
        "x.png: Sneaker, Bag (confidence of each class: 1.00, 1.00)"
    assert predict.describe_number("x.png", probabilities) == "x.png: 78 (confidence of each digit: 1.00, 1.00)"


def test_a_dataset_flag_against_the_model_is_a_usage_error(tmp_path, fashion_model, untrained_model, fake_mnist,
                                                           pictures):
    for network, other, title in [(fashion_model, "mnist", "Fashion-MNIST"), (untrained_model, "fashion", "MNIST")]:
        result = run_predict("--model", network, "--dataset", other, pictures[0], cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.splitlines()[-1] == (f"predict.py: error: --dataset {other}: {network} was trained on "
                                                  f"{title}, so its answers are {title}'s classes (leave out --dataset "
                                                  "to follow the model)")
    result = run_predict("--model", fashion_model, "--dataset", "fashion", "--data-dir", fake_mnist, "--test-index", 0,
                         cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.endswith("real label T-shirt/top\n")


def test_clothes_fill_the_frame_centred_by_their_box_as_one_thing(tmp_path):
    fashion = mnist.DATASETS["fashion"]
    frame = predict.to_mnist(ellipse((300, 200), (100, 60), (80, 25)), fashion)
    assert ink_box(frame) == (28, 9) and frame[0].any() and frame[-1].any()
    columns = np.flatnonzero(frame.any(axis=0))
    assert abs(columns[0] - (27 - columns[-1])) <= 1  # as many empty columns left as right, within one
    # Two sleeves apart are one garment: one box around both, not two digits.
    write_grey_png(tmp_path / "two.png", np.pad(np.hstack([four(), np.zeros((150, 60)), four()]), 20))
    _, boxes, things = predict.preprocess(tmp_path / "two.png", fashion)
    assert len(boxes) == len(things) == 1 and len(predict.preprocess(tmp_path / "two.png")[1]) == 2


@pytest.fixture(scope="module")
def fashion_network(fashion_dir, tmp_path_factory):
    """The file of a small network trained for one round on the real Fashion-MNIST (about 83% right)."""
    images, labels = mnist.load_split("train", fashion_dir, "fashion")
    network = nn.mlp([784, 64, 10], "relu", rng=np.random.default_rng(0))
    x, shuffled = mnist.shuffled_inputs(images, labels, np.random.default_rng(0))
    nn.train_epoch(network, nn.Adam(network.parameters()), x, shuffled, 128, lambda batch: 1e-3)
    path = tmp_path_factory.mktemp("fashion-network") / "fashion.npz"
    model.save(network, path, dataset="fashion")
    return path


def test_test_index_reads_the_real_fashion_test_set(tmp_path, fashion_dir, fashion_network):
    environ = {key: value for key, value in os.environ.items() if key != "MNIST_DIR"}
    result = subprocess.run([sys.executable, PREDICT, "--model", fashion_network, "--test-index", "0", "1"],
                            cwd=tmp_path, env={**environ, "MNIST_DIR": str(fashion_dir)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert re.search(r"test image 0: .*; real label Ankle boot\ntest image 1: .*; real label Pullover\n$", result.stdout)


@pytest.fixture(scope="module")
def fashion_reading_model(request):
    """The Fashion-MNIST model the figures are measured with: $FASHION_MODEL (e.g. the default recipe's,
    from ./train.py --dataset fashion --save), else the small network trained above."""
    return os.environ.get("FASHION_MODEL") or request.getfixturevalue("fashion_network")


def test_pictures_of_clothes_get_the_answers_of_their_fashion_mnist_pictures(tmp_path, fashion_dir,
                                                                             fashion_reading_model):
    network, _ = model.load(fashion_reading_model)
    images, labels = mnist.load_split("test", fashion_dir, "fashion")
    images, labels = images[:AGREEMENT_DIGITS], labels[:AGREEMENT_DIGITS]
    rng = np.random.default_rng(0)
    paths = [save(tmp_path / f"thing-{i}.{'jpg' if i % 4 == 3 else 'png'}", draw_as_picture(image, rng))
             for i, image in enumerate(images)]
    originals = network.probabilities(mnist.as_inputs(images)).argmax(axis=1)
    inputs = np.array([predict.preprocess(path, mnist.DATASETS["fashion"])[2].reshape(784) for path in paths])
    answers = network.probabilities(inputs).argmax(axis=1)
    # Framed as MNIST's digits instead: in a 20 x 20 box, centred by mass.
    as_digits = np.array([predict.to_mnist(predict.normalize(predict.read_image(path))).reshape(784)
                          for path in paths])
    agreement = np.mean(answers == originals)
    as_digits_agreement = np.mean(network.probabilities(as_digits).argmax(axis=1) == originals)
    print(f"\npictures of {len(paths)} Fashion-MNIST test pictures get the same answer as the originals: "
          f"{agreement:.1%} ({as_digits_agreement:.1%} framed as MNIST's digits); right: "
          f"{np.mean(answers == labels):.1%} of the pictures, {np.mean(originals == labels):.1%} of the originals")
    assert agreement >= 0.85 and as_digits_agreement < agreement - 0.2


def test_an_unwritable_output_is_refused_before_anything_is_read(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "predict.py"), "--model", str(tmp_path / "none.npz"),
                             "--test-index", "0", "--output", str(tmp_path / "missing" / "out.png")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"predict.py: error: --output {tmp_path / 'missing' / 'out.png'}: no such folder: {tmp_path / 'missing'}"
