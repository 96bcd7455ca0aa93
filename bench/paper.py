#!/usr/bin/env python3
"""How well predict.py reads handwriting as people write it: numbers on notebook paper, in pencil and
coloured ink, under shadows, touching, in several rows, photographed askew, and how often it says
"no digit" rightly.

    python bench/paper.py --model model.npz                    # MNIST test digits: the figures
    python bench/paper.py --model model.npz --split train      # training digits: for development

Each picture is made by tests/pages.py from MNIST digits (test or training set), for some kinds
enlarged and turned as a phone held askew photographs a page (pages.askew), saved as a JPEG
and read as predict.py reads a file. Prints a markdown table: for each kind of picture, how many,
and the share read exactly (every digit of every row, and no other). Fashion-MNIST's pictures,
photographed the same way, count as read when predict.py says there is no digit.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
import pages

import predict
from support import ink, mnist, model

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
# name: (what the pictures are, digits in each row, how they are made: pages.notebook_page's arguments)
KINDS = {
    "plain paper, single digits": ([1], dict(paper_kind="plain")),
    "plain paper, rows of 5": ([5], dict(paper_kind="plain")),
    "notebook paper, single digits": ([1], dict(paper_kind=("ruled", "squared"))),
    "notebook paper, rows of 5": ([5], dict(paper_kind=("ruled", "squared"))),
    "touching rows of 4 (1-4 MNIST px)": ([4], dict(paper_kind=("plain", "ruled"), gap=(-9, -2))),
    "several rows (5 over 7)": ([5, 7], dict(paper_kind=("ruled", "squared", "plain"))),
    "pencil and coloured ink, single": ([1], dict(paper_kind=("ruled", "squared", "plain"),
                                              colour=("pencil", "blue", "red", "green"))),
    "pencil and coloured ink, rows of 5": ([5], dict(paper_kind=("ruled", "squared", "plain"),
                                                 colour=("pencil", "blue", "red", "green"))),
    "hard shadow, single digits": ([1], dict(paper_kind=("ruled", "plain"), shadow=True)),
    "hard shadow, rows of 5": ([5], dict(paper_kind=("ruled", "plain"), shadow=True)),
    "photographed askew (up to 4°), rows of 5 over 4": ([5, 4], dict(paper_kind=("ruled", "squared"), askew=True)),
    "the same in pencil and coloured ink": ([5, 4], dict(paper_kind=("ruled", "squared"), askew=True,
                                                         colour=("pencil", "blue", "red", "green"))),
}


def read(network, path):
    """What predict.py prints for the picture after its name: the numbers, "no digit" or "no ink"."""
    try:
        _, _, digits, lines, inks = predict.preprocess(path, network=network)
    except ink.ImageError:
        return "no ink"
    probabilities = network.probabilities(digits.reshape(len(digits), -1))
    return "no digit" if predict.unlike_digits(inks) else predict.numbers(probabilities, lines)


def measure_kind(network, images, labels, counts, options, n, rng, folder):
    """How many of n pictures of this kind are read exactly, and how many are said to hold no digit."""
    right = flagged = 0
    for i in range(n):
        chosen = [rng.choice(len(images), count, replace=False) for count in counts]
        # A choice among kinds of paper or ink is made again for each picture.
        picked = {key: (value[rng.integers(len(value))] if isinstance(value, tuple) and key != "gap" else value)
                  for key, value in options.items() if key != "askew"}
        picture = pages.notebook_page([images[c] for c in chosen], rng, **picked)
        picture = pages.askew(picture, rng) if options.get("askew") else picture
        truth = " ".join("".join(map(str, labels[c])) for c in chosen)
        answer = read(network, pages.save(folder / f"page-{i}.jpg", picture))
        right += answer == truth
        flagged += answer == "no digit"
    return right, flagged, n


def measure_things(network, images, n, rng, folder):
    """How many of n photos of these pictures are answered with no digit."""
    flagged = 0
    for i, index in enumerate(rng.choice(len(images), n, replace=False)):
        flagged += read(network, pages.save(folder / f"thing-{i}.jpg", pages.photo_of_thing(images[index], rng))) \
                   == "no digit"
    return flagged, n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="model.npz")
    parser.add_argument("--split", choices=["test", "train"], default="test",
                        help="the MNIST and Fashion-MNIST pictures the digits come from (default: test)")
    parser.add_argument("--count", type=int, default=200, help="pictures of each kind (default 200)")
    parser.add_argument("--data-dir", help="MNIST's files (default: $MNIST_DIR, else data/)")
    args = parser.parse_args()
    network, _ = model.load(args.model)
    images, labels = mnist.load_split(args.split, args.data_dir)
    fashion, _ = mnist.load_split(args.split, FASHION_DIR, "fashion")
    rng = np.random.default_rng(0 if args.split == "test" else 1)
    print(f"| pictures ({args.split} digits) | read exactly |\n|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        pictures = flagged = 0
        for name, (counts, options) in KINDS.items():
            right, wrongly, n = measure_kind(network, images, labels, counts, options, args.count, rng, Path(folder))
            print(f"| {name} | {right / n:.1%} ({right} of {n}) |", flush=True)
            pictures, flagged = pictures + n, flagged + wrongly
        print(f"| the digit pictures above: no digit said (wrongly) | {flagged / pictures:.1%} ({flagged} of "
              f"{pictures}) |", flush=True)
        flagged, n = measure_things(network, fashion, args.count, rng, Path(folder))
        print(f"| Fashion-MNIST photos: no digit said | {flagged / n:.1%} ({flagged} of {n}) |", flush=True)
        flagged, n = measure_things(network, images, args.count, rng, Path(folder))
        print(f"| MNIST digit photos: no digit said (wrongly) | {flagged / n:.1%} ({flagged} of {n}) |")


if __name__ == "__main__":
    main()
