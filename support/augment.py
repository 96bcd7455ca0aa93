"""Distorted copies of training digits: small random rotations, zooms and shifts.

A digit turned by a few degrees, written a little larger or smaller, or placed a little off centre
is still the same digit, so each training round can show the network new examples. Every image
gets its own random transform, and all of them are applied at once: for each pixel of every output
image, the transform says where in its input image to look, and the four input pixels around that
point are blended (bilinear interpolation). Outside the image is paper (0).

    x = distort(images, np.random.default_rng(0), degrees=10, zoom=0.1, shift=2)  # (N, 784) float32
"""

import numpy as np

CHUNK = 4096  # images transformed at once: bounds the temporary arrays to a few tens of MB


def distort(images, rng, degrees=0.0, zoom=0.0, shift=0.0, out=None):
    """images: (N, H, W) uint8 -> (N, H * W) float32 in [0, 1], each image rotated about its centre by
    a random angle in [-degrees, degrees], scaled by a random factor in [1 - zoom, 1 + zoom] and moved
    by a random amount in [-shift, shift] pixels along each axis. Written into `out` when given."""
    n, height, width = images.shape
    angles = np.radians(rng.uniform(-degrees, degrees, n))
    scales = rng.uniform(1 - zoom, 1 + zoom, n)
    shifts = rng.uniform(-shift, shift, (n, 2))
    out = np.empty((n, height * width), np.float32) if out is None else out
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        out[part] = warp(images[part], angles[part], scales[part], shifts[part]).reshape(-1, height * width)
    out /= 255
    return out


def warp(images, angles, scales, shifts):
    """images: (n, H, W) uint8; angles (radians), scales: (n,); shifts: (n, 2) pixels (down, right)
    -> (n, H, W) float32 on the 0..255 scale, each image transformed by its own angle, scale and shift."""
    n, height, width = images.shape
    # Where each output pixel comes from: undo the shift, then the rotation and scale about the centre.
    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    shifts = shifts.astype(np.float32)
    y = np.arange(height, dtype=np.float32)[None, :, None] - centre_y - shifts[:, 0, None, None]
    x = np.arange(width, dtype=np.float32)[None, None, :] - centre_x - shifts[:, 1, None, None]
    cos = (np.cos(angles) / scales).astype(np.float32)[:, None, None]
    sin = (np.sin(angles) / scales).astype(np.float32)[:, None, None]
    # Paper around each image, one pixel wide above and left, two below and right (where a blend
    # weight of 0 may still name the pixel after the last): a point further out is moved onto it.
    source_y = np.clip(cos * y + sin * x + centre_y, -1, height)
    source_x = np.clip(cos * x - sin * y + centre_x, -1, width)
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
