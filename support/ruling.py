"""The lines of ruled and squared paper taken out of a picture's ink, the strokes that cross them kept.

    ink = remove_ruling(ink, noise, strongest)    # (H, W) -> (H, W), the ruling's pixels 0

Ruling is long, straight and thin: a line across the page marks most of its row (or column), so
the median of that row is the line's own strength, while a row through digits alone has a median
of paper. Ruling is also lighter than the ink (light blue, grey, a red margin), so where a stroke
crosses a line the stroke is darker than the line, and stays.
"""

import numpy as np

# A row or column is ruled when its median is above the paper's noise yet under this share of the
# strongest ink: a line of ink itself (the bar of a 7 across a tight crop) is as strong as the ink.
LIGHTER = 0.6
# On a ruled row, pixels are the ink that crosses it when they are stronger than the line by this
# share of the way from the line's strength to the strongest ink.
CROSSING = 0.5


def remove_ruling(ink, noise, strongest):
    """Ink (H, W) float32, 0 or less = paper, with the ruling's lines set to 0: horizontal and
    vertical ones, and where they cross, against the strength of both. `noise` is the strength the
    paper's grain reaches, `strongest` the strength of the strongest strokes, in the units of `ink`."""
    # Each row's and each column's line, if it has one (0 where it has none).
    rows, columns = (np.median(ink, axis=axis, keepdims=True) for axis in (1, 0))
    rows, columns = (np.where((level > noise) & (level < LIGHTER * strongest), level, 0) for level in (rows, columns))
    line = np.maximum(rows, columns) + np.minimum(rows, columns) * ((rows > 0) & (columns > 0))
    crossing = ink > line + CROSSING * (strongest - line)
    return np.where((line > 0) & ~crossing, 0, ink)
