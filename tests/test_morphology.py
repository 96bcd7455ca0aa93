"""The shape of ink as support/morphology.py measures it: cores of blobs, none of strokes; holes."""

import numpy as np

from shapes import ellipse, seven
from support import morphology


def ring(shape=(100, 100), centre=(50, 50), outer=(40, 40), inner=(25, 25)):
    """Ink of a ring: an ellipse with a smaller one taken out of it."""
    return ellipse(shape, centre, outer) - ellipse(shape, centre, inner)


def net(height=120, width=100, line=4, pitch=20):
    """Ink of a net: lines `line` pixels wide every `pitch` pixels each way, a hole in each square."""
    rows, columns = np.indices((height, width))
    return ((rows % pitch < line) | (columns % pitch < line) | (rows >= height - line)
            | (columns >= width - line)).astype(np.float32)


def test_a_blob_has_a_core_and_a_stroke_has_none():
    disc = ellipse((100, 100), (50, 50), (45, 45))
    assert morphology.core_share(disc, width=20, closing=1) > 0.5
    assert morphology.core_share(seven(), width=20, closing=1) == 0  # its strokes are 12 wide


def test_the_closing_makes_a_striped_cloth_one_blob():
    rows = np.indices((100, 100))[0]
    striped = (rows % 6 >= 2).astype(np.float32)  # ink 4 pixels, paper 2, over and over
    assert morphology.core_share(striped, width=20, closing=1) == 0
    assert morphology.core_share(striped, width=20, closing=5) > 0.5


def test_holes_are_counted_and_grain_is_not():
    eight = np.vstack([ring((60, 60), (30, 30), (28, 24), (18, 14)), ring((70, 60), (35, 30), (33, 28), (23, 18))])
    assert morphology.hole_count(ring(), smallest=20) == 1
    assert morphology.hole_count(eight, smallest=20) == 2
    assert morphology.hole_count(net(), smallest=20) == 30  # 6 rows of 5 squares
    assert morphology.hole_count(net(), smallest=20 * 20) == 0  # each hole is 16 x 16
