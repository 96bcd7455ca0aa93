"""The lines of ruled and squared paper taken out of a picture's ink, the strokes that cross them kept.

    lines = line_levels(ink, noise)                 # the line through each pixel along each way, or 0
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
# Ruling is thin: a line, blurred, is at most THICKEST of the picture's longer side across, or
# THINNEST pixels in a small picture. A digit's stroke is thicker where the digit fills the picture
# enough to mark ALONG of a row (a slanted 0's side, along the page's tilt).
THICKEST = 0.03
THINNEST = 4
# A page photographed by hand is turned by up to MAX_TILT degrees; its tilt is found on the ink shrunk
# to about TILT_SIDE pixels a side first.
MAX_TILT = 5
TILT_SIDE = 150
# On a ruled row, pixels are the ink that crosses it when they are stronger than the line by this
# share of the way from the line's strength to the strongest ink.
CROSSING = 0.5


def line_levels(ink, noise):
    """The strength of the line of ruling through each pixel of ink (H, W): along the rows, (H, W),
    and along the columns, (H, W), both tilted as the page is (see tilt). A line's strength is what
    ALONG of its pixels reach, where that is above `noise` (the strength the paper's grain reaches),
    else 0 (no line there). A line is ruling, or a stroke across the whole picture."""
    slope = tilt(ink)
    return level_along_rows(ink, slope, noise), level_along_rows(ink.T, -slope, noise).T


def level_along_rows(ink, slope, noise):
    """The line_levels along the rows of ink (H, W), each row tilted down by `slope` rows per column
    to the right. A row that crosses less than half the picture (in a corner of a tilted page) has
    no line."""
    height, width = ink.shape
    shift = np.rint(np.arange(width) * slope).astype(np.int64)  # (W,): how far each column's rows are moved
    first = -shift.max()  # the tilted rows r hold the pixels (r + shift[x], x) that are on the picture
    rows = np.arange(first, height - shift.min())[:, None] + shift  # (R, W)
    inside = (rows >= 0) & (rows < height)
    values = np.where(inside, ink[np.clip(rows, 0, height - 1), np.arange(width)], np.nan)
    values.sort(axis=1)  # NaN, off the picture, last
    count = inside.sum(axis=1)
    level = values[np.arange(len(rows)), np.maximum(np.floor((1 - ALONG) * (count - 1)).astype(np.int64), 0)]
    ruled = thin_runs((level > noise) & (count * 2 >= width), max(THICKEST * max(height, width), THINNEST))
    return np.where(ruled, level, 0).astype(ink.dtype)[np.arange(height)[:, None] - shift - first]


def thin_runs(ruled, thickest):
    """ruled (R,) bool with its runs of neighbouring True over `thickest` long set False: a band of
    rows that thick is a stroke of a digit that fills the picture, not a line of ruling."""
    edges = np.diff(np.concatenate([[0], ruled.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    thick = np.zeros(len(ruled) + 1, np.int64)
    np.add.at(thick, starts[ends - starts > thickest], 1)
    np.add.at(thick, ends[ends - starts > thickest], -1)
    return ruled & (np.cumsum(thick)[:-1] == 0)


def tilt(ink):
    """The slope of the ruling in ink (H, W), in rows down per column to the right, within MAX_TILT:
    the one along which the rows and columns of ink add up to the sharpest profile (the largest sum of
    the squares of their sums: a line of ruling along a row adds all of itself to that row), found to
    a pixel across the picture. 0 unless another is sharper: an upright page stays as it is."""
    ink = np.maximum(ink, 0)
    factor = max(1, max(ink.shape) // TILT_SIDE)  # first on the picture shrunk, then around its best
    height, width = (side // factor for side in ink.shape)
    small = ink[: height * factor, : width * factor].reshape(height, factor, width, factor).sum(axis=(1, 3))
    steps = int(np.tan(np.radians(MAX_TILT)) * max(height, width))
    best = best_slope(small, np.arange(-steps, steps + 1) / max(height, width), 1)
    # Lines are long, so every factor-th pixel along them tells as much as all of them.
    return best_slope(ink, best + np.arange(-factor, factor + 1) / max(ink.shape), factor)


def best_slope(ink, slopes, every):
    """Of these slopes (n,), the one whose tilted rows and columns of ink (H, W) >= 0 have the sharpest
    profile (see tilt), summed over every `every`-th pixel along them; 0 when it is among the slopes
    and none is sharper."""
    sharpness = np.zeros(len(slopes))
    for along_rows in (True, False):
        picture = ink[:, ::every] if along_rows else ink.T[:, ::every]
        across, along = np.arange(len(picture))[:, None], np.arange(0, picture.shape[1] * every, every)
        # Turning the page moves its columns' lines the other way along the rows than its rows' lines.
        for i, slope in enumerate(slopes if along_rows else -slopes):
            line = across - np.rint(along * slope).astype(np.int64)
            sharpness[i] += np.square(np.bincount((line - line.min()).ravel(), weights=picture.ravel())).sum()
    upright = np.isclose(slopes, 0, atol=1e-12)
    if upright.any() and sharpness.max() <= sharpness[upright][0]:
        return 0.0
    return float(slopes[np.argmax(sharpness)])


def remove_ruling(ink, lines, strongest):
    """Ink (H, W) float32, 0 or less = paper, with the ruling's lines set to 0: horizontal and
    vertical ones, and where they cross, against the strength of both. `lines` are the rows' and
    columns' line_levels, `strongest` the strength of the strongest strokes, in the units of `ink`."""
    rows, columns = (np.where(level < LIGHTER * strongest, level, 0) for level in lines)
    line = np.maximum(rows, columns) + np.minimum(rows, columns) * ((rows > 0) & (columns > 0))
    crossing = ink > line + CROSSING * (strongest - line)
    return np.where((line > 0) & ~crossing, 0, ink)
