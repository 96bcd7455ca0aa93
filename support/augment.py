"""Distorted copies of training digits: small random rotations, zooms and shifts, and elastic distortions.

A digit turned by a few degrees, written a little larger or smaller, or placed a little off centre
is still the same digit, so each training round can show the network new examples. Every image
gets its own random transform, and all of them are applied at once: for each pixel of every output
image, the transform says where in its input image to look, and the four input pixels around that
point are blended (bilinear interpolation). Outside the image is paper (0).

An elastic distortion (Simard, Steinkraus and Platt, 2003) bends the strokes as a hand wobbles: each
pixel looks a little further away, by a random displacement field, smooth so that neighbouring
pixels move alike. Its random values (uniform in -1..1, one per pixel and direction) are smoothed by
a Gaussian of width sigma and multiplied by alpha (Simard's 34 and 4 move a pixel by 1.6 pixels on
average, 7 at most).

Other writers' digits differ from MNIST's in ways a turn or a bend does not give: a ballpoint's
thin lines or a marker's thick ones, a hand that slants, a scan at a few pixels enlarged, blurred.
restyle makes those, as bytes again, before each round's shuffle and shifts: the strokes widened or
narrowed (a blend towards each pixel's 3 x 3 neighbourhood's largest or smallest value), slanted
(each row moved sideways in proportion to its height) and blurred by a Gaussian, its ink levels then
made again as predict.py makes a picture's (support/ink.py): the faint fringe taken away, the rest
stretched. Slants and blurs are products with small matrices, one for each of a few levels (the
random amounts rounded to a step), so that no loop runs over images.

    x = distort(images, np.random.default_rng(0), degrees=10, zoom=0.1, shift=2)  # (N, 784) float32
    x = distort(images, np.random.default_rng(0), alpha=34, sigma=4)             # elastic only
    images = restyle(images, np.random.default_rng(0), stroke=0.5, slant=0.3, blur=1.2)  # (N, 28, 28) uint8
"""

import numpy as np

CHUNK = 4096  # images transformed at once: bounds the temporary arrays to a few tens of MB
# Slants and blurs are made for amounts rounded to these steps: a product per level, never per image.
SLANT_STEP = 0.05
BLUR_STEP = 0.1
# After a blur, ink weaker than this share of the image's strongest is taken away, as ink.normalize
# takes away marks under a fifth of the strongest strokes (its FAINT).
FAINT = 0.2
# The share of training images restyled each round: the others stay MNIST's own, as its test digits
# are, and the round's cost stays a fraction of a second.
RESTYLED = 1 / 3


def distort(images, rng, degrees=0.0, zoom=0.0, shift=0.0, out=None, alpha=0.0, sigma=0.0):
    """images: (N, H, W) uint8 -> (N, H * W) float32 in [0, 1], each image rotated about its centre by
    a random angle in [-degrees, degrees], scaled by a random factor in [1 - zoom, 1 + zoom] and moved
    by a random amount in [-shift, shift] pixels along each axis; with alpha > 0, also distorted
    elastically by a random field of displacements smoothed by sigma (elastic_fields). Written into
    `out` when given."""
    n, height, width = images.shape
    angles = np.radians(rng.uniform(-degrees, degrees, n))
    scales = rng.uniform(1 - zoom, 1 + zoom, n)
    shifts = rng.uniform(-shift, shift, (n, 2))
    out = np.empty((n, height * width), np.float32) if out is None else out
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        fields = elastic_fields(rng, len(angles[part]), height, width, alpha, sigma) if alpha else None
        out[part] = warp(images[part], angles[part], scales[part], shifts[part], fields).reshape(-1, height * width)
    out /= 255
    return out


def elastic_fields(rng, n, height, width, alpha, sigma):
    """n random displacement fields, (n, 2, H, W) float32 pixels (down, right): uniform in -1..1 at
    each pixel, smoothed by a Gaussian of standard deviation sigma (zero outside the image), times
    alpha."""
    fields = rng.random((n, 2, height, width), dtype=np.float32)
    fields *= 2
    fields -= 1
    # The 2-D Gaussian is separable: smoothing along the columns, then along the rows, is the same
    # blur. Each is a product with a (size, size) matrix whose row i holds the Gaussian centred on
    # i, for the whole batch at once.
    fields = np.matmul(gaussian_matrix(height, sigma), fields)
    fields = np.matmul(fields, gaussian_matrix(width, sigma))  # the matrix is symmetric: no transpose
    fields *= alpha
    return fields


def gaussian_matrix(size, sigma):
    """(size, size) float32: row i is a Gaussian of standard deviation sigma centred on i, cut off at
    4 sigma and summing to 1 over the whole line (inside the image, its part of that)."""
    radius = int(np.ceil(4 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    distances = np.abs(np.arange(size)[:, None] - np.arange(size)[None, :])
    weights = np.exp(-0.5 * (distances / sigma) ** 2) * (distances <= radius)
    return (weights / taps.sum()).astype(np.float32)


def warp(images, angles, scales, shifts, displacements=None):
    """images: (n, H, W) uint8; angles (radians), scales: (n,); shifts: (n, 2) pixels (down, right);
    displacements: None, or (n, 2, H, W) pixels (down, right) by which each pixel moves beside that
    -> (n, H, W) float32 on the 0..255 scale, each image transformed by its own angle, scale and shift
    (and displacement field)."""
    n, height, width = images.shape
    # Where each output pixel comes from: undo the shift, then the rotation and scale about the centre.
    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    shifts = shifts.astype(np.float32)
    y = np.arange(height, dtype=np.float32)[None, :, None] - centre_y - shifts[:, 0, None, None]
    x = np.arange(width, dtype=np.float32)[None, None, :] - centre_x - shifts[:, 1, None, None]
    cos = (np.cos(angles) / scales).astype(np.float32)[:, None, None]
    sin = (np.sin(angles) / scales).astype(np.float32)[:, None, None]
    source_y = cos * y + sin * x + centre_y
    source_x = cos * x - sin * y + centre_x
    if displacements is not None:  # a pixel moved down by d shows what was d above it
        source_y -= displacements[:, 0]
        source_x -= displacements[:, 1]
    # Paper around each image, one pixel wide above and left, two below and right (where a blend
    # weight of 0 may still name the pixel after the last): a point further out is moved onto it.
    np.clip(source_y, -1, height, out=source_y)
    np.clip(source_x, -1, width, out=source_x)
    padded = np.zeros((n, height + 3, width + 3), np.float32)
    padded[:, 1 : height + 1, 1 : width + 1] = images
    top, left = np.floor(source_y), np.floor(source_x)
    down, right = source_y - top, source_x - left  # the blend's weights, in [0, 1)
    row = width + 3
    # Flat index of the upper left of the four pixels around each source point (+1: the border).
    corner = (np.arange(n, dtype=np.int32) * ((height + 3) * row))[:, None, None]
    corner = corner + (top.astype(np.int32) + 1) * row + (left.astype(np.int32) + 1)
    padded = padded.reshape(-1)
    upper, upper_right = padded[corner], padded[corner + 1]
    lower, lower_right = padded[corner + row], padded[corner + row + 1]
    # Blend along each row, then between the two rows, in place: a + w (b - a).
    upper_right -= upper
    upper_right *= right
    upper += upper_right
    lower_right -= lower
    lower_right *= right
    lower += lower_right
    lower -= upper
    lower *= down
    upper += lower
    return upper


def restyle(images, rng, stroke=0.0, slant=0.0, blur=0.0, share=RESTYLED):
    """images: (N, H, W) uint8 -> (N, H, W) uint8, a random `share` of them as another writer and
    scanner might have made each, the others as they are: the strokes widened or narrowed by a
    random amount within +-stroke pixels on each side (at most 1), slanted by a random shear within
    +-slant (x moves right by that much for each pixel up), and blurred by a Gaussian of a random
    standard deviation within 0..blur pixels, the ink levels made again (ink_levels). What is 0 is
    left out; with all three 0, nothing is drawn from rng."""
    if not (stroke or slant or blur):
        return images
    chosen = np.flatnonzero(rng.random(len(images)) < share)
    out = images.copy()
    out[chosen] = restyled(images[chosen], rng, stroke, slant, blur)
    return out


def restyled(images, rng, stroke, slant, blur):
    """restyle's work on every one of the images (N, H, W) uint8 -> (N, H, W) uint8."""
    n = len(images)
    changes = rng.uniform(-stroke, stroke, n).astype(np.float32) if stroke else None
    shears = np.round(rng.uniform(-slant, slant, n) / SLANT_STEP) * SLANT_STEP if slant else None
    sigmas = np.round(rng.uniform(0, blur, n) / BLUR_STEP) * BLUR_STEP if blur else None
    out = images.copy()
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        x = stroke_widths(images[part], changes[part]) if stroke else images[part].astype(np.float32)
        if slant:
            x = by_levels(x, shears[part], slanted)
        if blur:
            x = ink_levels(by_levels(x, sigmas[part], gaussian_blur))
        np.rint(x, out=x)
        out[part] = np.clip(x, 0, 255)
    return out


def by_levels(images, amounts, transform):
    """images: (n, H, W) float32; amounts: (n,), a few distinct values -> the same shape, the images
    of each non-zero amount made transform(those images, amount), the others as they were."""
    out = images.copy()
    for amount in np.unique(amounts[amounts != 0]):
        chosen = np.flatnonzero(amounts == amount)
        out[chosen] = transform(images[chosen], amount)
    return out


def gaussian_blur(images, sigma):
    """images: (n, H, W) float32 -> the same, blurred by a Gaussian of standard deviation sigma
    pixels: along the columns, then along the rows (gaussian_matrix)."""
    n, height, width = images.shape
    # Two products of one tall matrix each (the Gaussian matrices are symmetric): one BLAS call
    # apiece instead of one per image.
    rows = (images.reshape(n * height, width) @ gaussian_matrix(width, sigma)).reshape(n, height, width)
    columns = rows.transpose(0, 2, 1).reshape(n * width, height) @ gaussian_matrix(height, sigma)
    return columns.reshape(n, width, height).transpose(0, 2, 1)


def slanted(images, shear):
    """images: (n, H, W) float32 -> the same, each row moved right by shear times its height above
    the centre, in pixels, blending the two nearest pixels; paper (0) comes in at the sides."""
    _, height, width = images.shape
    moves = shear * ((height - 1) / 2 - np.arange(height))
    # Row y's (W, W) matrix: output pixel j shows input pixel j - moves[y], linearly interpolated.
    sources = np.arange(width)[None, None, :] - moves[:, None, None]
    rows = np.maximum(1 - np.abs(np.arange(width)[None, :, None] - sources), 0).astype(np.float32)
    return np.matmul(images.transpose(1, 0, 2), rows).transpose(1, 0, 2)


def stroke_widths(images, changes):
    """images: (n, H, W) uint8; changes: (n,) float32 pixels within -1..1 -> (n, H, W) float32 on the
    0..255 scale, each image's strokes widened by its change on each side, or narrowed when it is
    negative: a blend, by |change|, towards the largest (smallest) value of each pixel's 3 x 3
    neighbourhood."""
    widen = (changes > 0)[:, None, None]
    target = np.where(widen, neighbourhood(images, np.maximum), neighbourhood(images, np.minimum))
    x = images.astype(np.float32)
    target = target.astype(np.float32)
    target -= x
    target *= np.abs(changes)[:, None, None]
    x += target
    return x


def neighbourhood(images, combine):
    """images: (n, H, W) -> the same shape, each pixel the `combine` (np.maximum or np.minimum) of
    the 3 x 3 square around it; beyond the border is paper (0)."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    rows = combine(combine(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])  # a square is a column swept along a row
    return combine(combine(rows[:, :, :-2], rows[:, :, 1:-1]), rows[:, :, 2:])


def ink_levels(images):
    """images: (n, H, W) float32 on the 0..255 scale -> the same, each image's ink as ink.normalize
    makes a picture's: what is under FAINT of its strongest pixel taken away, the rest stretched so
    that its mean is full ink (255), and cut off there. A blurred digit, read from a picture, is
    bolder than it is faint."""
    floors = FAINT * images.max(axis=(1, 2), keepdims=True)
    over = np.maximum(images - floors, 0)
    inked = np.maximum(np.count_nonzero(over, axis=(1, 2), keepdims=True), 1)
    means = over.sum(axis=(1, 2), keepdims=True) / inked
    over *= 255 / np.maximum(means, 1e-6)
    return np.minimum(over, 255, out=over)
