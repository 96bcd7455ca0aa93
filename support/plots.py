"""Figures that work with a screen and without one.

With an output file a figure is drawn on a plain matplotlib Figure, which needs no GUI backend at all.
Without one, pyplot picks the backend as usual (a window when there is a display) and, when only a
non-interactive backend is available (a server, CI), the figure is saved to a default file instead.
"""

from matplotlib.figure import Figure

from support import files

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
    """Write `figure` to `path` as PNG atomically and durably (files.py): a reader never sees a
    half-written file. Raises OSError naming `path` when it cannot be written."""
    files.write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))
