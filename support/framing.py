"""Ink framed as a network's 28 x 28 input, the way a dataset's authors framed their pictures.

MNIST's digits were cropped to their ink, scaled to fit a 20 x 20 box (keeping the aspect ratio)
and placed in the 28 x 28 frame with their centre of mass at its centre; strokes far thinner than
MNIST's pens drew are widened first. Fashion-MNIST's clothes fill the frame on their longer side,
their box centred. FRAMINGS says which is which; frame does it:

    digit = frame(ink)                               # (H, W) ink, 0 = paper -> (28, 28) float32
    garment = frame(ink, mnist.DATASETS["fashion"])
"""

from typing import NamedTuple

import numpy as np

from support import mnist
from support.ink import ImageError

DIGIT_SIZE = 20  # MNIST scaled each digit to fit a 20 x 20 box, in its frame of mnist.IMAGE_SIZE a side
CENTRE = mnist.IMAGE_SIZE / 2  # where the centre of mass of every MNIST digit is, in pixel indices
# Stroke width over the digit's longer side, measured by stroke_width on MNIST digits enlarged 8
# times: 5% of them are thinner than THINNEST, half thinner than TYPICAL.
THINNEST = 0.06
TYPICAL = 0.09
# A digit symmetric about its middle (a 1, a 0) of even width or height has its centre of mass
# exactly halfway between two pixels; its float sums miss that by about 1e-6 of a pixel, either way.
# Centres within HALFWAY below halfway count as halfway.
HALFWAY = 1e-3
MNIST = mnist.DATASETS["mnist"]


class Framing(NamedTuple):
    """How a dataset's authors put each thing they photographed or scanned into its 28 x 28 frame."""

    size: int  # pixels on the longer side of its bounding box
    by_mass: bool  # centred by its centre of mass, else by its bounding box
    digits: bool  # several may stand in a row (read as a number), and their strokes are pen lines (see thicken)


# MNIST: digits in a 20 x 20 box, centred by mass. Fashion-MNIST: one piece of clothing filling the
# frame on its longer side, centred; measured on its test set, every picture is 28 pixels on its
# longer side and its box's centre is the frame's.
FRAMINGS = {MNIST: Framing(DIGIT_SIZE, True, True), mnist.DATASETS["fashion"]: Framing(mnist.IMAGE_SIZE, False, False)}


def frame(ink, dataset=MNIST):
    """The digit as MNIST made its digits: (H, W) float32 in [0, 1], 0 = paper -> (28, 28) float32
    in [0, 1], the ink's bounding box scaled to 20 pixels on its longer side (keeping the aspect
    ratio) and its centre of mass at the frame's centre (14, 14), in pixel indices. Strokes far
    thinner than MNIST's are widened first (see thicken). For another dataset (an mnist.Dataset),
    as its FRAMINGS says: Fashion-MNIST's box is 28 pixels, centred by itself, nothing widened."""
    framing = FRAMINGS[dataset]
    top, left, bottom, right = ink_box(ink)
    digit = ink[top:bottom, left:right]
    digit = thicken(digit) if framing.digits else digit
    scale = framing.size / max(digit.shape)
    height, width = (max(1, round(n * scale)) for n in digit.shape)
    digit = resize_weights(height, digit.shape[0]) @ digit @ resize_weights(width, digit.shape[1]).T
    # Weighted means of ink, but rounding can pass 1 by a hair.
    return centre(np.minimum(digit, 1), framing.by_mass)


def ink_box(ink):
    """The smallest box around all the ink (H, W): (top, left, bottom, right), bottom and right
    excluded. Raises ImageError when there is no ink."""
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size:
        raise ImageError("no ink found: the picture is blank, or all one colour")
    return rows[0], columns[0], rows[-1] + 1, columns[-1] + 1


def thicken(digit):
    """(h, w) float32 ink cropped to a digit -> the same, or larger when its strokes are much thinner
    than MNIST's: then widened to MNIST's typical width.

    A pen on paper, photographed or scanned, draws far thinner lines for the digit's size than the
    pens of the forms MNIST was made from. Shrunk to 20 pixels they would become faint one-pixel
    lines, and the network, which never saw such lines, would guess.
    """
    size = max(digit.shape)
    width = stroke_width(digit)
    if width >= THINNEST * size:
        return digit
    return dilate(digit, round(TYPICAL * size - width) + 1)


def stroke_width(ink):
    """The strokes' mean width in pixels, from (H, W) ink in [0, 1]: twice the area of the solid ink
    over the length of its outline (a stroke w wide and L long covers w L pixels, its outline 2 L)."""
    solid = np.pad(ink > 0.5, 1)  # beyond the border is paper
    inside = solid.copy()  # solid pixels whose four neighbours are solid too
    inside[1:] &= solid[:-1]
    inside[:-1] &= solid[1:]
    inside[:, 1:] &= solid[:, :-1]
    inside[:, :-1] &= solid[:, 1:]
    return 2 * np.count_nonzero(solid) / max(np.count_nonzero(solid & ~inside), 1)


def dilate(ink, size):
    """(H, W) ink -> (H + size - 1, W + size - 1): each pixel the largest of the size x size square
    around it, so every stroke grows size - 1 pixels wider."""
    for axis in (0, 1):  # a square is a row of pixels swept along a column: one axis at a time
        padding = [(0, 0), (0, 0)]
        padding[axis] = (size - 1, size - 1)
        ink = np.lib.stride_tricks.sliding_window_view(np.pad(ink, padding), size, axis=axis).max(axis=-1)
    return ink


def resize_weights(n_out, n_in):
    """(n_out, n_in) float32 weights that resample a row of n_in pixels to n_out pixels: W @ row.

    Shrinking averages the input pixels each output pixel covers (in proportion to how much of
    them it covers), so that thin strokes turn grey instead of vanishing between samples.
    Enlarging interpolates linearly between the two nearest input pixels.
    """
    ratio = n_in / n_out
    inputs = np.arange(n_in)
    if ratio >= 1:
        edges = np.arange(n_out + 1) * ratio  # output pixel i spans [edges[i], edges[i + 1]) of input pixels
        overlap = np.minimum(edges[1:, None], inputs + 1) - np.maximum(edges[:-1, None], inputs)
        return (np.maximum(overlap, 0) / ratio).astype(np.float32)
    # Output pixel centres in input coordinates, kept within the outermost input pixel centres.
    centres = np.clip((np.arange(n_out) + 0.5) * ratio - 0.5, 0, n_in - 1)
    return np.maximum(1 - np.abs(centres[:, None] - inputs), 0).astype(np.float32)


def centre(digit, by_mass=True):
    """(h, w) float32 ink, h and w at most 28 -> a (28, 28) frame holding it moved by whole pixels so that
    its centre of mass is nearest (14, 14), halfway moving down and right; what would move past the
    border is cut off. by_mass=False:
    its box in the middle of the frame instead (as many empty rows above as below, within one)."""
    height, width = digit.shape
    if not by_mass:
        top, left = (mnist.IMAGE_SIZE - height) // 2, (mnist.IMAGE_SIZE - width) // 2
    else:
        mass = digit.sum()
        centre_row = digit.sum(axis=1) @ np.arange(height) / mass
        centre_column = digit.sum(axis=0) @ np.arange(width) / mass
        # Halfway rounds up, and so does what falls short of halfway by less than HALFWAY: float
        # rounding, which differs with the BLAS kernel and thread count, then cannot decide.
        top, left = (int(np.floor(CENTRE - c + 0.5 + HALFWAY)) for c in (centre_row, centre_column))
    framed = np.zeros((mnist.IMAGE_SIZE, mnist.IMAGE_SIZE), np.float32)
    y0, y1 = max(top, 0), min(top + height, mnist.IMAGE_SIZE)
    x0, x1 = max(left, 0), min(left + width, mnist.IMAGE_SIZE)
    framed[y0:y1, x0:x1] = digit[y0 - top : y1 - top, x0 - left : x1 - left]
    return framed


