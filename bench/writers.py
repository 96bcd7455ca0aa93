#!/usr/bin/env python3
"""How well predict.py reads digits by writers unlike MNIST's: thin and thick pens, low-resolution
scans enlarged, slanted hands, and the continental forms of 1, 4 and 7.

    python bench/writers.py --model model.npz                            # MNIST test digits: the figures
    python bench/writers.py --model dev.npz --split validation           # for development, see below
    python bench/writers.py --model model.npz --keep writers             # and keep the pictures to look at

Each picture is a page of grey paper with one digit on it, scanned: an MNIST digit enlarged as a
pen would write it (tests/pages.py), or a flagged 1, barred 7 or closed 4 drawn by tests/forms.py.
Each kind of writer changes the page: the pen thinned (a ballpoint) or thickened (a marker), the
page shrunk until the digit is 8 to 16 pixels high and enlarged back (a scan at low resolution),
the digit cut out and scanned into a 16-pixel square it fills (as USPS's and Semeion's digits
were), the hand slanted. The page is saved as a PNG and read as predict.py reads a file. Prints a markdown
table: for each kind, the share read right, and the wrong answers it gave most often.

--split validation takes the last 10,000 training digits, which ./train.py --validation 10000 holds
out: choose with those, and report with the test digits.
"""

import argparse
import collections
import sys
import tempfile
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
import forms
import pages

import predict
from support import ink, mnist, model

VALIDATION = 10000  # the last training digits, as ./train.py --validation 10000 holds them out
PEN_SIZES = (90, 130)  # pixels of the 28-pixel MNIST frame on the page: the digit is 20/28 of it
SCAN_SIZES = (8, 16)  # pixels high the digit is scanned at, at most
GRAIN = 3  # the scanner's noise, grey levels of 255 (a standard deviation)
CLOSE_SIZE = 16  # pixels a side of the square a digit cropped close is scanned into
SLANT = (0.2, 0.45)  # a slanted hand's shear: x moves right by this much of each pixel it goes up


def mnist_page(digit, rng):
    """An MNIST digit (28, 28) uint8 -> a page (forms.PAGE, forms.PAGE) uint8 grey: enlarged as a
    pen writes it (pages.pen_stroke), somewhere near the middle, dark on light paper."""
    pen = pages.pen_stroke(digit, rng.integers(*PEN_SIZES))
    ink = np.zeros((forms.PAGE, forms.PAGE), np.float32)
    top, left = rng.integers(0, forms.PAGE - len(pen), 2)
    ink[top : top + len(pen), left : left + len(pen)] = pen
    return forms.on_paper(ink, rng)


def paper_level(page):
    """The page's paper grey, 0..255: the level its brightest tenth reaches."""
    return int(np.percentile(page, 90))


def halfway(page):
    """The grey level halfway between the page's paper and its darkest ink: darker is ink."""
    return (paper_level(page) + int(page.min())) / 2


def thin_pen(page, rng):
    """The strokes narrowed by 2 or 3 pixels on each side: a ballpoint's lines."""
    return np.asarray(PIL.Image.fromarray(page).filter(PIL.ImageFilter.MaxFilter(int(rng.choice([5, 7])))))


def thick_pen(page, rng):
    """The strokes widened by 3 to 5 pixels on each side: a marker's."""
    return np.asarray(PIL.Image.fromarray(page).filter(PIL.ImageFilter.MinFilter(int(rng.choice([7, 9, 11])))))


def low_resolution(page, rng):
    """The page shrunk until the digit is SCAN_SIZES pixels high (each pixel the mean of those it
    covers, as a scanner's sensor, with its grain), then enlarged back as a viewer does: blocky, bilinear or bicubic."""
    rows = np.flatnonzero((page < halfway(page)).any(axis=1))
    scale = rng.integers(SCAN_SIZES[0], SCAN_SIZES[1] + 1) / (rows[-1] - rows[0] + 1)
    picture = PIL.Image.fromarray(page)
    small = picture.resize((max(1, round(page.shape[1] * scale)), max(1, round(page.shape[0] * scale))),
                           PIL.Image.Resampling.BOX)
    # A scanner's sensor has a grain of its own, at its own resolution.
    noisy = np.asarray(small) + rng.normal(0, GRAIN, (small.height, small.width))
    small = PIL.Image.fromarray(np.round(np.clip(noisy, 0, 255)).astype(np.uint8))
    enlarge = rng.choice([PIL.Image.Resampling.NEAREST, PIL.Image.Resampling.BILINEAR, PIL.Image.Resampling.BICUBIC])
    return np.asarray(small.resize(picture.size, enlarge))


def cropped_close(page, rng):
    """The page cut to the digit's box, scanned into a square of CLOSE_SIZE pixels that the digit
    fills on its longer side (as USPS's and Semeion's digits were), half of them made black and
    white, and enlarged to the page's size as a viewer does."""
    threshold = halfway(page)
    dark = page < threshold
    rows, columns = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    digit = PIL.Image.fromarray(page[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1])
    scale = CLOSE_SIZE / max(digit.size)
    small = digit.resize((max(1, round(digit.width * scale)), max(1, round(digit.height * scale))),
                         PIL.Image.Resampling.BOX)
    square = PIL.Image.new("L", (CLOSE_SIZE, CLOSE_SIZE), paper_level(page))
    square.paste(small, ((CLOSE_SIZE - small.width) // 2, (CLOSE_SIZE - small.height) // 2))
    if rng.random() < 0.5:
        square = square.point(lambda level: 255 if level > threshold else 0)
    enlarge = rng.choice([PIL.Image.Resampling.NEAREST, PIL.Image.Resampling.BILINEAR, PIL.Image.Resampling.BICUBIC])
    return np.asarray(square.resize((page.shape[1], page.shape[0]), enlarge))


def slanted(page, rng):
    """The hand slanted forwards: each row moved right by SLANT of its height above the middle."""
    shear = rng.uniform(*SLANT)
    height, width = page.shape
    # PIL's affine map gives, for each output pixel (x, y), the input pixel it shows.
    transform = (1, shear, -shear * height / 2, 0, 1, 0)
    return np.asarray(PIL.Image.fromarray(page).transform((width, height), PIL.Image.Transform.AFFINE, transform,
                                                          PIL.Image.Resampling.BILINEAR, fillcolor=paper_level(page)))


def other_writer(page, rng):
    """Any of the writers above together: each pen, slant and scan with a chance of one half."""
    pen = rng.integers(3)
    page = thin_pen(page, rng) if pen == 1 else thick_pen(page, rng) if pen == 2 else page
    page = slanted(page, rng) if rng.random() < 0.5 else page
    return low_resolution(page, rng) if rng.random() < 0.5 else page


def read(network, path):
    """The digits predict.py reads in the picture at `path`, as text ("7"), or "no ink". Unlike
    bench/paper.py, it never answers "no digit": what is measured here is the reading of digits."""
    try:
        _, _, digits, lines, _ = predict.preprocess(path, network=network)
    except ink.ImageError:
        return "no ink"
    return predict.numbers(network.probabilities(digits.reshape(len(digits), -1)), lines)


def unchanged(page, rng):
    return page


# name: (what the digit is: "mnist", a form of forms.FORMS, "forms" (any of them) or "any" (any of
# all), what the writer does to the page)
KINDS = {
    "MNIST's digits": ("mnist", unchanged),
    "thin pen (ballpoint)": ("mnist", thin_pen),
    "thick pen (marker)": ("mnist", thick_pen),
    "scanned at 8-16 px, enlarged": ("mnist", low_resolution),
    "slanted": ("mnist", slanted),
    "flagged 1s": ("flagged-1", unchanged),
    "barred 7s": ("barred-7", unchanged),
    "closed 4s": ("closed-4", unchanged),
    "flagged 1s, scanned at 8-16 px": ("flagged-1", low_resolution),
    "barred 7s, scanned at 8-16 px": ("barred-7", low_resolution),
    "closed 4s, scanned at 8-16 px": ("closed-4", low_resolution),
    "any of these, mixed": ("any", other_writer),
    "MNIST's digits cropped close, scanned at 16 px": ("mnist", cropped_close),
    "the three forms cropped close, scanned at 16 px": ("forms", cropped_close),
}


def page_of(source, images, labels, rng):
    """A page (PAGE, PAGE) uint8 of a digit from `source` (see KINDS) and its label: a random one of
    the MNIST images (N, 28, 28) with their labels (N,), or a drawing of the form. "any" chooses an
    MNIST digit three times in four, else a form; "forms" any of the forms."""
    if source == "any":
        source = "mnist" if rng.random() < 0.75 else "forms"
    if source == "forms":
        source = list(forms.FORMS)[rng.integers(len(forms.FORMS))]
    if source == "mnist":
        index = rng.integers(len(images))
        return mnist_page(images[index], rng), labels[index]
    return forms.render(source, rng), forms.FORMS[source][0]


def measure_kind(network, kind, images, labels, n, rng, folder):
    """How many of n pictures of this kind are read right, and a Counter of the wrong answers."""
    source, writer = KINDS[kind]
    right, wrong = 0, collections.Counter()
    for i in range(n):
        page, label = page_of(source, images, labels, rng)
        path = folder / f"{i}-{label}.png"
        PIL.Image.fromarray(writer(page, rng)).save(path)
        answer = read(network, path)
        right += answer == str(label)
        wrong.update([f"{label} as {answer}"] if answer != str(label) else [])
    return right, wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="model.npz")
    parser.add_argument("--split", choices=["test", "validation"], default="test",
                        help="the MNIST digits: the test set, or the last 10,000 training digits (default: test)")
    parser.add_argument("--count", type=int, default=100, help="pictures of each kind (default 100)")
    parser.add_argument("--keep", metavar="DIR", help="keep the pictures here, a folder per kind")
    parser.add_argument("--data-dir", help="MNIST's files (default: $MNIST_DIR, else data/)")
    args = parser.parse_args()
    network, _ = model.load(args.model)
    images, labels = mnist.load_split("test" if args.split == "test" else "train", args.data_dir)
    if args.split == "validation":
        images, labels = images[-VALIDATION:], labels[-VALIDATION:]
    rng = np.random.default_rng(0 if args.split == "test" else 1)
    print(f"| pictures ({args.split} digits) | read right | most often read wrong |\n|---|---:|---|")
    with tempfile.TemporaryDirectory() as temporary:
        for i, kind in enumerate(KINDS):
            folder = Path(args.keep or temporary) / str(i)
            folder.mkdir(parents=True, exist_ok=True)
            right, wrong = measure_kind(network, kind, images, labels, args.count, rng, folder)
            mistakes = ", ".join(f"{answer} ({count})" for answer, count in wrong.most_common(3))
            print(f"| {kind} | {right / args.count:.1%} | {mistakes} |", flush=True)


if __name__ == "__main__":
    main()
