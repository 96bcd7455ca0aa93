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

    x = distort(images, np.random.default_rng(0), degrees=10, zoom=0.1, shift=2)  # (N, 784) float32
    x = distort(images, np.random.default_rng(0), alpha=34, sigma=4)             # elastic only
"""

import numpy as np

CHUNK = 4096  # images transformed at once: bounds the temporary arrays to a few tens of MB


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
