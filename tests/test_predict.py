"""predict.py: the program run on pictures and on test-set digits, its answers, errors and figure.

The tests of the program's output and errors use a network that knows nothing and pictures they
draw. The tests with the real MNIST files train a small network, then draw test-set digits the way a
person's picture of them would look (enlarged, dark ink on greyish paper, off centre, some in
colour, some as JPEG) and check that the network answers the same for the picture as for the
original digit. (The steps of the pipeline have tests of their own: test_ink.py, test_framing.py,
test_segment.py.)
"""

import os
import re
import signal
import subprocess
import sys
import time

import matplotlib.image
import numpy as np
import pytest

import nn
import predict
import shapes
from conftest import ROOT
from support import framing, ink, mnist, model

PREDICT = str(ROOT / "predict.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ANSWER = r"(\d) \(confidence [01]\.\d\d\); then (\d) \([01]\.\d\d\), (\d) \([01]\.\d\d\)"


# ---------------------------------------------------------------------------------------------
# The program, with a network that knows nothing (enough for its output and errors).


def run_predict(*args, cwd, **environment):
    """Run predict.py with the venv's python, without a display or MNIST_DIR unless `environment`
    gives them."""
    hidden = {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND", "MNIST_DIR"}
    environ = {key: value for key, value in os.environ.items() if key not in hidden}
    return subprocess.run([sys.executable, PREDICT, *map(str, args)], cwd=cwd, env=environ | environment,
                          capture_output=True, text=True)


def assert_png_picture(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width, _ = matplotlib.image.imread(path).shape
    assert 100 <= height <= 2200 and 100 <= width <= 2000  # at most ROWS_PER_PAGE rows of 220 pixels


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("untrained") / "model.npz"
    model.save(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)), path)
    return path


@pytest.fixture
def pictures(tmp_path):
    """Two good pictures of a seven, a PNG and a JPEG."""
    shapes.write_grey_png(tmp_path / "seven.png", shapes.seven())
    shapes.write_jpeg(tmp_path / "seven.jpg", shapes.seven())
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


def test_show_on_a_display_that_cannot_be_opened_says_so_and_saves_the_picture(tmp_path, untrained_model, pictures,
                                                                             dead_display):
    """It used to say "no display" of a DISPLAY that was set."""
    result = run_predict("--model", untrained_model, pictures[0], "--show", cwd=tmp_path, DISPLAY=dead_display)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (f"the display {dead_display} could not be opened, so the picture was "
                                              "saved to predict.png")
    assert_png_picture(tmp_path / "predict.png")


def test_bad_files_get_a_line_each_and_the_others_are_still_classified(tmp_path, untrained_model, pictures):
    shapes.write_text(tmp_path / "x.png")
    shapes.save(tmp_path / "blank.png", np.full((50, 50), 0.9))
    shapes.write_huge_png(tmp_path / "huge.png")
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
    seven_ = np.pad(shapes.seven(), ((15, 15), (0, 0)))
    digits = shapes.number(shapes.five(), shapes.broken_four(), seven_, gaps=[20, 25])
    shapes.write_grey_png(tmp_path / "number.png", np.pad(digits, 30))
    result = run_predict("--model", untrained_model, tmp_path / "number.png", "--output", tmp_path / "out.png",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    confidence = r"[01]\.\d\d"
    assert re.fullmatch(re.escape(str(tmp_path / "number.png")) + rf": \d{{3}} \(confidence of each digit: "
                        rf"{confidence}, {confidence}, {confidence}\)\n", result.stdout), result.stdout
    assert_png_picture(tmp_path / "out.png")


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, untrained_model, pictures):
    """Ctrl-C while a picture is read. The picture is a named pipe: the program waits in reading it,
    for as long as it takes the test to send the Ctrl-C, and never gets it."""
    pipe = tmp_path / "slow.png"
    os.mkfifo(pipe)
    hidden = {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND", "MNIST_DIR"}
    process = subprocess.Popen([sys.executable, PREDICT, "--model", str(untrained_model), str(pictures[0]), str(pipe)],
                               cwd=tmp_path, env={k: v for k, v in os.environ.items() if k not in hidden},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:  # opening the pipe's other end succeeds once the program has opened it to read
        try:
            writer = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
    try:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        os.close(writer)
    assert process.returncode == 130 and err == "predict.py: interrupted\n"
    assert out.startswith(f"{pictures[0]}: ")  # the picture before was read and answered


@pytest.mark.parametrize("name, start", [("out.jpg", b"\xff\xd8\xff"), ("out.pdf", b"%PDF-"), ("out.svg", b"<?xml")])
def test_the_output_is_written_in_the_format_its_name_says(tmp_path, untrained_model, pictures, name, start):
    """--output out.jpg used to write PNG bytes."""
    result = run_predict("--model", untrained_model, pictures[0], "--output", tmp_path / name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).read_bytes().startswith(start)


@pytest.mark.parametrize("name", ["out", "out.bmp"])
def test_an_output_name_without_a_format_is_refused_before_anything_is_read(tmp_path, untrained_model, pictures,
                                                                             name):
    """--output out used to write a PNG named out, after reading every picture."""
    result = run_predict("--model", untrained_model, *pictures, "--output", tmp_path / name, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()[-1:]
    assert line.startswith(f"predict.py: error: --output {tmp_path / name}: ") and ".png, .jpg" in line
    assert not (tmp_path / name).exists()


def test_many_pictures_are_drawn_ten_a_page_and_it_says_so(tmp_path, untrained_model, fake_mnist):
    """23 rows used to make one figure 900 x 5060 pixels (26 rows, 5720)."""
    indices = [i % 5 for i in range(23)]  # the fake test set's 5 images, again and again
    result = run_predict("--model", untrained_model, "--data-dir", fake_mnist, "--test-index", *indices,
                         "--output", tmp_path / "out.jpg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 23
    pages = [tmp_path / name for name in ["out.jpg", "out-2.jpg", "out-3.jpg"]]
    assert result.stderr == f"23 pictures, 10 a page: written to {', '.join(map(str, pages))}\n"
    assert [matplotlib.image.imread(page).shape[:2] for page in pages] == [(2200, 900), (2200, 900), (660, 900)]
    assert sorted(tmp_path.glob("out*")) == sorted(pages)


def test_show_without_a_display_saves_the_pages_and_names_them(tmp_path, untrained_model, fake_mnist):
    result = run_predict("--model", untrained_model, "--data-dir", fake_mnist, "--test-index", *[0] * 11, "--show",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ("no display (DISPLAY is not set), so the pictures were saved to "
                                              "predict.png, predict-2.png")
    assert_png_picture(tmp_path / "predict.png")
    assert_png_picture(tmp_path / "predict-2.png")


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
    drawn = np.kron(image / 255, np.ones((rng.integers(3, 7),) * 2))
    top, left, bottom, right = rng.integers(5, 80, 4)
    drawn = np.pad(drawn, ((top, bottom), (left, right))).astype(np.float32)
    picture = shapes.paint(drawn, shapes.CREAM_PAPER, shapes.BLUE_INK) if rng.random() < 1 / 3 else shapes.paint(drawn)
    return picture + rng.normal(0, 0.01, picture.shape)


@pytest.fixture(scope="module")
def drawn_digits(test_digits, tmp_path_factory):
    """The test digits drawn as pictures, every fourth a JPEG, the others PNG; their paths."""
    folder = tmp_path_factory.mktemp("drawn")
    rng = np.random.default_rng(0)
    return [shapes.save(folder / f"digit-{i}.{'jpg' if i % 4 == 3 else 'png'}", draw_as_picture(image, rng))
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
    drawn = np.pad(np.hstack(parts[1:]), ((top, bottom), tuple(rng.integers(10, 60, 2)))).astype(np.float32)
    look = rng.integers(3)
    if look == 2:
        picture = shapes.paint(drawn, shapes.CREAM_PAPER, shapes.BLUE_INK)
    else:
        picture = shapes.paint(drawn, paper=[0.85, 0.6][look], colour=0.1)
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
        paths.append(shapes.save(folder / f"number-{i}.{'jpg' if i % 3 == 2 else 'png'}",
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


def test_clothes_apart_are_one_thing_with_one_box(tmp_path):
    """Two sleeves apart are one garment: one box around both, not two digits."""
    two = np.hstack([shapes.four(), np.zeros((150, 60)), shapes.four()])
    shapes.write_grey_png(tmp_path / "two.png", np.pad(two, 20))
    _, boxes, things, _, _ = predict.preprocess(tmp_path / "two.png", mnist.DATASETS["fashion"])
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
                            cwd=tmp_path, env={**environ, "MNIST_DIR": str(fashion_dir)}, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert re.search(r"test image 0: .*; real label Ankle boot\ntest image 1: .*; real label Pullover\n$",
                     result.stdout)


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
    paths = [shapes.save(tmp_path / f"thing-{i}.{'jpg' if i % 4 == 3 else 'png'}", draw_as_picture(image, rng))
             for i, image in enumerate(images)]
    originals = network.probabilities(mnist.as_inputs(images)).argmax(axis=1)
    inputs = np.array([predict.preprocess(path, mnist.DATASETS["fashion"])[2].reshape(784) for path in paths])
    answers = network.probabilities(inputs).argmax(axis=1)
    # Framed as MNIST's digits instead: in a 20 x 20 box, centred by mass.
    as_digits = np.array([framing.frame(ink.normalize(ink.read_image(path))).reshape(784) for path in paths])
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
    missing = tmp_path / "missing"
    assert result.stderr.splitlines()[-1] == (f"predict.py: error: --output {missing / 'out.png'}: "
                                              f"no such folder: {missing}")

