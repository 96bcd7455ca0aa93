#!/usr/bin/env python3
"""Plot MNIST digits (or Fashion-MNIST clothes) in a grid, each titled with its label.

    ./read_display_mnist.py                          # the first ten training images, on screen
    ./read_display_mnist.py --split test --start 100 --count 20 --output digits.png
    ./read_display_mnist.py --dataset fashion --output clothes.png

At most 100 digits are drawn at once, in ten columns.
"""

from support import packages

packages.require()  # before the imports that need them: one line, not a traceback, if they are missing

import argparse
import math
import sys

from support import cli, mnist, plots

MAX_COUNT = 100  # digits in one picture: ten rows of ten, 1600 x 1800 pixels


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=mnist.DATASETS, default="mnist", help="which dataset (default: mnist)")
    parser.add_argument("--split", choices=mnist.SPLITS, default="train", help="which images (default: train)")
    parser.add_argument("--start", type=cli.non_negative_int, default=0, help="index of the first image (default: 0)")
    parser.add_argument("--count", type=cli.positive_int, default=10,
                        help=f"how many images, at most {MAX_COUNT} (default: 10)")
    parser.add_argument("--data-dir", help="folder with the dataset's files (default: $MNIST_DIR, else data/, "
                                           "or data/fashion/ for --dataset fashion)")
    parser.add_argument("--output", help="write the picture to this file instead of showing it, in the format its "
                                         "extension names (.png, .jpg, .pdf, .svg, ...)")
    return parser


def draw_digits(figure, images, labels, start, classes):
    """Draw images (N, 28, 28) uint8 in a grid of at most ten columns, each titled with its index and
    the name in `classes` of its label."""
    columns = min(len(images), 5 if len(images) <= 10 else 10)
    rows = math.ceil(len(images) / columns)
    height = 1.8 * rows
    figure.set_size_inches(1.6 * columns, height)
    # Fixed margins with room for the titles: tight_layout would take seconds for a hundred digits.
    grid = figure.add_gridspec(rows, columns, left=0.02, right=0.98, bottom=0.1 / height, top=1 - 0.3 / height,
                               hspace=0.3, wspace=0.1)
    for i, (image, label) in enumerate(zip(images, labels)):
        axes = figure.add_subplot(grid[i // columns, i % columns])
        axes.imshow(image, cmap="gray_r", vmin=0, vmax=255)
        axes.set_title(f"#{start + i}: {classes[label]}", fontsize=10)
        axes.axis("off")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = args.output and plots.unwritable_picture(args.output)
    if problem:  # said before the data is read, not after
        parser.error(f"--output {args.output}: {problem}")
    try:
        images, labels = mnist.load_split(args.split, args.data_dir, args.dataset)
    except mnist.MnistError as error:
        cli.fail(error)
    end = args.start + args.count
    if end > len(images):
        parser.error(f"--start {args.start} --count {args.count} goes past the {len(images)} {args.split} images")
    if args.count > MAX_COUNT:
        print(f"showing the first {MAX_COUNT} of the {args.count} images asked for: at most {MAX_COUNT} fit in "
              "one picture (--start chooses the first)", file=sys.stderr)
        end = args.start + MAX_COUNT
    figure = plots.new_figure(args.output)
    classes = mnist.DATASETS[args.dataset].classes
    draw_digits(figure, images[args.start:end], labels[args.start:end], args.start, classes)
    try:
        if args.output:
            plots.save(figure, args.output)
        else:
            plots.show([figure], [f"{args.dataset}-{args.split}-{args.start}.png"])
    except OSError as error:
        cli.fail_to_write(error)


if __name__ == "__main__":
    main()
