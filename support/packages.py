"""The packages the scripts need (requirements.txt), looked for before any script imports them.

The usual way to be without them is to run a script from a new shell in which the quick start's
virtual environment is not active: the system's Python then lacks numpy or Pillow. One line that
says so, and what to type, serves the user better than an import's traceback. Only the standard
library is used here, for the same reason.
"""

import importlib.util
import os
import sys
from pathlib import Path

NEEDED = {"numpy": "numpy", "matplotlib": "matplotlib", "PIL": "Pillow"}  # module: package that installs it
VENV = Path(__file__).resolve().parent.parent / ".venv"  # where the quick start makes the virtual environment


def missing():
    """The packages of NEEDED that this Python cannot import, by their names in requirements.txt."""
    return [package for module, package in NEEDED.items() if importlib.util.find_spec(module) is None]


def advice(venv=VENV):
    """What to type to get the packages: activate the virtual environment if there is one and this
    Python is not its, else install them (into it, if it is active)."""
    if Path(sys.prefix).resolve() == venv.resolve():
        return "install them: pip install -r requirements.txt"
    if venv.is_dir():
        return "activate the virtual environment first: . .venv/bin/activate"
    return ("install them in a virtual environment: "
            "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt")


def require():
    """End the program with one line on stderr and exit status 1 if a needed package is missing."""
    absent = missing()
    if absent:
        names = " and ".join([", ".join(absent[:-1]), absent[-1]] if len(absent) > 1 else absent)
        print(f"{os.path.basename(sys.argv[0])}: error: this Python ({sys.executable}) lacks {names}; {advice()}",
              file=sys.stderr)
        sys.exit(1)
