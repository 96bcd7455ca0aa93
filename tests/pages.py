"""Pictures of handwritten numbers on notebook paper, as a phone would photograph them, made from
MNIST digits: for the tests of predict.py and for bench/paper.py.

    rng = np.random.default_rng(0)
    picture = notebook_page([[seven, two], [one, nine, four]], rng, paper="squared", colour="blue")
    save(path, picture)    # (H, W, 3) float32 in [0, 1], written as the name's format says

Each digit is enlarged and made a pen stroke (its grey edge narrowed, as ink from a pen has), laid
in rows on paper that may be ruled (light blue lines and a red margin), squared (fine and bold grey
lines) or plain, in a colour of ink or pencil grey; then lit unevenly, perhaps half in a hard-edged
shadow, blurred a little and given the grain of a photo.
"""

import numpy as np
import PIL.Image

from support import framing

DIGIT_HEIGHT = 64  # pixels of the 28-pixel MNIST frame on the page: the digit itself is 20/28 of it
LINE_SPACING = 80  # between ruled lines, in pixels; squares are a quarter of it, bold lines every 4th
MARGIN = 0.85  # share of black to white of MNIST's grey edge that becomes solid pen
PAPERS = ("plain", "ruled", "squared")
# Colours as RGB in [0, 1]: the ink, the paper's tint, and the ruling.
INKS = {"black": (0.08, 0.08, 0.1), "blue": (0.1, 0.2, 0.6), "red": (0.7, 0.1, 0.12),
        "green": (0.1, 0.45, 0.2), "pencil": (0.45, 0.45, 0.47)}
TINTS = [(0.97, 0.97, 0.95), (0.96, 0.93, 0.84), (0.92, 0.95, 0.97)]
RULING = {"ruled": (0.62, 0.76, 0.93), "margin": (0.93, 0.45, 0.45), "squared": (0.7, 0.74, 0.78)}


def pen_stroke(digit, height=DIGIT_HEIGHT):
    """An MNIST digit (28, 28) uint8 -> ink (height, height) float32 in [0, 1]: enlarged, its soft
    grey edge narrowed to a pen's, as a person would write it."""
    weights = framing.resize_weights(height, digit.shape[0])
    grey = weights @ (digit.astype(np.float32) / 255) @ weights.T
    return np.clip((grey - 0.5) / (1 - MARGIN) + 0.5, 0, 1)


def digit_columns(ink):
    """The digit's own columns: ink (h, w) cropped to the columns that hold ink."""
    columns = np.flatnonzero(ink.max(axis=0) > 0)
    return ink[:, columns[0]:columns[-1] + 1]


def row_of_digits(digits, rng, gap=(8, 24)):
    """The digits (n, 28, 28) written side by side: ink (DIGIT_HEIGHT, w). Each gap between two digits
    is drawn from `gap` (low, high) pixels; negative gaps make the digits overlap that many pixels."""
    parts = [digit_columns(pen_stroke(digit)) for digit in digits]
    # An overlap is at most half the digit before it (a narrow 1 is not written inside the next digit).
    gaps = np.maximum(rng.integers(gap[0], gap[1] + 1, len(parts) - 1), [-(p.shape[1] // 2) for p in parts[:-1]])
    lefts = np.concatenate([[0], np.cumsum(np.array([p.shape[1] for p in parts[:-1]]) + gaps)]).astype(int)
    row = np.zeros((DIGIT_HEIGHT, max(left + part.shape[1] for part, left in zip(parts, lefts))), np.float32)
    for part, left in zip(parts, lefts):
        np.maximum(row[:, left:left + part.shape[1]], part, out=row[:, left:left + part.shape[1]])
    return row


def lay_out(rows, rng, margin=70):
    """Rows of ink (each (DIGIT_HEIGHT, w)) one below another on a page, each in the space between two
    ruled lines: ink (H, W) float32, with `margin` pixels or more around them."""
    width = max(row.shape[1] for row in rows) + 2 * margin + rng.integers(0, 40)
    height = LINE_SPACING * (len(rows) + 1) + 2 * margin
    page = np.zeros((height, width), np.float32)
    for i, row in enumerate(rows):
        # Each row sits on a ruled line (see paper), its digits' feet on it or a little below.
        top = margin + LINE_SPACING * (i + 1) - DIGIT_HEIGHT + 12 + rng.integers(-3, 4)
        left = margin + rng.integers(0, 20)
        page[top:top + DIGIT_HEIGHT, left:left + row.shape[1]] = row
    return page


def paper(shape, rng, kind="ruled"):
    """Notebook paper (H, W, 3) float32: tinted, and ruled (light blue lines a LINE_SPACING apart, a red
    margin), squared (fine grey lines and bold ones every fourth) or plain; the lines 1 to 2 pixels wide."""
    height, width = shape
    page = np.broadcast_to(np.array(TINTS[rng.integers(len(TINTS))], np.float32), (height, width, 3)).copy()
    rows, columns = np.arange(height), np.arange(width)
    offset = rng.integers(0, LINE_SPACING // 4)
    if kind == "ruled":
        lines = (rows - 70 - offset) % LINE_SPACING < 2
        page[lines] = page[lines] * 0.3 + 0.7 * np.array(RULING["ruled"], np.float32)
        margin = abs(columns - 40) < 1.5
        page[:, margin] = page[:, margin] * 0.2 + 0.8 * np.array(RULING["margin"], np.float32)
    elif kind == "squared":
        square = LINE_SPACING // 4
        for position, axis in ((rows, 0), (columns, 1)):
            phase = (position - offset) % square
            bold = (position - offset) % (4 * square) < 2
            strength = np.where(bold, 0.8, np.where(phase < 1, 0.45, 0))
            strength = strength[:, None, None] if axis == 0 else strength[None, :, None]
            page = page * (1 - strength) + strength * np.minimum(page, np.array(RULING["squared"], np.float32))
    return page


def write(page, ink, colour="black", rng=None):
    """The ink (H, W) written in `colour` (a name of INKS) on the page (H, W, 3): the darker of ink
    and paper, pencil a little uneven, as graphite is."""
    tone = np.array(INKS[colour], np.float32)
    strength = ink
    if colour == "pencil" and rng is not None:
        strength = ink * rng.uniform(0.7, 1.0, ink.shape).astype(np.float32)
    return page * (1 - strength[..., None]) + np.minimum(page, tone) * strength[..., None]


def photograph(picture, rng, shadow=False, light=0.25, grain=0.015):
    """The picture (H, W, 3) as a phone sees it: lit unevenly (a quarter darker on one side),
    perhaps partly under a hard-edged shadow (a straight edge across the page and, in the tests,
    the digits: everything beyond it at 55% of the light), blurred by a pixel and grainy."""
    height, width, _ = picture.shape
    y, x = np.indices((height, width)) / max(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    towards = np.cos(angle) * y + np.sin(angle) * x
    lighting = 1 - light * (towards - towards.min()) / np.ptp(towards)
    if shadow:
        # A shadow's edge through the middle of the page, at a slant.
        slope = rng.uniform(-0.5, 0.5)
        rows, columns = np.indices((height, width))
        beyond = columns - width * rng.uniform(0.4, 0.6) > slope * (rows - height / 2)
        lighting = np.where(beyond, 0.55 * lighting, lighting)
    # Each pixel the mean of itself and its neighbours above and to the left: the picture's first row
    # and column stand in for those beyond its edge (a blur that wrapped round would bring the far
    # edge's light in: a bright line along a shadow's edge of the picture, which no camera makes).
    lit = np.pad(picture * lighting[..., None], ((1, 0), (1, 0), (0, 0)), mode="edge")
    blurred = (lit[1:, 1:] + lit[:-1, 1:] + lit[1:, :-1] + lit[:-1, :-1]) / 4
    return np.clip(blurred + rng.normal(0, grain, blurred.shape), 0, 1).astype(np.float32)


def notebook_page(rows, rng, paper_kind="ruled", colour="black", gap=(8, 24), shadow=False):
    """A photo (H, W, 3) float32 of rows of MNIST digits (a list of (n, 28, 28) uint8 arrays, top to
    bottom) written in `colour` on paper of `paper_kind`, gaps between digits drawn from `gap`."""
    ink = lay_out([row_of_digits(row, rng, gap) for row in rows], rng)
    return photograph(write(paper(ink.shape, rng, paper_kind), ink, colour, rng), rng, shadow)


def askew(picture, rng, degrees=4, enlarge=3):
    """A picture (H, W, 3) in [0, 1] as a phone photographs a page held askew: `enlarge` times as
    many pixels, turned by up to `degrees` either way, the turned corners cut off (an eighth of each
    side), with the camera's grain again at its own pixels."""
    image = PIL.Image.fromarray(np.round(255 * picture).astype(np.uint8))
    image = image.resize((image.width * enlarge, image.height * enlarge), PIL.Image.Resampling.BICUBIC)
    image = image.rotate(rng.uniform(-degrees, degrees), PIL.Image.Resampling.BICUBIC)
    width, height = image.size
    image = image.crop((width // 8, height // 8, width - width // 8, height - height // 8))
    grainy = np.asarray(image, np.float32) / 255 + rng.normal(0, 0.015, (image.height, image.width, 3))
    return np.clip(grainy, 0, 1).astype(np.float32)


def save(path, picture):
    """Write an RGB picture (H, W, 3) in [0, 1]; JPEG at a phone's quality, else as the name says."""
    PIL.Image.fromarray(np.round(255 * picture).astype(np.uint8)).save(path, quality=90)
    return path


def photo_of_thing(image, rng, size=3 * DIGIT_HEIGHT):
    """A photo (H, W, 3) of an MNIST or Fashion-MNIST picture (28, 28) uint8, light on black, as a
    thing lying on plain paper: enlarged to `size` pixels, its grey levels kept, dark on the paper."""
    weights = framing.resize_weights(size, image.shape[0])
    ink = np.pad(weights @ (image.astype(np.float32) / 255) @ weights.T, size // 2)
    return photograph(write(paper(ink.shape, rng, "plain"), ink, "black"), rng)
