"""read_display_mnist.py run as a program without a display, on small fake MNIST files."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.figure
import matplotlib.image
import numpy as np
import pytest

import read_display_mnist
from support import mnist

SCRIPT = Path(__file__).resolve().parent.parent / "read_display_mnist.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_headless(*args, cwd, **env):
    """Run the script with the venv's python, no display and no MNIST_DIR unless given in `env`."""
    hidden = {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND", "MNIST_DIR"}
    environ = {key: value for key, value in os.environ.items() if key not in hidden}
    environ.update(env)
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          cwd=cwd, env=environ, capture_output=True, text=True)


def assert_png_picture(path):
    """`path` is a PNG that matplotlib reads back as a picture of plausible size."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width, _ = matplotlib.image.imread(path).shape
    assert 100 <= height <= 2000 and 100 <= width <= 2000


@pytest.mark.parametrize("via_env", [False, True], ids=["--data-dir", "MNIST_DIR"])
def test_output_option_writes_png(tmp_path, fake_mnist, via_env):
    output = tmp_path / "digits.png"
    data_dir_args, env = ([], {"MNIST_DIR": str(fake_mnist)}) if via_env else (["--data-dir", fake_mnist], {})
    result = run_headless("--count", 3, "--output", output, *data_dir_args, cwd=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert_png_picture(output)


def test_headless_without_output_saves_default_png_and_says_so(tmp_path, fake_mnist):
    result = run_headless("--split", "test", "--start", 1, "--count", 4, "--data-dir", fake_mnist, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "saved to mnist-test-1.png" in result.stdout
    assert_png_picture(tmp_path / "mnist-test-1.png")


def test_a_display_that_cannot_be_opened_is_named_and_the_picture_saved(tmp_path, fake_mnist, dead_display):
    result = run_headless("--count", 2, "--data-dir", fake_mnist, cwd=tmp_path, DISPLAY=dead_display)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"the display {dead_display} could not be opened, so the picture was saved to "
                             "mnist-train-0.png\n")
    assert_png_picture(tmp_path / "mnist-train-0.png")


def test_missing_data_dir_is_a_one_line_error(tmp_path):
    absent = tmp_path / "absent"
    result = run_headless("--data-dir", absent, "--output", tmp_path / "digits.png", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("read_display_mnist.py: error: ")
    assert str(absent / "train-images-idx3-ubyte.gz") in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "digits.png").exists()


@pytest.mark.parametrize("args, complaint", [
    (["--count", 0], "--count: '0' must be a whole number above 0"),
    (["--start", 12], "--start 12 --count 10 goes past the 12 train images"),
    (["--start", 5, "--count", 8], "--start 5 --count 8 goes past the 12 train images"),
], ids=["count 0", "start past the end", "range past the end"])
def test_out_of_range_selection_is_a_usage_error(tmp_path, fake_mnist, args, complaint):
    result = run_headless(*args, "--data-dir", fake_mnist, "--output", tmp_path / "digits.png", cwd=tmp_path)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "digits.png").exists()


def test_an_unwritable_output_is_refused_before_the_data_is_read(tmp_path):
    target = tmp_path / "no-such-folder" / "digits.png"
    result = run_headless("--data-dir", tmp_path, "--output", target, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (f"read_display_mnist.py: error: --output {target}: no such folder: "
                                              f"{target.parent}")


@pytest.mark.parametrize("name, start", [("digits.jpg", b"\xff\xd8\xff"), ("digits.JPEG", b"\xff\xd8\xff"),
                                         ("digits.pdf", b"%PDF-"), ("digits.svg", b"<?xml")])
def test_the_output_is_written_in_the_format_its_name_says(tmp_path, fake_mnist, name, start):
    """It used to refuse every name but .png, unlike predict.py."""
    result = run_headless("--data-dir", fake_mnist, "--count", 2, "--output", tmp_path / name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).read_bytes().startswith(start)
    assert [path.name for path in tmp_path.iterdir() if path.is_file()] == [name]  # no temporary file left


@pytest.mark.parametrize("name, complaint", [
    ("digits", "the name's extension says the picture's format: end it in .png, .jpg, .pdf, .svg or another that "
               "matplotlib writes (.avif, .eps, .gif, .jpeg, "),
    ("digits.bmp", "cannot write .bmp pictures: end the name in .png, .jpg, .pdf, .svg or another"),
], ids=["no extension", "unknown extension"])
def test_an_output_name_without_a_format_is_a_usage_error(tmp_path, name, complaint):
    """Refused before the data is read: there is none in tmp_path."""
    result = run_headless("--data-dir", tmp_path, "--output", tmp_path / name, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(f"read_display_mnist.py: error: --output {tmp_path / name}: "
                                                     f"{complaint}")
    assert not (tmp_path / name).exists()


def test_an_output_name_ending_in_capital_png_is_fine(tmp_path, fake_mnist):
    result = run_headless("--data-dir", fake_mnist, "--count", 2, "--output", tmp_path / "DIGITS.PNG", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_png_picture(tmp_path / "DIGITS.PNG")


@pytest.fixture
def many_digits(tmp_path, write_idx):
    """A folder with 130 training images, more than one picture shows."""
    folder = tmp_path / "many"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((130, 28, 28), np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(130, dtype=np.uint8) % 10)
    return folder


def test_a_large_count_is_capped_at_100_in_ten_columns_and_says_so(tmp_path, many_digits):
    """--count 2000 used to build a 1600 x 36000 picture for 100 s without a word."""
    output = tmp_path / "digits.png"
    result = run_headless("--data-dir", many_digits, "--start", 5, "--count", 125, "--output", output, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("showing the first 100 of the 125 images asked for: at most 100 fit in one picture "
                             "(--start chooses the first)\n")
    assert matplotlib.image.imread(output).shape[:2] == (1800, 1600)  # ten rows of ten, 160 x 180 pixels each


@pytest.mark.parametrize("count, size", [(3, (180, 480)), (10, (360, 800)), (23, (540, 1600)), (100, (1800, 1600))])
def test_digits_are_laid_out_in_five_or_ten_columns(tmp_path, many_digits, count, size):
    output = tmp_path / "digits.png"
    result = run_headless("--data-dir", many_digits, "--count", count, "--output", output, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert matplotlib.image.imread(output).shape[:2] == size


def test_fashion_pictures_are_titled_with_their_class_names(tmp_path, fake_mnist):
    """--dataset fashion reads $MNIST_DIR too, and names its default picture after the dataset."""
    result = run_headless("--dataset", "fashion", "--count", 3, cwd=tmp_path, MNIST_DIR=str(fake_mnist))
    assert result.returncode == 0, result.stderr
    assert "saved to fashion-train-0.png" in result.stdout
    assert_png_picture(tmp_path / "fashion-train-0.png")


@pytest.mark.parametrize("dataset, titles", [("mnist", ["#7: 7", "#8: 8"]), ("fashion", ["#7: Sneaker", "#8: Bag"])])
def test_titles_give_the_index_and_the_class_name(dataset, titles):
    figure = matplotlib.figure.Figure()
    images, labels = np.zeros((2, 28, 28), np.uint8), np.array([7, 8], np.uint8)
    read_display_mnist.draw_digits(figure, images, labels, 7, mnist.DATASETS[dataset].classes)
    assert [axes.get_title() for axes in figure.axes] == titles
