"""journey.py: every step run through train.py, the table and the picture, on small fake MNIST files."""

import re
import subprocess
import sys

import matplotlib.image

from conftest import ROOT

JOURNEY = str(ROOT / "journey.py")


def run_journey(*args, cwd=None):
    return subprocess.run([sys.executable, JOURNEY, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_every_step_gets_a_row_and_the_picture_is_written(tmp_path, fake_mnist):
    import journey

    output = tmp_path / "journey.png"
    result = run_journey("--data-dir", fake_mnist, "--output", output)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(journey.STEPS)
    for row, step in zip(rows, journey.STEPS):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0] == step.name and cells[1] == f"`{journey.display(step)}`"
        assert re.fullmatch(r"\d+\.\d\d%", cells[3]) and re.fullmatch(r"\d+\.\d s", cells[6])
    assert "| 94.17% |" in result.stdout and "(0.0431)" in result.stdout
    height, width, _ = matplotlib.image.imread(output).shape
    assert width > 500 and height > 300


def test_missing_data_gives_one_line_before_any_training(tmp_path):
    result = run_journey("--data-dir", tmp_path, "--output", tmp_path / "journey.png")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and str(tmp_path) in result.stderr and "step 1" not in result.stderr


def test_an_output_in_a_missing_folder_is_refused_at_once(tmp_path, fake_mnist):
    result = run_journey("--data-dir", fake_mnist, "--output", tmp_path / "no" / "journey.png")
    assert result.returncode == 2 and "--output" in result.stderr and "step 1" not in result.stderr


def test_by_default_the_picture_goes_to_the_current_folder_not_into_the_clone(tmp_path, fake_mnist):
    """The README's own picture, screenshots/journey.png, is tracked: only --output replaces it."""
    readme_picture = ROOT / "screenshots" / "journey.png"
    before = readme_picture.read_bytes()
    result = run_journey("--data-dir", fake_mnist, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "journey.png").exists() and result.stdout.endswith("\nwrote journey.png\n")
    assert readme_picture.read_bytes() == before


def test_an_output_name_without_a_format_is_refused_at_once(tmp_path, fake_mnist):
    result = run_journey("--data-dir", fake_mnist, "--output", tmp_path / "journey")
    assert result.returncode == 2 and "step 1" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"journey.py: error: --output {tmp_path / 'journey'}: the name's "
                                                     "extension says the picture's format")
