"""A Python without numpy, matplotlib or Pillow (the system's, outside the virtual environment): each
script ends with one line that says what to type, not a traceback."""

import subprocess
import sys

import pytest

from conftest import ROOT
from support import packages

SCRIPTS = ["train.py", "predict.py", "draw.py", "journey.py", "read_display_mnist.py", "export.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_script_without_its_packages_says_so_in_one_line(script):
    # python -S leaves site-packages off the path: numpy, matplotlib and Pillow are not found there.
    found = subprocess.run([sys.executable, "-S", "-c", "import importlib.util as u; print(u.find_spec('numpy'))"],
                           capture_output=True, text=True).stdout.strip()
    if found != "None":
        pytest.skip("this Python finds numpy without its site-packages")
    result = subprocess.run([sys.executable, "-S", str(ROOT / script), "--help"], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{script}: error: this Python ({sys.executable}) lacks numpy, matplotlib "
                                    "and Pillow; ")
    assert "requirements.txt" in result.stderr or ". .venv/bin/activate" in result.stderr


def test_with_its_packages_a_script_runs():
    result = subprocess.run([sys.executable, str(ROOT / "read_display_mnist.py"), "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout.startswith("usage: read_display_mnist.py")


def test_require_names_only_the_missing_packages(monkeypatch, capsys):
    monkeypatch.setattr(packages, "NEEDED", {"numpy": "numpy", "no_such_module_here": "no-such-package"})
    monkeypatch.setattr(sys, "argv", ["train.py"])
    with pytest.raises(SystemExit) as stop:
        packages.require()
    assert stop.value.code == 1
    error = capsys.readouterr().err
    assert "lacks no-such-package;" in error and "numpy" not in error.split(";")[0]


def test_require_passes_when_nothing_is_missing(monkeypatch, capsys):
    monkeypatch.setattr(packages, "NEEDED", {"numpy": "numpy", "PIL": "Pillow"})
    packages.require()
    assert capsys.readouterr().err == ""


def test_the_advice_fits_the_virtual_environment(tmp_path, monkeypatch):
    venv = tmp_path / ".venv"
    assert "python3 -m venv .venv" in packages.advice(venv)  # none yet: make one
    venv.mkdir()
    assert packages.advice(venv) == "activate the virtual environment first: . .venv/bin/activate"
    monkeypatch.setattr(sys, "prefix", str(venv))  # it is the one running: install into it
    assert packages.advice(venv) == "install them: pip install -r requirements.txt"
