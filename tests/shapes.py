"""Ink drawn for the tests of the picture pipeline (support/ink.py, framing.py, segment.py and
predict.py), and pictures made of it: ink (H, W) float32 in [0, 1], 1 where the pen went."""

import struct
import zlib

import matplotlib.image
import numpy as np
import PIL.Image

GREYISH_PAPER, DARK_INK = 0.85, 0.1
CREAM_PAPER, BLUE_INK = (0.95, 0.9, 0.75), (0.1, 0.15, 0.55)


def ellipse(shape, centre, radii):
    """Ink of a filled ellipse in a picture of `shape`; centre and radii as (row, column)."""
    rows, columns = np.indices(shape)
    inside = ((rows - centre[0]) / radii[0]) ** 2 + ((columns - centre[1]) / radii[1]) ** 2 <= 1
    return inside.astype(np.float32)


def stroke(shape, *points, width):
    """Ink of a pen line `width` pixels wide through the (row, column) points, in a picture of `shape`."""
    pixels = np.indices(shape).reshape(2, -1).T.astype(float)
    ink = np.zeros(len(pixels), bool)
    for start, end in zip(np.array(points[:-1], float), np.array(points[1:], float)):
        along = np.clip((pixels - start) @ (end - start) / ((end - start) @ (end - start)), 0, 1)
        ink |= np.linalg.norm(pixels - start - along[:, None] * (end - start), axis=1) <= width / 2
    return ink.reshape(shape).astype(np.float32)


def seven(scale=1, width=12):
    """Ink of a seven in a picture of 120 x 90 pixels times `scale`, drawn `width` pixels wide."""
    return stroke((120 * scale, 90 * scale), *scale * np.array([(20, 15), (20, 75), (105, 35)]), width=width)


def paint(ink, paper=GREYISH_PAPER, colour=DARK_INK):
    """The picture of `ink` in `colour` on `paper`: grey (H, W) for numbers, RGB (H, W, 3) for triples."""
    paper, colour = np.asarray(paper, np.float32), np.asarray(colour, np.float32)
    return paper + (colour - paper) * (ink[..., None] if paper.ndim else ink)


def save(path, picture):
    """Write a grey (H, W) or RGB (H, W, 3) picture with values in [0, 1]; the format follows the name."""
    matplotlib.image.imsave(path, np.clip(picture, 0, 1), cmap="gray", vmin=0, vmax=1)
    return path


def four(shape=(150, 120), width=10):
    """Ink of an open four, `width` pixels wide, in a picture of 150 x 120 pixels."""
    return np.maximum(stroke(shape, (15, 70), (95, 20), (95, 100), width=width),
                      stroke(shape, (40, 75), (135, 75), width=width))



def five(width=10):
    """Ink of a five whose bar does not touch its body, in a picture of 150 x 110 pixels."""
    body = stroke((150, 110), (20, 25), (70, 20), (65, 70), (90, 90), (120, 70), (135, 40), (125, 15), width=width)
    return np.maximum(body, stroke((150, 110), (5, 40), (5, 95), width=width))


def broken_four():
    """The four with its stem broken in two below the bar."""
    ink = four()
    ink[105:115, 60:90] = 0
    return ink


def number(*inks, gaps):
    """The inks side by side, `gaps` (one fewer) columns apart."""
    parts = [inks[0]]
    for ink, gap in zip(inks[1:], gaps):
        parts += [np.zeros((ink.shape[0], gap), np.float32), ink]
    return np.hstack(parts)



def write_grey_png(path, ink):
    PIL.Image.fromarray(np.round(255 * paint(ink)).astype(np.uint8)).save(path)  # mode "L", as scanners write


def write_jpeg(path, ink):
    matplotlib.image.imsave(path, paint(ink, CREAM_PAPER, BLUE_INK), format="jpg")


def write_huge_png(path, size=14000):
    """A small PNG whose header claims size x size pixels, above Pillow's decompression-bomb limit."""
    write_grey_png(path, seven())
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", size, size)  # width and height in the IHDR chunk ...
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))  # ... and the chunk's checksum
    path.write_bytes(bytes(data))


def write_text(path):
    path.write_text("not a picture\n")

