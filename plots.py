"""Figures that work with a screen and without one.

With an output file a figure is drawn on a plain matplotlib Figure, which needs no GUI backend at all.
Without one, pyplot picks the backend as usual (a window when there is a display) and, when only a
non-interactive backend is available (a server, CI), the figure is saved to a default file instead.
"""

import os
from pathlib import Path

from matplotlib.figure import Figure

NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def new_figure(output=None):
    """A figure to draw on: off-screen when `output` (a file name) is given, else a pyplot figure."""
    if output is not None:
        return Figure()
    import matplotlib.pyplot as plt

    return plt.figure()


def save_or_show(figure, output, default_name):
    """Save `figure` as PNG to `output`; without one, show it, or save to `default_name` when headless."""
    if output is None:
        import matplotlib.pyplot as plt

        if plt.get_backend().lower() not in NON_INTERACTIVE_BACKENDS:
            plt.show()
            return
        output = default_name
        print(f"no display, so the picture was saved to {output}")
    save_png(figure, output)


def save_png(figure, path):
    """Write `figure` to `path` as PNG atomically: a reader never sees a half-written file.
    Raises OSError naming `path` (not the temporary file) when it cannot be written."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        figure.savefig(temporary, format="png", dpi=100)
        os.replace(temporary, path)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    finally:
        temporary.unlink(missing_ok=True)
