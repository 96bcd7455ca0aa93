"""support/ink.py: pictures read in grey and made into ink, paper 0 and ink 1, under any light. The
tests draw their own shapes and need no data."""

import matplotlib.image
import numpy as np
import PIL.Image
import pytest

from shapes import BLUE_INK, CREAM_PAPER, four, paint, seven, write_grey_png, write_huge_png, write_jpeg, write_text
from support import framing, ink

# ---------------------------------------------------------------------------------------------
# From a grey picture to ink.


def test_greyish_paper_becomes_0_and_ink_1():
    drawn = seven()
    rng = np.random.default_rng(0)
    grey = paint(drawn, paper=0.8, colour=0.2) + rng.normal(0, 0.01, drawn.shape).astype(np.float32)
    normalized = ink.normalize(grey)
    assert normalized.dtype == np.float32 and normalized.shape == drawn.shape
    assert np.all(normalized[drawn == 0] == 0)
    assert normalized[drawn == 1].min() > 0.9 and normalized.max() == 1


def test_light_ink_on_dark_paper_gives_the_same_digit():
    drawn = seven()
    grey = paint(drawn) + np.random.default_rng(1).normal(0, 0.01, drawn.shape).astype(np.float32)
    dark_on_light = framing.frame(ink.normalize(grey))
    light_on_dark = framing.frame(ink.normalize(1 - grey))
    assert np.abs(dark_on_light - light_on_dark).max() < 1e-5


def test_faint_marks_are_not_ink():
    drawn = np.pad(seven(), 40)
    grey = paint(drawn)
    grey[:, :40] -= 0.1  # a shadow along one side, far fainter than the ink
    grey[150:160, 100:160] -= 0.15  # a smudge
    normalized = ink.normalize(grey)
    assert np.array_equal(normalized > 0, drawn > 0)


@pytest.mark.parametrize("grey", [np.full((40, 50), 0.93), np.ones((5, 5)),
                                  0.8 + np.random.default_rng(2).normal(0, 0.02, (300, 400)),
                                  np.linspace(0.7, 0.9, 100)[:, None] * np.ones((100, 80))],
                         ids=["grey page", "white page", "grainy page", "shaded page"])
def test_a_page_without_ink_is_an_image_error(grey):
    with pytest.raises(ink.ImageError, match="no ink"):
        ink.normalize(grey.astype(np.float32))

@pytest.mark.parametrize("levels", [30, 60, 100])
@pytest.mark.parametrize("light", ["added", "multiplied"])
def test_paper_brightening_from_left_to_right_still_shows_the_ink(levels, light):
    drawn = four()
    ramp = np.linspace(0, levels / 255, drawn.shape[1], dtype=np.float32)
    if light == "added":  # the paper from 0.55 to 0.55 + levels / 255, the ink lifted as much
        grey = paint(drawn, paper=0.55, colour=0.15) + ramp
    else:  # a lamp: light falls on paper and ink alike, the paper from 0.6 to 0.6 + levels / 255
        grey = paint(drawn, paper=1, colour=0.15) * (0.6 + ramp)
    grey += np.random.default_rng(3).normal(0, 0.01, drawn.shape).astype(np.float32)
    normalized = ink.normalize(grey)
    assert np.array_equal(normalized > 0, drawn > 0)
    assert np.abs(framing.frame(normalized) - framing.frame(drawn)).mean() < 0.01


def test_the_paper_level_follows_light_that_changes_slowly_and_not_the_ink():
    rows, columns = np.indices((200, 300)) / 200
    light = 0.9 - 0.2 * (rows - 0.4) ** 2 - 0.1 * (columns - 1) ** 2 + 0.05 * rows * columns  # a lamp above
    drawn = np.pad(four(), ((20, 30), (100, 80)))
    level = ink.paper_level((light * (1 - 0.8 * drawn)).astype(np.float32))
    assert level.dtype == np.float32 and np.abs(level - light).max() < 1e-3

# ---------------------------------------------------------------------------------------------
# Reading files.

def write_16_bit_png(path, drawn):
    PIL.Image.fromarray(np.round(65535 * paint(drawn)).astype(np.uint16)).save(path)


def write_rgb_png(path, drawn):
    PIL.Image.fromarray(np.round(255 * paint(drawn, CREAM_PAPER, BLUE_INK)).astype(np.uint8)).save(path)


def write_transparent_png(path, drawn):
    """Black everywhere, the ink opaque and the paper transparent, as drawing programs save."""
    rgba = np.zeros(drawn.shape + (4,), np.float32)
    rgba[..., 3] = drawn
    matplotlib.image.imsave(path, rgba)


FORMATS = {
    "grey PNG": ("digit.png", write_grey_png),
    "16-bit grey PNG": ("digit.png", write_16_bit_png),
    "RGB PNG": ("digit.png", write_rgb_png),
    "RGBA PNG, transparent paper": ("digit.png", write_transparent_png),
    "JPEG": ("digit.jpg", write_jpeg),
    "JPEG named .png": ("digit.png", write_jpeg),
}


@pytest.mark.parametrize("name, write", FORMATS.values(), ids=FORMATS.keys())
def test_pictures_are_read_in_grey_and_give_the_digit(tmp_path, name, write):
    drawn = seven()
    write(tmp_path / name, drawn)
    grey = ink.read_image(tmp_path / name)
    assert grey.shape == drawn.shape and grey.dtype == np.float32
    assert grey.min() >= 0 and grey.max() <= 1
    assert grey[0, 0] > 0.5  # the paper is light, whatever its colour or transparency
    assert np.abs(framing.frame(ink.normalize(grey)) - framing.frame(drawn)).mean() < 0.02


def write_palette_png(path, drawn):
    """A picture of 256 colours or fewer, as some drawing programs save: Pillow's mode "P"."""
    PIL.Image.fromarray(np.round(255 * paint(drawn, CREAM_PAPER, BLUE_INK)).astype(np.uint8)).quantize(16).save(path)


@pytest.mark.parametrize("name, write", [*FORMATS.values(), ("digit.png", write_palette_png)],
                         ids=[*FORMATS.keys(), "palette PNG"])
def test_large_pictures_are_shrunk_first_and_give_the_same_digit(tmp_path, name, write):
    """An 8000 x 8000 photo took 13 s: everything after reading works on every pixel."""
    drawn = np.kron(seven(), np.ones((21, 21), np.float32))  # 2520 x 1890 pixels
    write(tmp_path / name, drawn)
    grey = ink.read_image(tmp_path / name)
    assert grey.shape == (1260, 945) and grey.dtype == np.float32  # shrunk by 2, to at most ink.MAX_SIDE
    assert grey.min() >= 0 and grey.max() <= 1 and grey[0, 0] > 0.5
    assert np.abs(framing.frame(ink.normalize(grey)) - framing.frame(seven())).mean() < 0.02


# EXIF orientations and how far (in quarter turns anticlockwise) the stored picture is turned from upright.
@pytest.mark.parametrize("orientation, quarter_turns", [(1, 0), (3, 2), (6, 1), (8, 3)],
                         ids=["upright", "upside down", "turned left", "turned right"])
def test_photos_are_turned_upright_as_their_exif_orientation_says(tmp_path, orientation, quarter_turns):
    drawn = seven()
    exif = PIL.Image.Exif()
    exif[0x0112] = orientation  # the EXIF Orientation tag
    stored = paint(np.rot90(drawn, quarter_turns))
    PIL.Image.fromarray(np.round(255 * stored).astype(np.uint8)).save(tmp_path / "photo.png", exif=exif)
    grey = ink.read_image(tmp_path / "photo.png")
    assert np.abs(grey - paint(drawn)).max() < 0.01


def write_truncated_png(path):
    write_grey_png(path, seven())
    path.write_bytes(path.read_bytes()[:200])


BAD_FILES = {
    "text named .png": (write_text, "not a picture"),
    "truncated PNG": (write_truncated_png, "damaged"),
    "missing": (lambda path: None, "no such file"),
    "folder": (lambda path: path.mkdir(), "cannot read"),
    "14000 x 14000 pixels": (write_huge_png, "too large"),
}


@pytest.mark.parametrize("write, complaint", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_unreadable_files_are_image_errors(tmp_path, write, complaint):
    write(tmp_path / "x.png")
    with pytest.raises(ink.ImageError, match=complaint):
        ink.read_image(tmp_path / "x.png")
