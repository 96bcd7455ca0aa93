"""A picture file made into ink: read with Pillow, turned upright, in grey, the paper's level measured
at each pixel and taken away, so that paper is 0 and ink 1 whatever their colours and the light.

    grey = read_image("digit.jpg")    # (H, W) float32 in [0, 1], 1 = white
    ink = normalize(grey)             # (H, W) float32 in [0, 1], 0 = paper, 1 = ink

Every problem with a picture raises ImageError; the caller names the file.
"""

import warnings

import numpy as np
import PIL.Image
import PIL.ImageOps

from support import ruling, segment

# How bright red, green and blue look (ITU-R BT.601 luma, as Pillow and JPEG use it).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Differences from the paper over this many times its spread (as a standard deviation) are not chance.
SPREAD_MARGIN = 6
MIN_CONTRAST = 0.1  # ink differs from paper by at least a tenth of black to white, or it is not ink
OVER_GRAIN = 2  # the strongest strokes are at least twice the threshold of what differs from the paper
RULED_LINES = 2  # lines side by side, with nothing else marked, are ruling; one alone may be a stroke
STRONGEST_PERCENTILE = 99  # the strongest strokes: the top 1% of what differs from the paper
# Marks weaker than a fifth of the strongest strokes are not strokes: that is above the shadows and
# grain of a photograph, yet keeps most of the grey edge that MNIST's strokes have.
FAINT = 0.2
# The paper's level is fitted to at most this many samples a side, first through the medians of
# BLOCKS x BLOCKS blocks, then in FIT_ROUNDS rounds, each to the samples within FIT_MARGIN times the
# paper's spread of the last fit.
FIT_SAMPLES = 100
BLOCKS = 8
FIT_ROUNDS = 8
FIT_MARGIN = 2.5
# Pictures longer than this on a side are shrunk by a whole factor to fit it before anything else is
# done with them: a digit becomes 20 x 20 pixels, so a photo's millions of pixels add nothing but time
# (an 8000 x 8000 photo took 13 s), and a few hundred pixels a digit keep its strokes and the paper's grain.
MAX_SIDE = 2000
# The paper under a shadow is measured over windows of this share of the picture's longer side: wider
# than strokes, even of a digit that fills the picture, narrower than a shadow across part of it.
SHADOW_WINDOW = 0.2
# A hard shadow (a hand's, a phone's) leaves the paper in it at about half the light; paper found
# darker than this share of the paper around it is a stroke, not paper in a shadow.
DARKEST_SHADOW = 0.3
SHADOWED = 0.25  # marks over more than this share of the picture are a shadow's edge, not ink
# Pillow modes that Image.reduce takes (it averages LA and RGBA weighted by their opacity).
REDUCIBLE = {"L", "LA", "RGB", "RGBA", "I", "F"}


class ImageError(ValueError):
    """A picture that cannot be read or holds no ink; the caller names the file."""


def read_image(path):
    """The picture in `path` in grey as stored, turned upright, shrunk to at most MAX_SIDE pixels a
    side: (H, W) float32 in [0, 1], 0 = black, 1 = white.

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
                return grey_levels(shrink(PIL.ImageOps.exif_transpose(image)))
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


def shrink(image):
    """A Pillow image, or the same shrunk by the smallest whole factor that makes it at most MAX_SIDE
    pixels on its longer side: each pixel the mean of a factor x factor block (fewer at the right and
    bottom edges), weighted by opacity, so that transparent parts stay paper."""
    factor = -(-max(image.size) // MAX_SIDE)
    if factor == 1:
        return image
    if image.mode.startswith("I;16"):
        image = image.convert("I")  # the same whole numbers, in a mode Pillow can reduce
    elif image.mode not in REDUCIBLE:  # palettes, CMYK, ...: as grey_levels would convert them
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image.reduce(factor)


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


def normalize(grey, strokes=True):
    """Ink from a grey picture: (H, W) float32 in [0, 1], 1 = white -> (H, W) float32 in [0, 1],
    0 = paper, 1 = ink, be the ink darker or lighter than the paper. Raises ImageError when there
    is no ink.

    Paper is never pure white in a scan or a photograph, nor ink pure black, so both levels are
    measured: the paper is what most of the picture is, and the ink is what differs from it by
    more than the paper's grain can explain. Light from a lamp or a window makes the paper brighter
    on one side than the other, so its level is measured at each pixel (see paper_level); for
    `strokes` (pen lines, not things as wide as the picture), again so as to follow hard-edged
    shadows (see paper_under_shadows).
    """
    level = paper_level(grey)
    difference = grey - level
    noise = max(SPREAD_MARGIN * robust_spread(difference), MIN_CONTRAST)
    marked = np.abs(difference) > noise
    # Ink is on the side of the paper most marks are on; but marks over much of the picture, or none
    # (a smooth surface halfway between the two), are the part of the page in a hard shadow or out
    # of it: a shadow falls on paper, which is lighter than the ink on it.
    light_ink = (np.count_nonzero(difference[marked] > 0) * 2 > np.count_nonzero(marked)
                 and np.count_nonzero(marked) <= SHADOWED * marked.size)
    dark_ink = not light_ink
    # With the ink's side known, the paper is measured again pixel by pixel, so that it follows the
    # hard edge of a shadow, which no smooth surface can (see paper_under_shadows). A shadow dims the
    # ink on it as much as the paper: its strokes differ from their paper less, by the paper's level
    # over that of the page, and are made as strong as the others by the `gain` of their paper.
    # (The grain is no dimmer in a shadow, so what is a mark is judged before the gain.)
    if strokes:
        facing = grey if dark_ink else 1 - grey  # the picture with its ink darker than the paper
        paper = paper_under_shadows(facing, level if dark_ink else 1 - level, noise)
        ink, gain = paper - facing, np.median(paper) / np.maximum(paper, MIN_CONTRAST)
    else:  # a thing wider than any window (a garment) is no stroke: the smooth surface it is
        ink, gain = -difference if dark_ink else difference, 1
    spread = robust_spread(ink)
    threshold = max(SPREAD_MARGIN * spread, MIN_CONTRAST)
    # Only a page of strokes is ruled paper: a garment's solid rows and columns would read as lines.
    lines = ruling.line_levels(ink, SPREAD_MARGIN * spread) if strokes else (np.zeros((len(ink), 1)),
                                                                             np.zeros((1, ink.shape[1])))
    strongest = strongest_strokes(ink, lines, threshold)
    ink = ruling.remove_ruling(ink, lines, strongest)
    floor = max(SPREAD_MARGIN * spread, FAINT * strongest)
    # Subtracting the floor, rather than cutting below it, keeps the anti-aliased edges of the
    # strokes a smooth ramp from paper to ink, as in MNIST.
    over = np.maximum(ink - floor, 0) * gain
    if not over.any():
        raise ImageError("no ink found: the picture holds only the paper's ruling")
    strength = np.median(over[over > 0])  # typical ink: the stronger half of it becomes 1
    return np.clip(over / strength, 0, 1).astype(np.float32)


def strongest_strokes(ink, lines, threshold):
    """The strength of the strongest strokes in ink (H, W): the top STRONGEST_PERCENTILE of the
    marked pixels, those over the `threshold` the paper's grain reaches, off the ruling's `lines`
    (ruling.line_levels). Raises ImageError when no mark is a stroke.

    Faint marks (shadows, grain, JPEG ringing around strokes) would stretch the bounding box over
    the page and pull the centre of mass; they are far weaker than the strongest strokes. The
    strongest, not the typical marked pixel: a shadow can mark more pixels than the ink does. Off
    the lines, which are the strongest marks of a ruled page with nothing written on it. With nothing
    off them, they are ruling when there are several side by side, else ink (a 1 cropped tightly
    marks most of its columns: one line).
    """
    # How many lines (runs of neighbouring rows, or of columns, with a line) go each way.
    ruled = max(np.count_nonzero(np.diff((profile > 0).astype(int), prepend=0) == 1)
                for profile in (lines[0][:, 0], lines[1][0]))
    marked = ink > threshold
    off_lines = marked & (lines[0] == 0) & (lines[1] == 0)
    if marked.any() and not off_lines.any() and ruled >= RULED_LINES:
        raise ImageError("no ink found: the picture holds only the paper's ruling")
    strongest = np.percentile(ink[off_lines if off_lines.any() else marked], STRONGEST_PERCENTILE) \
        if marked.any() else 0
    # The grain's strongest pixels are barely over the threshold; ink is well over it.
    if strongest < OVER_GRAIN * threshold:
        raise ImageError("no ink found: the picture holds only the paper's ruling" if ruled else
                         "no ink found: the picture is blank, or all one colour")
    return strongest


def robust_spread(difference):
    """How much the paper varies (grain, uneven light) in differences from its level (H, W): their
    median absolute value scaled to a standard deviation, which the strokes, far fewer pixels than
    the paper, barely change."""
    return 1.4826 * np.median(np.abs(difference))


def paper_under_shadows(grey, smooth, noise):
    """The paper's level at each pixel of a grey picture (H, W) with dark ink -> (H, W) float32: a
    grey closing of the picture (the brightest level within a square window SHADOW_WINDOW wide,
    then the darkest of those), less the grain that brings in; but the smooth surface `smooth`
    (H, W) (paper_level's) under dark things that do not reach the picture's edge, or that are
    darker than a shadow makes paper (DARKEST_SHADOW).

    A closing fills every dark mark narrower than its window (strokes and their crossings, ruling)
    with the paper around it, yet keeps the edge of a dark region wider than the window where it
    is: the hard edge of a shadow. The brightest of a window of grain is brighter than its middle;
    the median difference, taken over the page, says by how much. A dark region wider than the
    window that the picture's edge does not cut (the closing darker than the smooth surface by
    more than `noise` there) is no shadow, which falls from something outside the picture: it is a
    thing on the paper (a garment, a smudge), ink on the smooth paper around it.
    """
    size = max(1, round(SHADOW_WINDOW * max(grey.shape)) // 2) * 2 + 1  # odd, so that the window has a middle
    # The picture goes on beyond its edges as its edge pixels, for both steps of the closing: a shadow
    # across the edge then goes on past it as far as the windows reach, and is no narrow mark there.
    padded = np.pad(grey, size, mode="edge")
    brightest = sliding(sliding(padded, size, np.maximum, 0), size, np.maximum, 1)
    closed = sliding(sliding(brightest, size, np.minimum, 0), size, np.minimum, 1)[size:-size, size:-size]
    paper = closed + np.median(grey - closed)
    things = inside_things(paper < smooth - noise, paper < DARKEST_SHADOW * smooth, size)
    return np.where(things, smooth, paper).astype(np.float32)


def inside_things(dark, darkest, size):
    """The pixels of the regions of `dark` (H, W) bool, at least a window of `size` pixels wide, that
    do not touch the picture's edge, or that hold pixels of `darkest` (H, W) bool, darker than a
    shadow leaves paper (a stroke that the picture's edge cuts, in a digit cropped close): (H, W)
    bool. Judged on a grid of samples a tenth of a window apart (such regions are wider than that),
    so that a photo's millions of pixels cost little."""
    step = max(1, size // 10)
    labels, _ = segment.label_groups(dark[::step, ::step])
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    ink = np.unique(labels[darkest[::step, ::step] & (labels >= 0)])
    inside = (labels >= 0) & (~np.isin(labels, edge) | np.isin(labels, ink))
    rows, columns = np.arange(dark.shape[0]) // step, np.arange(dark.shape[1]) // step
    return dark & inside[rows[:, None], columns]


def sliding(grey, size, combine, axis):
    """`combine` (np.maximum or np.minimum) of each pixel's window of `size` (odd) pixels along `axis`
    of grey (H, W), its middle at the pixel, the picture's edge pixels repeated beyond it: (H, W).
    Windows of 1, 2, 4, ... pixels combine two halves each, so that a window of any size costs
    log2(size) steps."""
    line = np.moveaxis(grey, axis, 0)
    padded = np.concatenate([np.repeat(line[:1], size // 2, 0), line, np.repeat(line[-1:], size // 2, 0)])
    window, covered = padded, 1
    while 2 * covered <= size:
        window = combine(window[:-covered], window[covered:])
        covered *= 2
    # Two windows of `covered` pixels, overlapping, cover `size` pixels.
    length = line.shape[0]
    return np.moveaxis(combine(window[:length], window[size - covered:size - covered + length]), 0, axis)


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
        tiles = a[:h, :w].reshape(n_rows, h // n_rows, n_columns, w // n_columns)
        return tiles.swapaxes(1, 2).reshape(n_rows, n_columns, -1)

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
