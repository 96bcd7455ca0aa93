"""support/framing.py: ink framed as MNIST framed its digits (cropped, thin strokes widened, scaled
to 20 pixels, centred by mass) and as Fashion-MNIST framed its clothes. The tests draw their own
shapes and need no data."""

import numpy as np
import pytest

from shapes import ellipse, seven, stroke
from support import framing, ink, mnist


def centre_of_mass(digit):
    rows, columns = np.indices(digit.shape)
    return np.array([(digit * rows).sum(), (digit * columns).sum()]) / digit.sum()


def box_size(digit):
    """(height, width) of the smallest box around all the ink."""
    rows, columns = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def assert_mnist_like(digit):
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1
    assert np.abs(centre_of_mass(digit) - 14).max() <= 1
    assert max(box_size(digit)) in (19, 20, 21)


SHAPES = {
    "small blob in a corner": lambda: ellipse((60, 80), (12, 65), (5, 6)),
    "tiny dot, enlarged": lambda: ellipse((40, 40), (30, 8), (1.5, 1.5)),
    "tall ellipse": lambda: ellipse((300, 200), (100, 60), (80, 25)),
    "wide ellipse": lambda: ellipse((200, 400), (150, 250), (20, 120)),
    "thin vertical stroke": lambda: stroke((300, 300), (20, 250), (280, 250), width=3),
    "thick diagonal stroke": lambda: stroke((100, 150), (10, 10), (60, 140), width=15),
    "seven, off centre": lambda: np.pad(seven(), ((5, 200), (150, 3))),
    "L, heavy at the bottom": lambda: stroke((200, 200), (20, 30), (150, 30), (150, 120), width=20),
}


@pytest.mark.parametrize("draw", SHAPES.values(), ids=SHAPES.keys())
def test_digit_is_centred_by_mass_and_20_pixels_long(draw):
    assert_mnist_like(framing.frame(draw()))


@pytest.mark.parametrize("radii, box", [((80, 40), (20, 10)), ((30, 90), (7, 20))], ids=["2:1", "1:3"])
def test_aspect_ratio_is_kept(radii, box):
    digit = framing.frame(ellipse((400, 400), (200, 200), radii))
    assert np.abs(np.subtract(box_size(digit), box)).max() <= 1


@pytest.mark.parametrize("draw", SHAPES.values(), ids=SHAPES.keys())
def test_a_digit_made_the_mnist_way_comes_back_unchanged(draw):
    digit = framing.frame(draw())
    assert np.allclose(framing.frame(digit), digit)


def test_thin_strokes_are_widened_and_thick_ones_kept():
    thick = seven(width=12)
    assert framing.thicken(thick) is thick
    thin = framing.frame(seven(scale=5, width=4))  # a fine pen, photographed close up
    assert np.count_nonzero(thin > 0.5) > 0.7 * np.count_nonzero(framing.frame(thick) > 0.5)
    assert_mnist_like(thin)


def test_no_ink_at_all_is_an_image_error():
    with pytest.raises(ink.ImageError, match="no ink"):
        framing.frame(np.zeros((30, 30), np.float32))


def test_clothes_fill_the_frame_centred_by_their_box():
    framed = framing.frame(ellipse((300, 200), (100, 60), (80, 25)), mnist.DATASETS["fashion"])
    assert box_size(framed) == (28, 9) and framed[0].any() and framed[-1].any()
    columns = np.flatnonzero(framed.any(axis=0))
    assert abs(columns[0] - (27 - columns[-1])) <= 1  # as many empty columns left as right, within one


@pytest.mark.parametrize("axis", [0, 1], ids=["rows", "columns"])
def test_a_digit_centred_halfway_between_two_pixels_is_placed_the_same_whatever_the_float_rounding(axis):
    """A digit symmetric about its middle (a 1, a 0) of even width has its centre of mass exactly
    halfway between two pixels. Which way it was moved used to follow the last bits of the float
    sums, which differ with the BLAS kernel and thread count: draw.py's vertical stroke moved by a
    pixel with OPENBLAS_CORETYPE=Haswell."""
    bar = np.ones((20, 2), np.float32) if axis else np.ones((2, 20), np.float32)
    placed = []
    for hair in (-1e-6, 0, 1e-6):  # float rounding's size: the centre a hair either side of halfway
        digit = bar.copy()
        np.moveaxis(digit, axis, 0)[1] *= 1 + hair
        placed.append(framing.centre(digit) > 0)
    assert np.array_equal(placed[0], placed[1]) and np.array_equal(placed[1], placed[2])
