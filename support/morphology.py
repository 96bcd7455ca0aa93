"""The shape of a piece of ink, as morphology measures it: its core, what is left of its solid ink
when a square is worn off it from every side (an erosion), and its holes.

    core_share(ink, width=40, closing=12)    # share of the solid ink in blobs over 40 pixels wide
    hole_count(ink, smallest=36)             # paper enclosed by it, in holes of 36 pixels or more

A pen draws strokes: worn down by a square wider than the stroke, nothing is left, and a digit
encloses at most two holes (an 8). A garment or a smudge is a blob: its middle stays, and a pattern
on it leaves many holes in its ink.
"""

import numpy as np

from support import segment
from support.ink import sliding

SOLID = 0.5  # ink at least this strong is solid, as framing.stroke_width takes it


def core_share(ink, width, closing):
    """The share of the solid ink of (h, w) ink in [0, 1] that lies in squares of `width` pixels of
    solid ink, once gaps narrower than `closing` pixels are filled (a closing): a number in [0, 1].

    The closing first makes the dots and stripes of a light pattern one solid garment, as it looks.
    Beyond the crop is paper.
    """
    width, closing = (max(1, size) // 2 * 2 + 1 for size in (width, closing))  # odd: each square has a middle
    margin = width + closing
    solid = np.pad((ink >= SOLID).astype(np.float32), margin)
    closed = sweep(sweep(solid, closing, np.maximum), closing, np.minimum)
    core = sweep(closed, width, np.minimum)
    return np.count_nonzero(core) / max(np.count_nonzero(closed), 1)


def hole_count(ink, smallest):
    """How many holes the solid ink of (h, w) ink in [0, 1] encloses: groups of paper that do not
    reach beyond the crop, of at least `smallest` pixels (smaller ones are the grain of the ink, not
    holes drawn)."""
    # A border of paper joins all the paper outside the ink into one group.
    paper = np.pad(ink < SOLID, 1, constant_values=True)
    labels, count = segment.label_groups(paper)
    sizes = np.bincount(labels[paper], minlength=count)
    sizes[labels[0, 0]] = 0
    return np.count_nonzero(sizes >= smallest)


def sweep(mask, size, combine):
    """`combine` (np.maximum: a dilation, np.minimum: an erosion) of each pixel's square of `size`
    (odd) pixels, its middle at the pixel, in mask (H, W) float32: (H, W)."""
    return sliding(sliding(mask, size, combine, 0), size, combine, 1)
