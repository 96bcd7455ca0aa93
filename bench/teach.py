#!/usr/bin/env python3
"""Does teaching a network your own hand work? Before and after ./train.py --load --samples.

    python bench/teach.py                      # trains the default model first: about a minute
    python bench/teach.py --model model.npz    # or takes yours

Draws pictures of three forms of digits that MNIST's writers rarely used (tests/forms.py: flagged 1s,
barred 7s, closed 4s), 10 of each as the samples to teach, and 100 other ones of each to measure
with. Reads the new ones with the model, teaches it the samples with ./train.py's defaults
(--load MODEL --samples DIR, nothing else), and reads them again. Prints a markdown table: the share
of the new pictures of each form read right, and the MNIST test accuracy, before and after, and the
seconds the teaching took (the whole ./train.py, loading MNIST included).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import forms  # noqa: E402  (tests/forms.py, found through the path above)

import nn  # noqa: E402
from support import mnist, model, samples  # noqa: E402

TAUGHT_SEED, NEW_SEED = 1, 2  # different seeds: the pictures measured are never those taught


def train(arguments):
    """Run ./train.py with these arguments, quietly; returns the seconds it took."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "train.py"), *arguments, "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(path, new_images, new_labels, test_x, test_labels):
    """The share of new pictures of each form the model in `path` reads right, by form name, and its
    MNIST test accuracy."""
    network = model.load(path)[0]
    right = network.predict(mnist.as_inputs(new_images)) == new_labels
    shares = {form: right[new_labels == label].mean() for form, (label, _) in forms.FORMS.items()}
    return shares, nn.accuracy(network, test_x, test_labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="the model to teach (default: ./train.py's default recipe, trained now)")
    parser.add_argument("--per-form", type=int, default=10, help="samples of each form taught (default: 10)")
    parser.add_argument("--new", type=int, default=100, help="new pictures of each form measured (default: 100)")
    parser.add_argument("--keep", metavar="DIR", help="keep the samples, the new pictures and the models here")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="teach-"))
    folder.mkdir(parents=True, exist_ok=True)
    base = Path(args.model) if args.model else folder / "base.npz"
    if not args.model:
        print(f"training the default model: {train(['--save', str(base)]):.0f} s", file=sys.stderr)
    forms.write_forms(folder / "my-digits", args.per_form, TAUGHT_SEED)
    forms.write_forms(folder / "new", args.new, NEW_SEED)
    new_images, new_labels, _ = samples.read(folder / "new")
    test_images, test_labels = mnist.load_split("test")
    test_x = mnist.as_inputs(test_images)
    before = measure(base, new_images, new_labels, test_x, test_labels)
    taught = folder / "taught.npz"
    seconds = train(["--load", str(base), "--samples", str(folder / "my-digits"), "--save", str(taught)])
    after = measure(taught, new_images, new_labels, test_x, test_labels)
    print(f"taught {args.per_form} samples of each form; measured on {args.new} new pictures of each\n")
    print("| read right | before | after |\n|---|---:|---:|")
    for form in forms.FORMS:
        print(f"| {form} | {before[0][form]:.0%} | {after[0][form]:.0%} |")
    print(f"| MNIST test images | {before[1]:.2%} | {after[1]:.2%} |")
    print(f"\nteaching took {seconds:.1f} s (./train.py --load {base.name} --samples my-digits --save {taught.name})")


if __name__ == "__main__":
    main()
