"""read_display_mnist.py run as a program without a display, on small fake MNIST files."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

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


def test_missing_data_dir_is_a_one_line_error(tmp_path):
    absent = tmp_path / "absent"
    result = run_headless("--data-dir", absent, "--output", tmp_path / "digits.png", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
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


def test_an_unwritable_output_gives_one_line_naming_it(tmp_path, fake_mnist):
    target = tmp_path / "no-such-folder" / "digits.png"
    result = run_headless("--data-dir", fake_mnist, "--output", target, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and str(target) in result.stderr and "Traceback" not in result.stderr
