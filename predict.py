#!/usr/bin/env python3
"""Recognize handwritten digits in pictures with a trained network.

    ./predict.py digit.png                            # with model.npz, from ./train.py --save model.npz
    ./predict.py --model small.npz one.jpg two.png --output predictions.png
    ./predict.py --test-index 0 7 42                  # digits of the MNIST test set, with their labels
    ./predict.py digit.png --test-index 0             # both: the pictures come before --test-index
    ./predict.py postcode.jpg                         # several digits side by side: prints the number
    ./predict.py --model fashion.npz --test-index 0   # a Fashion-MNIST network: answers with its classes

A picture may be a PNG or JPEG of any size, in colour or grey, dark ink on light paper or light on
dark, of one digit or of a row of them. Each digit is made to look like an MNIST digit first: paper 0,
ink 1, cropped to the ink, strokes as wide as MNIST's, scaled so that the longer side is 20 pixels,
and placed in a 28 x 28 frame with its centre of mass at the centre.

A model file says which dataset it was trained on; the answers are that dataset's classes (digits,
or Fashion-MNIST's T-shirt/top, Trouser, ...), and --test-index reads that dataset's test set. For
Fashion-MNIST, a picture shows one piece of clothing, which is made to look like its pictures: scaled
so that the longer side fills the 28 x 28 frame, and centred in it.
"""

import argparse
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

import matplotlib.patches
import numpy as np
import PIL.Image
import PIL.ImageOps

from support import cli, mnist, model, plots

DIGIT_SIZE = 20  # MNIST scaled each digit to fit a 20 x 20 box ...
FRAME_SIZE = mnist.IMAGE_SIZE  # ... and centred it in a 28 x 28 frame
CENTRE = FRAME_SIZE / 2  # where the centre of mass of every MNIST digit is, in pixel indices
# How bright red, green and blue look (ITU-R BT.601 luma, as Pillow and JPEG use it).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Differences from the paper over this many times its spread (as a standard deviation) are not chance.
SPREAD_MARGIN = 6
MIN_CONTRAST = 0.1  # ink differs from paper by at least a tenth of black to white, or it is not ink
STRONGEST_PERCENTILE = 99  # the strongest strokes: the top 1% of what differs from the paper
# Marks weaker than a fifth of the strongest strokes are not strokes: that is above the shadows and
# grain of a photograph, yet keeps most of the grey edge that MNIST's strokes have.
FAINT = 0.2
# Stroke width over the digit's longer side, measured by stroke_width on MNIST digits enlarged 8
# times: 5% of them are thinner than THINNEST, half thinner than TYPICAL.
THINNEST = 0.06
TYPICAL = 0.09
# The paper's level is fitted to at most this many samples a side, first through the medians of
# BLOCKS x BLOCKS blocks, then in FIT_ROUNDS rounds, each to the samples within FIT_MARGIN times the
# paper's spread of the last fit.
FIT_SAMPLES = 100
BLOCKS = 8
FIT_ROUNDS = 8
FIT_MARGIN = 2.5
# Groups of ink lighter than this share of the heaviest are specks, not strokes; groups side by side
# are one digit when they share this share of the narrower one's columns.
SPECK = 0.02
SHARED_COLUMNS = 0.5
DEFAULT_PICTURE = "predict.png"  # where --show draws when there is no screen
MNIST = mnist.DATASETS["mnist"]


class Framing(NamedTuple):
    """How a dataset's authors put each thing they photographed or scanned into its 28 x 28 frame."""

    size: int  # pixels on the longer side of its bounding box
    by_mass: bool  # centred by its centre of mass, else by its bounding box
    digits: bool  # several may stand in a row (read as a number), and their strokes are pen lines (see thicken)


# MNIST: digits in a 20 x 20 box, centred by mass. Fashion-MNIST: one piece of clothing filling the
# frame on its longer side, centred; measured on its test set, every picture is 28 pixels on its
# longer side and its box's centre is the frame's.
FRAMINGS = {MNIST: Framing(DIGIT_SIZE, True, True), mnist.DATASETS["fashion"]: Framing(FRAME_SIZE, False, False)}


class ImageError(ValueError):
    """A picture that cannot be read or holds no ink; the caller names the file."""


def read_image(path):
    """The picture in `path` in grey as stored, turned upright: (H, W) float32 in [0, 1], 0 = black,
    1 = white.

    Phones store photos as the sensor saw them and note in the EXIF data how to turn them; that is
    done first. Transparent parts count as white paper: drawing programs often save ink on a
    transparent, black-coloured background, which would otherwise be all ink.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice that; refuse both, as such a picture
            # would fill the memory (a "decompression bomb" is a small file that claims to be huge).
            warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)
            with PIL.Image.open(path) as image:  # Pillow recognises the format by the content, not the name
                return grey_levels(PIL.ImageOps.exif_transpose(image))
    except FileNotFoundError:
        raise ImageError("no such file") from None
    except (PIL.Image.DecompressionBombError, PIL.Image.DecompressionBombWarning):
        raise ImageError(f"too large: more than {PIL.Image.MAX_IMAGE_PIXELS:,} pixels, Pillow's limit") from None
    except OSError as error:
        if error.strerror:  # from the operating system: a folder, no permission, ...
            raise ImageError(f"cannot read ({error.strerror})") from None
        raise ImageError("not a picture that can be read (PNG, JPEG, ...), or a damaged one") from None
    except (SyntaxError, ValueError):  # how Pillow reports some damaged files
        raise ImageError("not a picture that can be read (PNG, JPEG, ...), or a damaged one") from None


def grey_levels(image):
    """A Pillow image -> (H, W) float32 grey in [0, 1], 1 = white, transparent parts white."""
    if image.mode.startswith("I"):  # whole numbers of 16 bits: 16-bit grey PNGs
        return np.asarray(image, np.float32) / 65535
    transparent = image.has_transparency_data
    levels = np.asarray(image.convert("RGBA" if transparent else "RGB"), np.float32) / 255
    grey = levels[..., :3] @ LUMA
    if transparent:
        alpha = levels[..., 3]
        grey = alpha * grey + (1 - alpha)
    return np.clip(grey, 0, 1)  # the weights of LUMA add up to 1 only to within rounding


def normalize(grey):
    """Ink from a grey picture: (H, W) float32 in [0, 1], 1 = white -> (H, W) float32 in [0, 1],
    0 = paper, 1 = ink, be the ink darker or lighter than the paper. Raises ImageError when there
    is no ink.

    Paper is never pure white in a scan or a photograph, nor ink pure black, so both levels are
    measured: the paper is what most of the picture is, and the ink is what differs from it by
    more than the paper's grain can explain. Light from a lamp or a window makes the paper brighter
    on one side than the other, so its level is measured at each pixel (see paper_level).
    """
    difference = grey - paper_level(grey)
    # The median absolute difference, scaled to a standard deviation: how much the paper varies
    # (grain, uneven light), which the strokes, far fewer pixels than the paper, barely change.
    spread = 1.4826 * np.median(np.abs(difference))
    marked = np.abs(difference) > max(SPREAD_MARGIN * spread, MIN_CONTRAST)
    if not marked.any():
        raise ImageError("no ink found: the picture is blank, or all one colour")
    dark_ink = np.count_nonzero(difference[marked] < 0) * 2 >= np.count_nonzero(marked)
    ink = -difference if dark_ink else difference
    # Faint marks (shadows, grain, JPEG ringing around strokes) would stretch the bounding box over
    # the page and pull the centre of mass; they are far weaker than the strongest strokes. The
    # strongest, not the typical marked pixel: a shadow can mark more pixels than the ink does.
    strongest = np.percentile(ink[marked], STRONGEST_PERCENTILE)
    floor = max(SPREAD_MARGIN * spread, FAINT * strongest)
    strength = np.median(ink[ink > floor])  # typical ink: the stronger half of it becomes 1
    # Subtracting the floor, rather than cutting below it, keeps the anti-aliased edges of the
    # strokes a smooth ramp from paper to ink, as in MNIST.
    return np.clip((ink - floor) / (strength - floor), 0, 1).astype(np.float32)


def paper_level(grey):
    """The paper's level at each pixel of a grey picture (H, W) -> (H, W) float32: a smooth surface
    (a quadratic in row and column) through the paper, the ink left out.

    Uneven light changes slowly across a page, so a few numbers describe it, and a surface that
    smooth cannot bend into the strokes. It is fitted to a grid of samples, again and again, each
    time to the samples that lie near the last fit. It starts from a fit, made the same way, to the
    medians of blocks of the picture, each the paper's level where paper is most of the block, and
    that from the median of those, the paper's level where paper is most of the picture.
    """
    height, width = grey.shape
    step = max(1, max(height, width) // FIT_SAMPLES)
    samples = grey[::step, ::step]
    y, x = np.indices(samples.shape) * step / np.array([height, width])[:, None, None]
    blocks, block_y, block_x = block_medians(samples, y, x)
    first = fit_away_from_ink(blocks, block_y, block_x, start=np.median(blocks))
    coefficients = fit_away_from_ink(samples, y, x, start=quadratic(first, y, x))
    return quadratic(coefficients, np.arange(height)[:, None] / height, np.arange(width) / width).astype(np.float32)


def fit_away_from_ink(values, y, x, start):
    """The coefficients of a quadratic in y and x fitted to the values near `start` (a first guess at
    each value, or one for all), then near each fit in turn, FIT_ROUNDS times; all of one shape."""
    fit = start
    for _ in range(FIT_ROUNDS):
        distance = np.abs(values - fit)
        spread = 1.4826 * np.median(distance)  # the median absolute difference as a standard deviation
        near = distance <= max(FIT_MARGIN * spread, MIN_CONTRAST / 2)
        coefficients = fit_quadratic(values[near], y[near], x[near])
        fit = quadratic(coefficients, y, x)
    return coefficients


def block_medians(samples, y, x):
    """The medians of BLOCKS x BLOCKS blocks of samples (h, w) (fewer for tiny pictures), and the
    mean coordinates y and x (each (h, w) too) of each block; all three (rows, columns)."""
    n_rows, n_columns = (min(BLOCKS, n) for n in samples.shape)
    h, w = samples.shape[0] // n_rows * n_rows, samples.shape[1] // n_columns * n_columns

    def blocks(a):
        return a[:h, :w].reshape(n_rows, h // n_rows, n_columns, w // n_columns).swapaxes(1, 2).reshape(n_rows, n_columns, -1)

    return np.median(blocks(samples), axis=-1), blocks(y).mean(axis=-1), blocks(x).mean(axis=-1)


def fit_quadratic(values, y, x):
    """The 6 coefficients of the quadratic in y and x nearest to the values (least squares);
    values, y and x of one shape."""
    terms = np.stack([np.broadcast_to(term, np.shape(values)).ravel() for term in quadratic_terms(y, x)], axis=-1)
    return np.linalg.lstsq(terms, np.ravel(values), rcond=None)[0]


def quadratic(coefficients, y, x):
    """The quadratic with these 6 coefficients at row and column coordinates y and x, broadcast together."""
    return sum(c * term for c, term in zip(coefficients, quadratic_terms(y, x)))


def quadratic_terms(y, x):
    """[1, y, x, y^2, y x, x^2] of row and column coordinates y and x in [0, 1), broadcast together."""
    return [np.ones_like(y * x), y, x, y * y, y * x, x * x]


def to_mnist(ink, dataset=MNIST):
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
    its centre of mass is nearest (14, 14); what would move past the border is cut off. by_mass=False:
    its box in the middle of the frame instead (as many empty rows above as below, within one)."""
    height, width = digit.shape
    if not by_mass:
        top, left = (FRAME_SIZE - height) // 2, (FRAME_SIZE - width) // 2
    else:
        mass = digit.sum()
        centre_row = digit.sum(axis=1) @ np.arange(height) / mass
        centre_column = digit.sum(axis=0) @ np.arange(width) / mass
        top, left = round(CENTRE - centre_row), round(CENTRE - centre_column)
    frame = np.zeros((FRAME_SIZE, FRAME_SIZE), np.float32)
    y0, y1 = max(top, 0), min(top + height, FRAME_SIZE)
    x0, x1 = max(left, 0), min(left + width, FRAME_SIZE)
    frame[y0:y1, x0:x1] = digit[y0 - top : y1 - top, x0 - left : x1 - left]
    return frame


def label_groups(mask):
    """Groups of touching pixels: (H, W) bool -> (H, W) int64 labels, -1 off the mask, else the number
    (0, 1, ...) of the group of mask pixels joined to it through pixels touching by a side or a
    corner; and how many groups there are.

    A union-find on all pixels at once: each round joins every group to the touching group of the
    smallest number, then points every pixel straight at its group's first pixel. Each round at
    least halves the number of groups that still touch another, so the rounds are few.
    """
    height, width = mask.shape
    index = np.full((height + 2, width + 2), -1)  # a border off the mask, so that no neighbour is missing
    index[1:-1, 1:-1][mask] = np.arange(np.count_nonzero(mask))
    here = index[1:-1, 1:-1]
    pairs = []
    for dy, dx in [(0, 1), (1, -1), (1, 0), (1, 1)]:  # with their opposites, all eight neighbours
        there = index[1 + dy : height + 1 + dy, 1 + dx : width + 1 + dx]
        both = (here >= 0) & (there >= 0)
        pairs.append((here[both], there[both]))
    a, b = (np.concatenate(ends) for ends in zip(*pairs))
    first = np.arange(np.count_nonzero(mask))  # of each pixel's group so far
    while True:
        first_a, first_b = first[a], first[b]
        apart = first_a != first_b
        if not apart.any():
            break
        np.minimum.at(first, np.maximum(first_a, first_b)[apart], np.minimum(first_a, first_b)[apart])
        while not np.array_equal(first[first], first):
            first = first[first]
    groups, numbers = np.unique(first, return_inverse=True)
    labels = np.full(mask.shape, -1)
    labels[mask] = numbers
    return labels, len(groups)


def split_digits(ink):
    """The digits in ink (H, W) float32 in [0, 1] (0 = paper), left to right: their boxes (n, 4) as
    (top, left, bottom, right), bottom and right excluded, and each digit's ink alone, cropped to its
    box: a list of n (h, w) float32 arrays.

    A digit is a group of touching ink, with the groups beside it that share much of its columns:
    the strokes of one digit need not touch (the bar of a 5, a broken 4), while digits side by side
    share few columns. Specks far lighter than the heaviest group are left out.
    """
    labels, count = label_groups(ink > 0)
    rows, columns = np.nonzero(labels >= 0)
    group = labels[rows, columns]
    top, left = np.full(count, ink.shape[0]), np.full(count, ink.shape[1])
    bottom, right = np.zeros(count, np.int64), np.zeros(count, np.int64)
    np.minimum.at(top, group, rows)
    np.minimum.at(left, group, columns)
    np.maximum.at(bottom, group, rows + 1)
    np.maximum.at(right, group, columns + 1)
    mass = np.bincount(group, weights=ink[rows, columns], minlength=count)
    kept = np.flatnonzero(mass >= SPECK * mass.max())
    digits, spans = [], []  # the group numbers of each digit, and the columns it spans
    for number in kept[np.argsort(left[kept], kind="stable")]:
        span = left[number], right[number]
        if spans and share_columns(spans[-1], span):
            digits[-1].append(number)
            spans[-1] = min(spans[-1][0], span[0]), max(spans[-1][1], span[1])
        else:
            digits.append([number])
            spans.append(span)
    boxes = np.array([(top[d].min(), left[d].min(), bottom[d].max(), right[d].max()) for d in digits])
    inks = [np.where(np.isin(labels[y0:y1, x0:x1], d), ink[y0:y1, x0:x1], 0) for d, (y0, x0, y1, x1) in zip(digits, boxes)]
    return boxes, inks


def share_columns(a, b):
    """Whether two spans of columns (first, last + 1) overlap by at least SHARED_COLUMNS of the narrower."""
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared >= SHARED_COLUMNS * min(a[1] - a[0], b[1] - b[0])


def preprocess(path, dataset=MNIST):
    """The picture in `path` and the digits in it, left to right: (H, W) float32 grey as stored
    (1 = white), their boxes in it (n, 4) as (top, left, bottom, right), and the digits made MNIST-like,
    (n, 28, 28) float32 in [0, 1] (0 = paper, 1 = ink), each like a row of mnist.as_inputs once
    reshaped. For a dataset (an mnist.Dataset) of other things than digits, all the ink is one thing,
    framed as the dataset frames its pictures. Raises ImageError."""
    grey = read_image(path)
    ink = normalize(grey)
    if FRAMINGS[dataset].digits:
        boxes, inks = split_digits(ink)
    else:
        boxes, inks = np.array([ink_box(ink)]), [ink]
    return grey, boxes, np.array([to_mnist(ink, dataset) for ink in inks])


def describe(name, probabilities, dataset=MNIST):
    """`name: 7 (confidence 0.98); then 1 (0.01), 9 (0.00)` from the (10,) probabilities, the classes
    named as `dataset` (an mnist.Dataset) names them."""
    (best, second, third), classes = np.argsort(-probabilities, kind="stable")[:3], dataset.classes
    return (f"{name}: {classes[best]} (confidence {probabilities[best]:.2f}); "
            f"then {classes[second]} ({probabilities[second]:.2f}), {classes[third]} ({probabilities[third]:.2f})")


def spell(answers, dataset=MNIST):
    """The classes `answers` (n,) as text, left to right: digits side by side as a number ("90210"),
    other names separated by commas ("Sneaker, Bag")."""
    return ("" if dataset.label_name == "digit" else ", ").join(dataset.classes[answer] for answer in answers)


def describe_number(name, probabilities, dataset=MNIST):
    """`name: 90210 (confidence of each digit: 0.99, 1.00, 0.97, 1.00, 0.98)` from (n, 10)
    probabilities, one row per digit from left to right; with one digit, as describe."""
    if len(probabilities) == 1:
        return describe(name, probabilities[0], dataset)
    confidences = ", ".join(f"{p:.2f}" for p in probabilities.max(axis=1))
    return (f"{name}: {spell(probabilities.argmax(axis=1), dataset)} "
            f"(confidence of each {dataset.label_name}: {confidences})")


def draw_rows(figure, rows, dataset=MNIST):
    """One row per picture: the picture with a box around each digit found and what it was read as,
    the network's 28 x 28 inputs side by side, and the ten probabilities of a single digit or the
    confidence in each digit of a number; the classes named as `dataset` names them.

    rows: (title, picture (H, W) float32 grey with 1 = white, boxes (n, 4) as (top, left, bottom,
    right) or None to draw none, digits (n, 28, 28) float32 with 1 = ink, probabilities (n, 10)) tuples.
    """
    classes, long_names = dataset.classes, dataset.label_name != "digit"
    # Matplotlib cannot draw a picture more than 2^16 pixels high: many rows get thinner instead.
    figure.set_size_inches(9, min(2.2 * len(rows), 600))
    axes = figure.subplots(len(rows), 3, squeeze=False, gridspec_kw={"width_ratios": [2, 1.5, 1.5]})
    for (title, picture, boxes, digits, probabilities), (original, network_input, bars) in zip(rows, axes):
        answers = probabilities.argmax(axis=1)
        original.imshow(picture, cmap="gray", vmin=0, vmax=1)
        original.set_title(title, fontsize=9)
        for (top, left, bottom, right), answer in zip([] if boxes is None else boxes, answers):
            original.add_patch(matplotlib.patches.Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                                            fill=False, edgecolor="tab:red", linewidth=1))
            original.text((left + right) / 2, top, classes[answer], color="tab:red", fontsize=9, ha="center",
                          va="bottom")
        network_input.imshow(np.hstack(digits), cmap="gray_r", vmin=0, vmax=1)
        network_input.set_title("network input", fontsize=9)
        for image_axes in (original, network_input):
            image_axes.axis("off")
        if len(digits) == 1:
            draw_probabilities(bars, probabilities[0], dataset)
        else:
            bars.bar(range(len(answers)), probabilities.max(axis=1), color="tab:blue")
            bars.set_xticks(range(len(answers)), [classes[answer] for answer in answers],
                            rotation=90 if long_names else 0, fontsize=7 if long_names else None)
            bars.set_ylim(0, 1)
            bars.set_title(f"{spell(answers, dataset)} (confidence of each {dataset.label_name})", fontsize=9)
    figure.tight_layout()


def draw_probabilities(bars, probabilities, dataset=MNIST):
    """The ten probabilities (10,) as bars on `bars` (axes), the most probable in colour and named
    above, the classes named as `dataset` names them."""
    best = probabilities.argmax()
    colours = ["tab:blue" if digit_class == best else "tab:gray" for digit_class in range(10)]
    bars.bar(range(10), probabilities, color=colours)
    if dataset.label_name == "digit":
        bars.set_xticks(range(10))
    else:  # names, turned upright so that ten fit
        bars.set_xticks(range(10), dataset.classes, rotation=90, fontsize=7)
    bars.set_ylim(0, 1)
    bars.set_title(f"{dataset.classes[best]} (confidence {probabilities[best]:.2f})", fontsize=9)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="pictures of a digit or a number (PNG, JPEG, ...)")
    parser.add_argument("--model", default="model.npz", help="the trained network (default: model.npz)")
    parser.add_argument("--test-index", type=cli.non_negative_int, nargs="+", default=[], metavar="N",
                        help="also classify these images of the model's dataset's test set, by number from 0 "
                             "(after any IMAGEs)")
    parser.add_argument("--dataset", choices=mnist.DATASETS,
                        help="the dataset the model was trained on (default: the one its file names)")
    parser.add_argument("--data-dir", help="folder with the dataset's files (default: $MNIST_DIR, else data/, "
                                           "or data/fashion/ for Fashion-MNIST)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--output", help="draw each picture, the digits found, the network inputs and probabilities to this PNG file")
    shown.add_argument("--show", action="store_true", help=f"draw them on screen ({DEFAULT_PICTURE} without one)")
    return parser


def load_test_digits(parser, args):
    """The test images (N, 28, 28) uint8 and labels (N,) of args.dataset that --test-index asks for."""
    try:
        images, labels = mnist.load_split("test", args.data_dir, args.dataset)
    except mnist.MnistError as error:
        sys.exit(f"{parser.prog}: error: {error}")
    for index in args.test_index:
        if index >= len(images):
            parser.error(f"--test-index {index}: there are {len(images)} test images, numbered 0 to {len(images) - 1}")
    return images[args.test_index], labels[args.test_index]


def classify_pictures(parser, network, paths, dataset=MNIST):
    """Print the network's answer for each picture, named as `dataset` names its classes; returns the
    figure rows and whether any failed."""
    rows, failed = [], False
    for path in paths:
        try:
            grey, boxes, digits = preprocess(path, dataset)
        except ImageError as error:
            print(f"{parser.prog}: error: {path}: {error}", file=sys.stderr)
            failed = True
            continue
        probabilities = network.probabilities(digits.reshape(len(digits), -1))
        # Flushed so that, written to one file together, answers and errors stay in order.
        print(describe_number(path, probabilities, dataset), flush=True)
        rows.append((Path(path).name, grey, boxes, digits, probabilities))
    return rows, failed


def classify_test_digits(network, indices, images, labels, dataset=MNIST):
    """Print the network's answer and the label for each test image, named as `dataset` names its
    classes; returns the figure rows."""
    inputs = mnist.as_inputs(images)
    rows = []
    for index, label, x, probabilities in zip(indices, labels, inputs, network.probabilities(inputs)):
        name = dataset.classes[label]
        print(f"{describe(f'test image {index}', probabilities, dataset)}; real label {name}")
        digit = x.reshape(FRAME_SIZE, FRAME_SIZE)
        rows.append((f"test image {index}, label {name}", 1 - digit, None, digit[None], probabilities[None]))
    return rows


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.images and not args.test_index:
        parser.error("give at least one IMAGE, or --test-index")
    problem = args.output and cli.unwritable(args.output)
    if problem:  # said before any picture is read, not after
        parser.error(f"--output {args.output}: {problem}")
    try:
        network, metadata = model.load(args.model)
    except model.ModelError as error:
        sys.exit(f"{parser.prog}: error: {error}")
    args.dataset = cli.model_dataset(parser, args.dataset, args.model, metadata["dataset"])
    dataset = mnist.DATASETS[args.dataset]
    test_digits = load_test_digits(parser, args) if args.test_index else None
    if args.dataset != "mnist":  # MNIST, the default, goes without saying
        print(f"{args.model} was trained on {dataset.title}: its classes are {', '.join(dataset.classes)}")
    rows, failed = classify_pictures(parser, network, args.images, dataset)
    if test_digits is not None:
        rows += classify_test_digits(network, args.test_index, *test_digits, dataset)
    if rows and (args.output or args.show):
        figure = plots.new_figure(args.output)
        draw_rows(figure, rows, dataset)
        try:
            plots.save_or_show(figure, args.output, default_name=DEFAULT_PICTURE)
        except OSError as error:
            sys.exit(f"{parser.prog}: error: {error.filename}: cannot write ({error.strerror})")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
