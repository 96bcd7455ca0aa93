#!/usr/bin/env python3
"""Recognize handwritten digits in pictures with a trained network.

    ./predict.py digit.png                            # with model.npz, from ./train.py --save model.npz
    ./predict.py --model small.npz one.jpg two.png --output predictions.png
    ./predict.py --test-index 0 7 42                  # digits of the MNIST test set, with their labels
    ./predict.py digit.png --test-index 0             # both: the pictures come before --test-index
    ./predict.py postcode.jpg                         # several digits side by side: prints the number
    ./predict.py --model fashion.npz --test-index 0   # a Fashion-MNIST network: answers with its classes
    ./predict.py --model m1.npz m2.npz m3.npz digit.png   # a committee: the mean of their probabilities

A picture may be a PNG or JPEG of any size (over 2000 pixels a side, shrunk first), in colour or
grey, dark ink on light paper or light on dark, of one digit or of a row of them. Each digit is made
to look like an MNIST digit first: paper 0, ink 1, cropped to the ink, strokes as wide as MNIST's,
scaled so that the longer side is 20 pixels, and placed in a 28 x 28 frame with its centre of mass
at the centre.

A model file says which dataset it was trained on; the answers are that dataset's classes (digits,
or Fashion-MNIST's T-shirt/top, Trouser, ...), and --test-index reads that dataset's test set. For
Fashion-MNIST, a picture shows one piece of clothing, which is made to look like its pictures: scaled
so that the longer side fills the 28 x 28 frame, and centred in it.

With several model files, trained on the same dataset, every answer comes from the mean of their
networks' probabilities (support/committee.py).
"""

import signal

from support import packages

# Ctrl-C while the libraries load: stop at once, without a traceback (main takes Ctrl-C over later).
signal.signal(signal.SIGINT, signal.SIG_DFL)
packages.require()  # before the imports that need them: one line, not a traceback, if they are missing

import argparse
import sys
from pathlib import Path

import matplotlib.patches
import numpy as np

from support import cli, committee, framing, ink, mnist, model, morphology, plots, segment

DEFAULT_PICTURE = "predict.png"  # where --show draws when there is no screen
# Pictures drawn in one figure (a page: 900 x 2200 pixels); more go on further pages, out-2.png, ...
ROWS_PER_PAGE = 10
MNIST = mnist.DATASETS["mnist"]
# Pieces of ink unlike a digit (see unlike_digits), measured against the picture's largest piece
# (the tallest digit, or the garment): its solid ink has a core of squares CORE of that side wide
# holding more than BLOB of it, once gaps CLOSING of that side wide are filled; or it encloses HOLES
# holes or more of at least HOLE of that side squared (a digit has at most 2, and a broken stroke
# may add one). Chosen on bench/paper.py's photos of training pictures: of 240 MNIST digits, 0.4% of
# the pieces have such a core and none so many holes; of 1626 digits on 400 notebook pages, 1.0%
# and 0.06%; of 413 pieces of 240 Fashion-MNIST pictures, 52% and 5%.
CORE = 0.2
CLOSING = 0.06
BLOB = 0.2
HOLES = 4
HOLE = 0.03


def preprocess(path, dataset=MNIST, network=None):
    """The picture in `path` and the digits in it, row by row from the top, each row left to right:
    (H, W) float32 grey as ink.read_image reads it (1 = white), their boxes in it (n, 4) as (top,
    left, bottom, right), the digits made MNIST-like, (n, 28, 28) float32 in [0, 1] (0 = paper,
    1 = ink), each like a row of mnist.as_inputs once reshaped, the row of each, (n,) from 0, and
    each digit's ink as found, a list of n (h, w) float32 crops.
    For a dataset (an mnist.Dataset) of other things than digits, all the ink is one thing, framed
    as the dataset frames its pictures. With a network, digits that touch are cut where it is surest
    of the parts (segment.cut_touching). Raises ink.ImageError."""
    grey = ink.read_image(path)
    picture_ink = ink.normalize(grey, strokes=framing.FRAMINGS[dataset].digits)
    if framing.FRAMINGS[dataset].digits:
        judge = None if network is None else (lambda inks: confidence(network, inks))
        boxes, inks, lines = segment.split_digits(picture_ink, judge)
    else:
        boxes, inks, lines = np.array([framing.ink_box(picture_ink)]), [picture_ink], np.zeros(1, np.int64)
    return grey, boxes, np.array([framing.frame(digit, dataset) for digit in inks]), lines, inks


def confidence(network, inks):
    """How sure the network is of each of the inks (a list of (h, w) crops) being one digit: the
    largest of its probabilities for each once framed, (n,)."""
    inputs = np.array([framing.frame(digit).reshape(-1) for digit in inks])
    return network.probabilities(inputs).max(axis=1)


def unlike_digits(inks):
    """Whether a picture's ink is unlike any digit, from its digits' inks (a list of n (h, w) crops):
    most of the ink is in pieces that are blobs (a core of squares wider than a pen's stroke, see
    morphology.core_share) or hold more holes than a digit - a garment, a smudge, a scene. The
    squares are measured against the picture's largest piece, so that a speck is no blob. (The
    network's own confidence says too little: it is sure of most clothes, and a network that knows
    nothing is unsure of every digit.)"""
    size = max(max(digit.shape) for digit in inks)
    mass = np.array([digit.sum() for digit in inks])
    blob = np.array([morphology.core_share(digit, round(CORE * size), round(CLOSING * size)) > BLOB
                     for digit in inks])
    holes = np.array([morphology.hole_count(digit, (HOLE * size) ** 2) >= HOLES for digit in inks])
    unlike = blob | holes
    return 2 * mass[unlike].sum() > mass.sum()


def describe_unlike(name, probabilities):
    """`name: no digit recognised (best guess 0, confidence 0.31)`: the network's answer for the
    first of the pieces whose (n, 10) probabilities are given."""
    best = probabilities[0].argmax()
    return f"{name}: no digit recognised (best guess {best}, confidence {probabilities[0, best]:.2f})"


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


def describe_number(name, probabilities, dataset=MNIST, lines=None):
    """`name: 90210 (confidence of each digit: 0.99, 1.00, 0.97, 1.00, 0.98)` from (n, 10)
    probabilities, one row per digit from left to right; with one digit, as describe. With the
    row of each digit, lines (n,) from 0 (default: all in one), the number of each row, top to
    bottom, separated by spaces: `page.png: 90210 5553847 (confidence of each digit: ...)`."""
    if len(probabilities) == 1:
        return describe(name, probabilities[0], dataset)
    confidences = ", ".join(f"{p:.2f}" for p in probabilities.max(axis=1))
    return f"{name}: {numbers(probabilities, lines, dataset)} (confidence of each {dataset.label_name}: {confidences})"


def numbers(probabilities, lines=None, dataset=MNIST):
    """The number of each row as text, top to bottom, separated by spaces ("90210 5553847"), from the
    (n, 10) probabilities of the digits and the row of each, lines (n,) from 0 (default: one row)."""
    lines = np.zeros(len(probabilities), np.int64) if lines is None else np.asarray(lines)
    answers = probabilities.argmax(axis=1)
    return " ".join(spell(answers[lines == line], dataset) for line in np.unique(lines))


def draw_rows(figure, rows, dataset=MNIST):
    """One row per picture: the picture with a box around each digit found and what it was read as,
    the network's 28 x 28 inputs side by side, and the ten probabilities of a single digit or the
    confidence in each digit of a number; the classes named as `dataset` names them.

    rows: (title, picture (H, W) float32 grey with 1 = white, boxes (n, 4) as (top, left, bottom,
    right) or None to draw none, digits (n, 28, 28) float32 with 1 = ink, probabilities (n, 10)) tuples.
    """
    classes, long_names = dataset.classes, dataset.label_name != "digit"
    figure.set_size_inches(9, 2.2 * len(rows))
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
    colours = ["tab:blue" if digit_class == best else "tab:gray" for digit_class in range(mnist.CLASSES)]
    bars.bar(range(mnist.CLASSES), probabilities, color=colours)
    if dataset.label_name == "digit":
        bars.set_xticks(range(mnist.CLASSES))
    else:  # names, turned upright so that ten fit
        bars.set_xticks(range(mnist.CLASSES), dataset.classes, rotation=90, fontsize=7)
    bars.set_ylim(0, 1)
    bars.set_title(f"{dataset.classes[best]} (confidence {probabilities[best]:.2f})", fontsize=9)


def draw_pages(rows, dataset, output):
    """The figure rows (as draw_rows takes them), ROWS_PER_PAGE to a figure, written to `output` and
    its further pages (plots.page_names), saying so on stderr when there are several; without
    `output`, shown on screen, or saved to DEFAULT_PICTURE and its pages when there is none."""
    pages = [rows[start:start + ROWS_PER_PAGE] for start in range(0, len(rows), ROWS_PER_PAGE)]
    figures = []
    for page in pages:
        figures.append(plots.new_figure(output))
        draw_rows(figures[-1], page, dataset)
    if output is None:
        plots.show(figures, plots.page_names(DEFAULT_PICTURE, len(pages)))
        return
    names = plots.page_names(output, len(pages))
    for figure, name in zip(figures, names):
        plots.save(figure, name)
    if len(pages) > 1:
        print(f"{len(rows)} pictures, {ROWS_PER_PAGE} a page: written to {', '.join(names)}", file=sys.stderr)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="pictures of a digit or a number (PNG, JPEG, ...)")
    parser.add_argument("--model", nargs="+", default=["model.npz"], metavar="FILE",
                        help="the trained network (default: model.npz); several: a committee, answering with the "
                             "mean of their probabilities. The first FILE is a model, and so is each after it "
                             "up to the first name that does not end in .npz: it and those after it are IMAGEs")
    parser.add_argument("--test-index", type=cli.non_negative_int, nargs="+", default=[], metavar="N",
                        help="also classify these images of the model's dataset's test set, by number from 0 "
                             "(after any IMAGEs)")
    parser.add_argument("--dataset", choices=mnist.DATASETS,
                        help="the dataset the model was trained on (default: the one its file names)")
    parser.add_argument("--data-dir", help="folder with the dataset's files (default: $MNIST_DIR, else data/, "
                                           "or data/fashion/ for Fashion-MNIST)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--output", help="draw each picture, the digits found, the network inputs and probabilities "
                                        "to this file, in the format its extension names (.png, .jpg, .pdf, .svg, "
                                        f"...), {ROWS_PER_PAGE} pictures a page: more go to further pages, the name "
                                        "with -2, -3, ... before its extension")
    shown.add_argument("--show", action="store_true",
                       help=f"draw them on screen, {ROWS_PER_PAGE} a window ({DEFAULT_PICTURE}, predict-2.png, ... "
                            "without one)")
    return parser


def split_models(args):
    """args with the names given after --model that are pictures moved to args.images: the first
    name is a model, and so is each after it that ends in .npz, up to the first that does not
    (`--model small.npz one.png` classifies one.png with small.npz, as before --model took several)."""
    count = next((i for i, path in enumerate(args.model) if i and not path.lower().endswith(".npz")), len(args.model))
    args.model, args.images = args.model[:count], args.images + args.model[count:]
    return args


def load_test_digits(parser, args):
    """The test images (N, 28, 28) uint8 and labels (N,) of args.dataset that --test-index asks for."""
    try:
        images, labels = mnist.load_split("test", args.data_dir, args.dataset)
    except mnist.MnistError as error:
        cli.fail(error)
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
            grey, boxes, digits, lines, inks = preprocess(path, dataset, network)
        except ink.ImageError as error:
            print(f"{parser.prog}: error: {path}: {error}", file=sys.stderr)
            failed = True
            continue
        probabilities = network.probabilities(digits.reshape(len(digits), -1))
        unlike = framing.FRAMINGS[dataset].digits and unlike_digits(inks)
        # Flushed so that, written to one file together, answers and errors stay in order.
        print(describe_unlike(path, probabilities) if unlike else describe_number(path, probabilities, dataset, lines),
              flush=True)
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
        digit = x.reshape(mnist.IMAGE_SIZE, mnist.IMAGE_SIZE)
        rows.append((f"test image {index}, label {name}", 1 - digit, None, digit[None], probabilities[None]))
    return rows


def header(paths, dataset):
    """The line said before the answers of the network in the model files `paths`, trained on
    `dataset` (an mnist.Dataset): what a committee is, and a dataset other than MNIST's classes; None
    for one MNIST network, which goes without saying."""
    classes = f"its classes are {', '.join(dataset.classes)}"
    if len(paths) > 1:
        trained = "" if dataset is MNIST else f"; trained on {dataset.title}, {classes}"
        return f"{committee.name(paths)}: each answer is the mean of the {len(paths)} networks' probabilities{trained}"
    return None if dataset is MNIST else f"{paths[0]} was trained on {dataset.title}: {classes}"


def main(argv=None):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = split_models(parser.parse_args(argv))
    if not args.images and not args.test_index:
        parser.error("give at least one IMAGE, or --test-index")
    problem = args.output and plots.unwritable_picture(args.output)
    if problem:  # said before any picture is read, not after
        parser.error(f"--output {args.output}: {problem}")
    try:
        network, metadata = committee.load(args.model)
    except model.ModelError as error:
        cli.fail(error)
    args.dataset = cli.model_dataset(parser, args.dataset, committee.name(args.model), metadata["dataset"])
    dataset = mnist.DATASETS[args.dataset]
    test_digits = load_test_digits(parser, args) if args.test_index else None
    line = header(args.model, dataset)
    if line:
        print(line)
    rows, failed = classify_pictures(parser, network, args.images, dataset)
    if test_digits is not None:
        rows += classify_test_digits(network, args.test_index, *test_digits, dataset)
    if rows and (args.output or args.show):
        try:
            draw_pages(rows, dataset, args.output)
        except OSError as error:
            cli.fail_to_write(error)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C ends at once
        print("predict.py: interrupted", file=sys.stderr)
        sys.exit(130)
