"""The continental forms of 1, 4 and 7, drawn into MNIST's own digits.

MNIST's writers were American: few of its 1s have a long up-stroke (a flag) and a base, few of its
7s a bar through the stem, few of its 4s a closed top. Writers elsewhere use those forms, and a
network that never saw them reads a flagged 1 as a 7 and a closed 4 as a 9 or a 6. continental
draws the missing strokes, anew each round, into a random share of the training 1s, 7s and 4s,
where the digit's own ink says they go:

    1: from the top of the stroke down to the left (the flag), and for half of them a base under it
    7: across the stem, a little below the middle of the digit (the bar)
    4: from the top of the left arm to the top of the stem (the closed top)

The pen is as wide as the digit's own stroke (the width of the ink across its middle row) and has a
soft edge a pixel wide, as MNIST's anti-aliased strokes have. The digit is then moved by whole pixels
so that its centre of mass stays where it was: MNIST centred its digits by their mass. The strokes
are segments drawn into all the chosen images at once (each pixel's distance to the segment); no
loop runs over images.

    images = continental(images, labels, np.random.default_rng(0), share=0.2)  # (N, 28, 28) uint8
"""

import numpy as np

INK = 128  # a pixel is ink from this level of 255: the digit's shape is measured on those
PEN = (1.5, 4.5)  # the pen's width in pixels, at least and at most, whatever the digit's stroke measures


def continental(images, labels, rng, share):
    """images: (N, H, W) uint8, labels: (N,) -> (N, H, W) uint8, a random `share` (0..1) of the 1s,
    7s and 4s in their continental forms, all the other images as they were. share 0 draws nothing
    from rng."""
    if not share:
        return images
    out = images.copy()
    for label, strokes in FORMS.items():
        chosen = np.flatnonzero((labels == label) & (rng.random(len(labels)) < share))
        out[chosen] = drawn(images[chosen], strokes, rng)
    return out


def drawn(images, strokes, rng):
    """images: (n, H, W) uint8 of one digit -> the same with the segments strokes(images, rng) gives
    drawn in, each image moved back to its centre of mass. Images whose segments could not be placed
    (a row with no ink where one was looked for) are left as they were."""
    if not len(images):
        return images
    mask = images >= INK
    segments = strokes(mask, rng)
    pen = np.clip(stroke_width(mask), *PEN)
    ink = images.astype(np.float32)
    for start, end in segments:
        np.maximum(ink, pen_line(start, end, pen, images.shape[1:]), out=ink)
    ink = moved(ink, np.rint(centre_of_mass(images) - centre_of_mass(ink)).astype(int))
    out = np.rint(ink).astype(np.uint8)
    placed = np.all([np.isfinite(start).all(1) & np.isfinite(end).all(1) for start, end in segments], axis=0)
    out[~placed] = images[~placed]
    return out


def flagged_ones(mask, rng):
    """The strokes of flagged 1s for the 1s of mask (n, H, W) bool: a list of segments, each a pair
    (start, end) of (n, 2) points (row, column) in pixels, NaN where there is nowhere to draw. The
    flag runs from the top of the stroke down and to the left, a quarter to a half of the digit's
    height each way; half of them get a base: a line under the foot, a third to a half of the height long."""
    n = len(mask)
    top, bottom, _, _ = bounding_box(mask)
    height = (bottom - top + 1).astype(np.float32)
    peak = np.stack([top, ink_centre(mask, top)], axis=1)
    flag = peak + height[:, None] * np.stack([rng.uniform(0.25, 0.5, n), -rng.uniform(0.25, 0.45, n)], axis=1)
    foot = np.stack([bottom, ink_centre(mask, bottom)], axis=1)
    # The base's two ends; a 1 drawn without one gets a segment of no length at its foot, on its own ink.
    half = height * rng.uniform(0.15, 0.3, n) * (rng.random(n) < 0.5)
    reach = np.stack([0 * half, half], axis=1)
    return [(peak, flag), (foot - reach, foot + reach)]


def barred_sevens(mask, rng):
    """The bar of barred 7s for the 7s of mask (n, H, W) bool (segments as flagged_ones gives): across
    the stem at 45 to 60% of the digit's height, a fifth to three tenths of the height to each side,
    tilted by up to a pixel."""
    n = len(mask)
    top, bottom, _, _ = bounding_box(mask)
    height = (bottom - top + 1).astype(np.float32)
    row = np.rint(top + height * rng.uniform(0.45, 0.6, n)).astype(int)
    centre = np.stack([row, ink_centre(mask, row)], axis=1)
    reach = np.stack([rng.uniform(-1, 1, n), height * rng.uniform(0.2, 0.3, n)], axis=1)
    return [(centre - reach, centre + reach)]


def closed_fours(mask, rng):
    """The closed top of closed 4s for the 4s of mask (n, H, W) bool (segments as flagged_ones gives):
    from the highest ink left of the digit's middle column (the arm) to the highest right of it
    (the stem)."""
    _, _, left, right = bounding_box(mask)
    middle = (left + right) / 2
    columns = np.arange(mask.shape[2])
    arm = highest_point(mask & (columns < middle[:, None])[:, None, :])
    stem = highest_point(mask & (columns >= middle[:, None])[:, None, :])
    return [(arm, stem)]


FORMS = {1: flagged_ones, 7: barred_sevens, 4: closed_fours}  # label: its strokes


def bounding_box(mask):
    """mask: (n, H, W) bool, each with some ink -> the first and last rows and columns of ink, (n,)
    int each: top, bottom, left, right."""
    rows, columns = mask.any(axis=2), mask.any(axis=1)
    last_row, last_column = mask.shape[1] - 1, mask.shape[2] - 1
    return (rows.argmax(1), last_row - rows[:, ::-1].argmax(1),
            columns.argmax(1), last_column - columns[:, ::-1].argmax(1))


def ink_centre(mask, rows):
    """The mean column of the ink in row rows[i] of each mask[i]: (n,) float32, NaN for a row with none."""
    line = mask[np.arange(len(mask)), rows].astype(np.float32)
    count = line.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, line @ np.arange(mask.shape[2], dtype=np.float32) / count, np.nan)


def highest_point(mask):
    """The top of each mask[i]'s ink: (n, 2) float32 (row, column: the mean column of the top row's
    ink), NaN for a mask with none."""
    top = mask.any(axis=2).argmax(1)
    point = np.stack([top.astype(np.float32), ink_centre(mask, top)], axis=1)
    point[~mask.any(axis=(1, 2))] = np.nan
    return point


def stroke_width(mask):
    """The width of each digit's stroke: its ink pixels in the middle row of its box divided by the
    runs of ink there (a row crosses a stroke in one run as wide as the stroke), (n,) float32."""
    top, bottom, _, _ = bounding_box(mask)
    line = mask[np.arange(len(mask)), (top + bottom) // 2]
    runs = np.count_nonzero(line[:, 1:] & ~line[:, :-1], axis=1) + line[:, 0]
    return line.sum(axis=1) / np.maximum(runs, 1).astype(np.float32)


def pen_line(start, end, width, shape):
    """A pen's line from start to end, (n, 2) points (row, column), `width` (n,) pixels wide: (n, H, W)
    float32 ink, 255 within half the width of the segment, falling to 0 over the next pixel. NaN
    points draw nothing."""
    height, breadth = shape
    rows, columns = (axis.reshape(1, -1).astype(np.float32) for axis in np.mgrid[0:height, 0:breadth])  # (1, H W)
    start, end = (np.nan_to_num(point.astype(np.float32), nan=-1e3) for point in (start, end))  # NaN: far off the page
    (row, column), (down, across) = start.T[..., None], (end - start).T[..., None]  # (n, 1) each
    # Each pixel's nearest point of the segment: t along it, clipped to the segment's ends.
    t = ((rows - row) * down + (columns - column) * across) / np.maximum(down * down + across * across, 1e-6)
    np.clip(t, 0, 1, out=t)
    distance = np.hypot(rows - row - t * down, columns - column - t * across)
    ink = np.clip(width[:, None].astype(np.float32) / 2 + 1 - distance, 0, 1)
    ink *= 255
    return ink.reshape(len(start), height, breadth).astype(np.float32, copy=False)


def centre_of_mass(images):
    """images: (n, H, W) -> (n, 2) float32, each image's centre of mass (row, column) in pixels."""
    weights = images.astype(np.float32)
    mass = np.maximum(weights.sum(axis=(1, 2)), 1e-6)
    rows = weights.sum(axis=2) @ np.arange(images.shape[1], dtype=np.float32)
    columns = weights.sum(axis=1) @ np.arange(images.shape[2], dtype=np.float32)
    return np.stack([rows, columns], axis=1) / mass[:, None]


def moved(images, offsets):
    """images: (n, H, W) moved by whole pixels, offsets (n, 2) int (rows down, columns right); paper
    (0) comes in at the edges."""
    n, height, width = images.shape
    far = int(np.abs(offsets).max(initial=0))
    padded = np.pad(images, ((0, 0), (far, far), (far, far)))
    rows = np.arange(height)[None, :, None] - offsets[:, 0, None, None] + far
    columns = np.arange(width)[None, None, :] - offsets[:, 1, None, None] + far
    return padded[np.arange(n)[:, None, None], rows, columns]
