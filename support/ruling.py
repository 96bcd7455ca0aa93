"""The lines of ruled and squared paper taken out of a picture's ink, the strokes that cross them kept.

    lines = line_levels(ink, noise)                 # each row's and column's line, or 0
    ink = remove_ruling(ink, lines, strongest)    # (H, W) -> (H, W), the ruling's pixels 0

Ruling is long, straight and thin: a line across the page marks nearly all of its row (or column),
so even the weaker fifth of that row's pixels has the line's own strength, while a row through
digits alone, or along a digit's bar, has paper in more than a fifth of it. Ruling is also lighter
than the ink (light blue, grey, a red margin), so where a stroke crosses a line the stroke is
darker than the line, and stays.
"""

import numpy as np

# A line of ruling marks at least ALONG of its row or column (the rest is where strokes cross it);
# a digit's bar may mark half of one (a blurred 4 in a picture cropped around it) and is no ruling.
ALONG = 0.8
# A row or column is ruled when the strength ALONG of it reaches is above the paper's noise yet
# under this share of the strongest ink: a line of ink itself (the bar of a 7 across a tight crop)
# is as strong as the ink.
LIGHTER = 0.6
# On a ruled row, pixels are the ink that crosses it when they are stronger than the line by this
# share of the way from the line's strength to the strongest ink.
CROSSING = 0.5


def line_levels(ink, noise):
    """The strength of a line along each row, (H, 1), and each column, (1, W), of ink (H, W): the
    strength that ALONG of that row's or column's pixels reach, where it is above `noise` (the
    strength the paper's grain reaches), else 0 (no line there). A line is ruling, or a stroke
    across the whole picture."""
    levels = (np.quantile(ink, 1 - ALONG, axis=axis, keepdims=True) for axis in (1, 0))
    return tuple(np.where(level > noise, level, 0) for level in levels)


def remove_ruling(ink, lines, strongest):
    """Ink (H, W) float32, 0 or less = paper, with the ruling's lines set to 0: horizontal and
    vertical ones, and where they cross, against the strength of both. `lines` are the rows' and
    columns' line_levels, `strongest` the strength of the strongest strokes, in the units of `ink`."""
    rows, columns = (np.where(level < LIGHTER * strongest, level, 0) for level in lines)
    line = np.maximum(rows, columns) + np.minimum(rows, columns) * ((rows > 0) & (columns > 0))
    crossing = ink > line + CROSSING * (strongest - line)
    return np.where((line > 0) & ~crossing, 0, ink)
