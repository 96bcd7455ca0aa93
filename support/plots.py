"""Figures that work with a screen and without one, written in the format their file's name asks for.

With an output file a figure is drawn on a plain matplotlib Figure, which needs no GUI backend at all.
Without one, pyplot picks the backend as usual (a window when there is a display) and, when only a
non-interactive backend is available (a server, CI, a display that cannot be opened), the figure is
saved to a default file instead.

Every script that writes a picture follows one rule: the extension of the name says the format
(.png, .jpg, .pdf, .svg, ...: whatever matplotlib writes, FORMATS), and a name without one, or with
one matplotlib does not write, is refused before any work (unwritable_picture).
"""

import os
from pathlib import Path

from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure

from support import cli, files

NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
# What matplotlib writes, by extension, but raw pixels without a header (raw, rgba), which no viewer
# opens, and PGF, which is LaTeX code and needs LaTeX installed.
FORMATS = sorted(set(FigureCanvasBase.get_supported_filetypes()) - {"raw", "rgba", "pgf"})
COMMON = ["png", "jpg", "pdf", "svg"]  # the formats a message names first
FORMAT_HINT = (", ".join(f".{name}" for name in COMMON) + " or another that matplotlib writes ("
               + ", ".join(f".{name}" for name in FORMATS if name not in COMMON) + ")")


def picture_format(path):
    """The format a picture named `path` is written in: its extension in lower case, without the
    dot ("png", "jpg", ...). Raises ValueError saying why when it has none, or one not in FORMATS."""
    extension = Path(path).suffix.lower().removeprefix(".")
    if not extension:
        raise ValueError(f"the name's extension says the picture's format: end it in {FORMAT_HINT}")
    if extension not in FORMATS:
        raise ValueError(f"cannot write .{extension} pictures: end the name in {FORMAT_HINT}")
    return extension


def unwritable_picture(path):
    """Why a picture could not be written to `path`: its name says no format picture_format knows,
    or cli.unwritable's reasons (no such folder, no permission, ...); None when it can be."""
    try:
        picture_format(path)
    except ValueError as error:
        return str(error)
    return cli.unwritable(path)


def new_figure(output=None):
    """A figure to draw on: off-screen when `output` (a file name) is given, else a pyplot figure."""
    if output is not None:
        return Figure()
    import matplotlib.pyplot as plt

    return plt.figure()


def no_window():
    """Why pyplot cannot show windows here, as a sentence's subject ("no display (DISPLAY is not
    set)", "the display :99 could not be opened", ...); None when it can."""
    import matplotlib.pyplot as plt

    backend = plt.get_backend().lower()
    if backend not in NON_INTERACTIVE_BACKENDS:
        return None
    display = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")
    if not display:
        return "no display (DISPLAY is not set)"
    if not display_opens():
        return f"the display {display} could not be opened"
    return f"matplotlib's backend, {backend}, shows no windows (MPLBACKEND, or no GUI toolkit installed)"


def display_opens():
    """Whether the display that DISPLAY or WAYLAND_DISPLAY names can be opened: matplotlib's own test,
    which it makes before it picks a GUI backend (a private function: when a version lacks it, the
    display is taken to open)."""
    try:
        from matplotlib import _c_internal_utils
    except ImportError:
        return True
    return getattr(_c_internal_utils, "display_is_valid", lambda: True)()


def show(figures, default_names):
    """Show pyplot figures, each in its window, until they are closed; when no window can be shown,
    save each to its name in `default_names` instead, saying why in one line. Raises OSError as save."""
    import matplotlib.pyplot as plt

    reason = no_window()
    if reason is None:
        plt.show()
        return
    for figure, name in zip(figures, default_names):
        save(figure, name)
    saved = (f"the picture was saved to {default_names[0]}" if len(figures) == 1
             else f"the pictures were saved to {', '.join(default_names)}")
    print(f"{reason}, so {saved}")


def page_names(path, count):
    """The names of `count` pages of the picture named `path`: the name itself, then the name with -2,
    -3, ... before its extension (out.png, out-2.png, out-3.png)."""
    path = Path(path)
    return [str(path)] + [str(path.with_name(f"{path.stem}-{page}{path.suffix}")) for page in range(2, count + 1)]


def save(figure, path):
    """Write `figure` to `path` in the format its name says (picture_format), atomically and durably
    (files.py): a reader never sees a half-written file. Raises OSError naming `path` when it cannot
    be written, ValueError when its name says no format."""
    format_name = picture_format(path)
    files.write_atomically(path, lambda file: figure.savefig(file, format=format_name, dpi=100))
