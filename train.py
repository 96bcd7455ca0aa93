#!/usr/bin/env python3
"""Train a neural network on MNIST (or Fashion-MNIST) and report how many test images it recognizes.

    ./train.py                                 # the default recipe, quick: about 99.4% in half a minute
    ./train.py --recipe fast                   # 99% in about ten seconds
    ./train.py --recipe mlp --epochs 5         # a recipe, with one of its flags changed
    ./train.py --hidden 128 --activation sigmoid --epochs 10 --lr 0.5 --optimizer sgd
    ./train.py --dataset fashion               # Fashion-MNIST's pictures of clothes
    ./train.py --load model.npz --samples my-digits --save model.npz   # teach it your own hand: seconds
    ./train.py --load m1.npz m2.npz m3.npz     # their committee's test accuracy: the mean of their probabilities
"""

import signal

from support import packages

# Ctrl-C while the libraries load: stop at once, without a traceback (main takes Ctrl-C over later).
signal.signal(signal.SIGINT, signal.SIG_DFL)
packages.require()  # before the imports that need them: one line, not a traceback, if they are missing

import argparse
import dataclasses
import datetime
import os
import shlex
import sys
import time

import numpy as np

import nn
from support import checkpoint, cli, committee, mnist, model, parallel, report, samples, training

DEFAULT_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.002}


@dataclasses.dataclass(frozen=True)
class Flags:
    """What a run is: the value of every flag once the recipe's and the defaults are filled in. Made
    once, by new_flags or resumed_flags, and never changed. The values here are the defaults, for the
    flags that neither the command line nor the recipe gives; lists of numbers are tuples, and None
    means "not given" (with --load, the layer flags are None: the network is the file's; --load
    holds one file's name, or several: a committee, only evaluated)."""

    recipe: str = "quick"
    # The network's layers (ARCHITECTURE).
    conv: tuple = ()
    kernel: tuple = (3,)  # one size for every convolutional block, or one per block
    pool: tuple = (2,)  # likewise
    stride: tuple = (1,)  # likewise
    padding: str = "valid"
    hidden: tuple = (512,)
    dropout: float = 0.0
    batch_norm: bool = False
    activation: str = "relu"
    loss: str = "cross-entropy"
    init: str = "scaled"
    init_scale: float = 1.0
    # How it learns.
    optimizer: str = "adam"
    betas: tuple = (0.9, 0.999)  # Adam's decay rates of its running means of the gradient and its square
    epochs: int = 20  # 0 with --load
    batch_size: int = 256
    lr_schedule: str = "cosine"
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    ema: float = 0.0  # the decay of the moving average of the weights; 0: none
    seed: int = 1
    # From what.
    dataset: str = "mnist"  # with --load, the one the network was trained on
    data_dir: str = None
    limit: int = None
    shift: int = 1
    rotate: float = 0.0
    zoom: float = 0.0
    elastic: tuple = ()  # (alpha, sigma), or none
    stroke: float = 0.0
    slant: float = 0.0
    blur: float = 0.0
    continental: float = 0.0
    validation: int = 0
    samples: str = None  # a folder of your own pictures, one folder per label (support/samples.py)
    sample_share: float = 0.2  # with --samples, of the training images of each label that has samples
    # Files.
    load: tuple = None
    save: str = None
    plot_dir: str = None
    checkpoint: str = None
    quiet: bool = False
    # Never None in a run: when not given, the optimizer's rate (DEFAULT_LEARNING_RATES), and the
    # count parallel.choose_threads picks at the start.
    lr: float = None
    threads: int = None


ARCHITECTURE = ("conv", "kernel", "pool", "stride", "padding", "hidden", "dropout", "batch_norm", "activation", "loss",
                "init", "init_scale")
# With --load and --samples, teaching a trained network your own hand: a few short rounds over the
# samples (each copy distorted, samples.mix) and a tenth of MNIST's training images, so that it keeps
# what it knew, at a tenth of the optimizer's usual rate, towards the samples' labels outright (label
# smoothing held new forms back: 53% of new flagged 1s read right without it, 43% with 0.1).
TEACHING = {"epochs": 3, "limit": 6000, "label_smoothing": 0.0}
TEACHING_RATE = 0.1  # times DEFAULT_LEARNING_RATES
RESUMABLE = ("data_dir", "threads", "save", "plot_dir", "quiet")  # the flags --resume takes beside its own
# Named bundles of flags. A run starts from its recipe's flags; the flags given on the command line
# override them. The original-* recipes are the original project's steps, reconstructed from what
# it printed (README: "The journey, reproduced"): their flags were chosen to land on the original's
# own figures.
ORIGINAL_16_16 = {"hidden": (16, 16), "activation": "sigmoid", "loss": "mse", "init": "plain", "init_scale": 0.1,
                  "optimizer": "sgd", "lr": 0.015, "lr_schedule": "constant", "batch_size": 1000, "shift": 0}
# Two small convolutional networks, after tuomaso/train_mnist_fast's: 2 x 2 pooling before the ReLU
# (conv.Conv2D pools first), Adam with short memories (betas 0.7 and 0.9: the gradients change fast in
# so short a run), a warm-up at the start. fast: one round, 99% in about ten seconds; quick, the
# default: three rounds of images moved by a pixel, 99.4% in half a minute (README: "The default
# recipe" tells how they were chosen).
SMALL_CNN = {"conv": (24, 32), "kernel": (5, 3), "pool": (2,), "hidden": (256,), "activation": "relu",
             "label_smoothing": 0.1, "optimizer": "adam", "betas": (0.7, 0.9), "lr": 0.01, "lr_schedule": "one-cycle",
             "batch_size": 256}
# A larger network, trained longer on moved, turned and scaled digits; best: a third block, the images
# kept at their size by zeros around them until the pooling halves them (28 -> 14 -> 7 -> 3), and
# batch normalisation (README: "The best recipe" tells how it was chosen).
CNN = {"conv": (32, 64), "kernel": (3,), "hidden": (256,), "dropout": 0.4, "activation": "relu", "optimizer": "adam",
       "lr_schedule": "cosine", "batch_size": 128, "shift": 2, "rotate": 10.0, "zoom": 0.1, "epochs": 15}
RECIPES = {
    "quick": {**SMALL_CNN, "shift": 1, "epochs": 3},
    "fast": {**SMALL_CNN, "shift": 0, "epochs": 1},
    "mlp": {"hidden": (512,), "activation": "relu", "optimizer": "adam", "lr_schedule": "cosine", "batch_size": 256,
            "shift": 1, "epochs": 20},
    "cnn": CNN,
    "best": {**CNN, "conv": (32, 64, 128), "padding": "same", "batch_norm": True, "label_smoothing": 0.1, "epochs": 30},
    "original-random": {**ORIGINAL_16_16, "epochs": 0},
    "original-16-16": {**ORIGINAL_16_16, "epochs": 100},
    "original-128": {"hidden": (128,), "activation": "sigmoid", "loss": "mse", "init": "plain", "optimizer": "sgd",
                     "lr": 0.5, "lr_schedule": "constant", "batch_size": 1000, "shift": 0, "epochs": 100},
    "original-relu": {"hidden": (128,), "activation": "relu", "loss": "mse-relu", "init": "plain", "init_scale": 0.1,
                      "optimizer": "sgd", "lr": 0.02, "lr_schedule": "linear", "batch_size": 1000, "shift": 0,
                      "epochs": 100},
}


def flag(name):
    """The command-line flag of a field of Flags: "batch_size" -> "--batch-size"."""
    return "--" + name.replace("_", "-")


def flag_words(name, value):
    """A flag and its value as command-line words: ("hidden", (16, 16)) -> ["--hidden", "16", "16"],
    ("quiet", True) -> ["--quiet"], ("lr", 0.002) -> ["--lr", "0.002"]."""
    if value is True:
        return [flag(name)]
    if isinstance(value, tuple):
        return [flag(name), *map(str, value)]
    if isinstance(value, float):  # as short as it reads back the same
        return [flag(name), f"{value:g}" if float(f"{value:g}") == value else repr(value)]
    return [flag(name), str(value)]


def recipe_words(values):
    """A dict of flag values as command-line words, in its order."""
    return [word for name, value in values.items() for word in flag_words(name, value)]


def command_line(flags):
    """The command line that repeats the run of `flags`, as train.py prints it after "flags:": the
    recipe, its flags with the run's values, then the other flags whose values are not the defaults,
    --lr and --threads last."""
    recipe, last = RECIPES[flags.recipe], ("lr", "threads")
    names = [name for name in recipe if name not in last]
    names += [field.name for field in dataclasses.fields(Flags) if field.name not in (*names, "recipe", *last)]
    values = {name: getattr(flags, name) for name in [*names, *last]}
    inapplicable = {"betas": flags.optimizer != "adam", "label_smoothing": flags.loss not in ("cross-entropy", None)}
    shown = {name: value for name, value in values.items()
             if value is not None and (name in recipe or value != getattr(Flags, name))
             and not inapplicable.get(name)}
    return shlex.join(["--recipe", flags.recipe, *recipe_words(shown)])


def build_parser():
    """The command line's flags. Their values default to nothing (argparse.SUPPRESS), so that the
    namespace holds only those given: the recipe's and Flags' defaults fill in the others."""
    width = max(map(len, RECIPES))
    recipes = "\n".join(f"  {name:<{width}}  {shlex.join(recipe_words(values))}" for name, values in RECIPES.items())
    epilog = f"recipes (--recipe NAME; flags given explicitly override them):\n{recipes}"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=epilog, argument_default=argparse.SUPPRESS,
                                     allow_abbrev=False)  # a recipe's flags are overridden by name, never by prefix
    add = parser.add_argument
    add("--recipe", choices=RECIPES, help=f"start from this recipe's flags, listed below (default: {Flags.recipe})")
    add("--conv", type=cli.positive_int, nargs="*", metavar="C",
        help="convolutional blocks, one per C: C filters of K x K, ReLU (--activation), 2 x 2 max-pooling")
    add("--kernel", type=cli.positive_int, nargs="+", metavar="K",
        help="the filters' size: one for every block, or one per --conv entry (default: 3)")
    add("--pool", type=cli.positive_int, nargs="+", metavar="P",
        help="P x P max-pooling after the convolution, 1: none; one for every block, or one per --conv entry "
             "(default: 2)")
    add("--stride", type=cli.positive_int, nargs="+", metavar="S",
        help="the filters' step: S = 2 computes every second window only, halving the image as pooling does; "
             "one for every block, or one per --conv entry (default: 1)")
    add("--padding", choices=("valid", "same"),
        help="valid: no padding, each convolution shrinks the image by K - 1; same: zeros around it keep its size")
    add("--hidden", type=cli.positive_int, nargs="*", metavar="N",
        help="sizes of the dense hidden layers (default: 512); --hidden alone: no hidden layer")
    add("--dropout", type=cli.probability, metavar="P",
        help="in training, drop each input of a dense layer with probability P (default: 0)")
    add("--batch-norm", action="store_true",
        help="normalise each convolutional block's and hidden layer's outputs over the batch, before the activation "
             "(statistics of the batch in training, running ones in use)")
    add("--activation", choices=[name for name in nn.ACTIVATIONS if name != "identity"],
        help=f"activation of the hidden layers (default: {Flags.activation})")
    add("--loss", choices=nn.LOSSES,
        help="cross-entropy: softmax outputs; mse: the original's sigmoid outputs, quadratic cost; "
             "mse-relu: ReLU outputs, quadratic cost")
    add("--init", choices=nn.INITIALIZATIONS,
        help="scaled: He (ReLU) or Glorot (others); plain: the original's uniform in [-0.5, 0.5]")
    add("--init-scale", type=cli.positive_float, help="multiply the initial weights by this (default: 1)")
    add("--optimizer", choices=DEFAULT_LEARNING_RATES, help=f"(default: {Flags.optimizer})")
    add("--betas", type=cli.probability, nargs=2, metavar=("B1", "B2"),
        help="Adam's decay rates for its running means of the gradients and of their squares (default: 0.9 0.999)")
    add("--epochs", type=cli.non_negative_int,
        help=f"training rounds over the data (default: {Flags.epochs}, or 0 with --load: evaluate only)")
    add("--batch-size", type=cli.non_negative_int,
        help=f"images per gradient step; 0: the whole training set, as the original (default: {Flags.batch_size})")
    add("--lr", type=cli.positive_float, help="learning rate (default: " +
        ", ".join(f"{rate} for {name}" for name, rate in DEFAULT_LEARNING_RATES.items()) + ")")
    add("--lr-schedule", choices=nn.SCHEDULES,
        help="how the rate changes over training; linear and cosine end at 1%% of it, one-cycle rises from 4%% "
             "over the first quarter, then falls as cosine (default: cosine)")
    add("--weight-decay", type=cli.non_negative_float, help="L2 penalty on the weights (default: 0)")
    add("--label-smoothing", type=cli.probability, metavar="E",
        help="learn from targets (1 - E) one-hot + E / classes instead of one-hot ones (cross-entropy only; "
             "default: 0)")
    add("--ema", type=cli.probability, metavar="DECAY",
        help="measure, keep and save the moving average of the weights, each step weighing DECAY times the one "
             "after it, e.g. 0.999 (default: 0, the weights themselves)")
    add("--seed", type=cli.non_negative_int, help="random seed: the same seed gives the same run (default: 1)")
    add("--dataset", choices=mnist.DATASETS,
        help="which dataset to train on (default: mnist; with --load, the one the network was trained on)")
    add("--data-dir", help="folder with the dataset's files (default: $MNIST_DIR, else data/, "
                           "or data/fashion/ for --dataset fashion)")
    add("--limit", type=cli.positive_int, help="train on the first N training images only")
    add("--shift", type=cli.non_negative_int,
        help=f"move each training image by up to N pixels at random, anew each round (default: {Flags.shift}; 0: off)")
    add("--rotate", type=cli.non_negative_float, metavar="DEGREES",
        help="also turn each training image by up to this many degrees at random, anew each round (default: 0)")
    add("--zoom", type=cli.probability, metavar="FRACTION",
        help="also scale each training image by a random factor within 1 +- FRACTION, anew each round (default: 0)")
    add("--elastic", type=cli.positive_float, nargs=2, metavar=("ALPHA", "SIGMA"),
        help="also bend each training image elastically, anew each round: random displacements smoothed by a "
             "Gaussian of SIGMA pixels, times ALPHA (Simard et al. 2003: 34 4; default: none)")
    add("--stroke", type=cli.probability, metavar="PIXELS",
        help="also widen or narrow the strokes of a third of the training images, anew each round, by up to this "
             "many pixels on each side (at most 1: a marker's or a ballpoint's lines; default: 0)")
    add("--slant", type=cli.non_negative_float, metavar="SHEAR",
        help="also slant a third of the training images, anew each round, by a random shear within +-SHEAR "
             "(0.3: the top row moves 4 pixels; default: 0)")
    add("--blur", type=cli.non_negative_float, metavar="SIGMA",
        help="also blur a third of the training images, anew each round, by a Gaussian of up to SIGMA pixels, "
             "their ink levels made again as predict.py makes a picture's (1.2: a digit scanned 8 pixels high, "
             "enlarged; default: 0)")
    add("--continental", type=cli.probability, metavar="FRACTION",
        help="also draw this share of the training 1s, 7s and 4s, anew each round, in the forms MNIST's American "
             "writers seldom used: a 1 with a flag (and a base), a barred 7, a 4 closed at the top (default: 0)")
    add("--validation", type=cli.non_negative_int,
        help="hold out the last N training images, report them each round and keep the best round")
    add("--samples", metavar="DIR",
        help="also learn from your own pictures: DIR/7/ holds pictures of 7s, and so on (any picture predict.py "
             "reads). With --load: a few short rounds that teach the network your hand (defaults: "
             + shlex.join(recipe_words(TEACHING)) + f", --lr {TEACHING_RATE:g} of the optimizer's usual rate)")
    add("--sample-share", type=cli.probability, metavar="FRACTION",
        help="with --samples, the share of the training images of each label you gave samples of that are your "
             f"samples, each repeated and distorted as often as that takes (default: {Flags.sample_share:g}; the "
             "rest are the dataset's)")
    add("--save", metavar="FILE.npz", help="write the trained network to this file")
    add("--load", nargs="+", metavar="FILE.npz",
        help="start from a saved network, with its own layers (the layer flags cannot be given with it); "
             "several: evaluate their committee, which answers with the mean of their probabilities")
    add("--plot-dir", metavar="DIR", help="write pictures of training and of the results into DIR")
    add("--checkpoint", metavar="FILE.npz",
        help="after every round, write the whole state of the run to this file, for --resume")
    add("--resume", metavar="FILE.npz",
        help=f"go on with the run in this checkpoint, with its own flags (only {', '.join(map(flag, RESUMABLE))} "
             "may be given)")
    add("--threads", type=cli.positive_int, metavar="N",
        help="train on N threads (default: a count chosen at the start from how busy the machine is, shown in "
             "the flags line). The same seed and N give the same numbers; a CNN's do not depend on N")
    add("--quiet", action="store_true", help="print only the final accuracy")
    return parser


def given_flags(parser, argv=None):
    """The flags given on the command line `argv` (default: sys.argv's), by name: lists as tuples."""
    given = vars(parser.parse_args(argv))
    return {name: tuple(value) if isinstance(value, list) else value for name, value in given.items()}


def new_flags(parser, given, loaded=None):
    """The Flags of a new run: the flags `given` (given_flags), over their recipe's, over the defaults.
    With --load, `loaded` is the (network, metadata) of its file; the layer flags cannot apply, and
    the run only evaluates the network unless --epochs is given. With several --load files, `loaded`
    holds their committee (committee.load), which is only evaluated."""
    recipe = RECIPES[given.get("recipe", Flags.recipe)]
    values = {**recipe, **given}
    for name in ("kernel", "pool"):  # the recipe's sizes per block are for its own blocks
        if "conv" in given and name not in given and len(values.get(name, ())) not in (1, len(given["conv"])):
            values[name] = getattr(Flags, name)
    if values.get("optimizer", Flags.optimizer) != recipe.get("optimizer", Flags.optimizer):
        for name in ("lr", "betas"):  # the recipe's, chosen for its own optimizer
            if name not in given:
                values.pop(name, None)
    if "load" in given:
        loaded_name = committee.name(given["load"])
        refused = [flag(name) for name in ARCHITECTURE if name in given]
        if refused:
            cli.fail(f"{', '.join(refused)} cannot apply with --load: the network in {loaded_name} keeps its own "
                     "layers (leave out the layer flags)", status=2)
        check_committee(given)
        values.update(dict.fromkeys(ARCHITECTURE), epochs=given.get("epochs", 0),
                      dataset=cli.model_dataset(parser, given.get("dataset"), loaded_name, loaded[1]["dataset"]))
    check_samples(given)
    if given.get("continental") and values.get("dataset", Flags.dataset) != "mnist":
        cli.fail(f"--continental draws forms of the digits 1, 4 and 7: it cannot apply to --dataset "
                 f"{values['dataset']}", status=2)
    if "betas" in given and values.get("optimizer", Flags.optimizer) != "adam":
        cli.fail(f"--betas are Adam's: they cannot apply to --optimizer {values['optimizer']}", status=2)
    loss = getattr(loaded[0], "loss", None) if loaded else values.get("loss", Flags.loss)  # a committee has none
    if "label_smoothing" in given and loss != "cross-entropy":
        cli.fail(f"--label-smoothing smooths the cross-entropy's targets; the loss is {loss} "
                 "(leave out --label-smoothing, or use --loss cross-entropy)", status=2)
    if loss != "cross-entropy":
        values.pop("label_smoothing", None)  # the recipe's, for its cross-entropy
    rate = DEFAULT_LEARNING_RATES[values.get("optimizer", Flags.optimizer)]
    if "load" in given and "samples" in given:
        values.update({name: value for name, value in TEACHING.items() if name not in given})
        values["lr"] = given.get("lr", rate * TEACHING_RATE)  # not the recipe's rate, made for a new network
    values.setdefault("lr", rate)
    if loaded:
        networks = loaded[0].members if isinstance(loaded[0], committee.Committee) else [loaded[0]]
        convolutional = any(map(parallel.is_convolutional, networks))
    else:
        convolutional = bool(values.get("conv"))
    values.setdefault("threads", parallel.choose_threads(convolutional))
    return Flags(**values)


def check_committee(given):
    """Refuse, with several --load files, the flags that would train or save: a committee is only
    evaluated (training takes one model)."""
    if len(given["load"]) == 1:
        return
    refused = [flag(name) for name in ("samples", "save", "checkpoint") if name in given]
    if given.get("epochs"):
        refused.insert(0, f"--epochs {given['epochs']}")
    if refused:
        cli.fail(f"{', '.join(refused)}: training takes one model, and {len(given['load'])} were given to --load, "
                 "whose committee train.py only evaluates (give one --load file)", status=2)


def check_samples(given):
    """Refuse --samples with --checkpoint (a checkpoint would depend on a folder that can change
    before --resume; teaching takes seconds), and --sample-share without --samples."""
    if "samples" in given and "checkpoint" in given:
        cli.fail("--samples cannot be used with --checkpoint: a checkpoint holds the run, not your samples folder, "
                 "which may change before --resume (leave out --checkpoint)", status=2)
    if "sample_share" in given and "samples" not in given:
        cli.fail("--sample-share is the share of --samples in training: give --samples DIR with it", status=2)


def resumed_flags(given, saved):
    """The Flags of the run in checkpoint `saved` (checkpoint.load), with those of RESUMABLE that are
    `given` now: the run goes on writing its checkpoint into the file it resumes from."""
    values = {name: tuple(value) if isinstance(value, list) else value for name, value in saved.flags.items()}
    if isinstance(values.get("kernel"), int):  # checkpoints from before one kernel size per block
        values["kernel"] = (values["kernel"],)
    values.update({"quiet": False, **given, "checkpoint": given["resume"]})
    del values["resume"]
    try:
        return Flags(**values)
    except TypeError as error:  # a name Flags does not have
        cli.fail(f"{saved.path}: a damaged checkpoint, or one from another version (its flags: {error})")


def check_resumable(given):
    """Refuse flags that --resume cannot take: the run goes on with its own."""
    refused = sorted(flag(name) for name in set(given) - {"resume", *RESUMABLE})
    if refused:
        cli.fail(f"--resume goes on with the run's own flags; {', '.join(refused)} cannot change them "
                 f"(only {', '.join(map(flag, RESUMABLE))} may be given)", status=2)


def read(load, path):
    """load(path), model.load or checkpoint.load; a file it cannot read ends the program in one line."""
    try:
        return load(path)
    except model.ModelError as error:
        cli.fail(error)


def load_data(flags):
    """The images and labels as the flags ask, a training.Data: with --samples, the training images
    mixed with the samples (samples.mix)."""
    sample_images, sample_labels = read_samples(flags) if flags.samples else (None, None)
    try:
        train_images, train_labels = mnist.load_split("train", flags.data_dir, flags.dataset)
        test_images, test_labels = mnist.load_split("test", flags.data_dir, flags.dataset)
    except mnist.MnistError as error:
        cli.fail(error)
    available = len(train_images) - flags.validation
    if available < 1:
        cli.fail(f"--validation {flags.validation} leaves no training images (there are {len(train_images)})", status=2)
    if flags.limit and flags.limit > available:
        cli.fail(f"--limit {flags.limit} is more than the {available} training images available", status=2)
    train_end = flags.limit or available
    validation_x, validation_labels = mnist.as_inputs(train_images[available:]), train_labels[available:]
    train_images, train_labels, taught = train_images[:train_end], train_labels[:train_end], None
    if flags.samples:
        train_images, train_labels, copies = samples.mix(train_images, train_labels, sample_images, sample_labels,
                                                         flags.sample_share, np.random.default_rng([flags.seed, 3]))
        taught = {"folder": flags.samples, "counts": samples.counts(sample_labels), "sample_share": flags.sample_share,
                  "mnist_share": round(1 - copies / len(train_images), 4)}
    return training.Data(train_images, train_labels, validation_x, validation_labels, test_images,
                         mnist.as_inputs(test_images), test_labels, taught)


def read_samples(flags):
    """The --samples folder's images (N, 28, 28) uint8 and labels (N,); each picture that cannot be
    read is named on stderr and skipped, a folder that cannot be used ends the program in one line."""
    try:
        images, labels, unreadable = samples.read(flags.samples, flags.dataset)
    except samples.SamplesError as error:
        cli.fail(f"--samples {error}", status=2)
    for path, reason in unreadable:
        cli.warn(f"skipping {path}: {reason}")
    return images, labels


def describe_first(network, x, label, classes):
    """The original's two lines about one image x (784,) of the given label, named with `classes`."""
    output, predicted = network.probabilities(x[None])[0], network.predict(x[None])[0]
    print(f"output vector of first image: {np.array2string(output, precision=2, suppress_small=True)}")
    print(f"classification of first image: {classes[predicted]} with confidence {output[predicted]:.2f}; "
          f"real label {classes[label]}")


def build_network(flags):
    """A new network as the flags describe, its weights drawn from the seed."""
    kernel, pool, stride = (sizes[0] if len(sizes) == 1 else sizes  # one for all
                            for sizes in (flags.kernel, flags.pool, flags.stride))
    try:
        network = model.build(flags.hidden, flags.conv, kernel, flags.padding, flags.activation, flags.loss,
                              flags.dropout, flags.init, np.random.default_rng([flags.seed, 0]),
                              np.random.default_rng([flags.seed, 2]), pool, stride, flags.batch_norm)
    except ValueError as error:
        blocks = {"conv": flags.conv, "kernel": flags.kernel, "pool": flags.pool}
        if flags.stride != Flags.stride:
            blocks["stride"] = flags.stride
        cli.fail(" ".join(recipe_words(blocks)) + f": {error}", status=2)
    except MemoryError as error:
        cli.fail(f"not enough memory to build this network ({error}): make --hidden or --conv smaller", status=2)
    for weights in network.parameters():  # the weight matrices (the biases start at 0, a normalisation's scale at 1)
        if weights.ndim > 1:
            weights *= flags.init_scale
    return network


def check_memory(network, flags):
    """Refuse a run whose weights, gradients, optimizer state, moving average and kept copy would not
    fit in memory."""
    # weights, gradients, 2 optimizer arrays, scratch, kept; with --ema, the average and a copy
    needed = (8 if flags.ema else 6) * sum(p.nbytes for p in network.parameters())
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    if needed > available:
        cli.fail(f"training this network needs about {needed / 2**30:.1f} GiB of memory, and "
                 f"{available / 2**30:.1f} GiB are free: make --hidden or --conv smaller", status=2)


def new_run(flags, data, loaded, log):
    """A run of a new network, or of `loaded`, the (network, metadata) of --load's file."""
    if loaded:
        network, metadata = loaded
        log(f"loaded {flags.load[0]}: {model.describe(network)}; trained {metadata.get('rounds', '?')} rounds")
    else:
        network, metadata = build_network(flags), {}
        log(f"network: {model.describe(network)}")
    check_memory(network, flags)
    max_cost = training.cost_limit(network, data.train_images, data.train_labels)
    return training.Run(flags, network, max_cost, metadata.get("rounds", 0))


def resumed_run(flags, saved, log):
    """The run in checkpoint `saved`, going on with `flags`."""
    run = training.Run(flags, saved.network, max_cost=0.0)  # the cost limit, like the rest, is the checkpoint's
    try:
        checkpoint.restore(run, saved)
    except checkpoint.CheckpointError as error:
        cli.fail(error)
    log(f"resuming {flags.checkpoint}: {model.describe(run.network)}; {run.rounds} of {flags.epochs} rounds done")
    return run


def check_outputs(flags):
    """Refuse, before any training, output paths that could not be written."""
    for flag, path, folder in (("--save", flags.save, False), ("--checkpoint", flags.checkpoint, False),
                               ("--plot-dir", flags.plot_dir, True)):
        problem = path and cli.unwritable(path, folder)
        if problem:
            cli.fail(f"{flag} {path}: {problem}", status=2)


def train(run, data, log):
    """Train the run (training.train); returns whether Ctrl-C stopped it."""
    start, interrupted = time.perf_counter(), False
    try:
        training.train(run, data, log)
        if run.kept_round != run.flags.epochs:
            log(f"keeping the weights after round {run.kept_round}, the best on the validation images")
    except nn.DivergenceError as error:
        cli.fail(f"training diverged: {error}; try a smaller learning rate than --lr {run.flags.lr:g}")
    except KeyboardInterrupt:
        interrupted = True
        if run.flags.checkpoint and run.rounds:
            log(f"to go on: ./train.py --resume {shlex.quote(run.flags.checkpoint)}")
    except OSError as error:
        cli.fail_to_write(error)
    if run.flags.epochs:
        log(f"training took {time.perf_counter() - start:.1f} s")
    return interrupted


def keep(run, data, interrupted):
    """The final accuracy's line, and the --save file written; returns the line that says what was
    saved ("" without --save). A run interrupted before it completed a round has nothing to save."""
    flags = run.flags
    accuracy = run.kept_accuracy() if run.kept_round else nn.accuracy(run.learner, data.test_x, data.test_labels)
    print(f"correctly recognized images after training: {accuracy:.2%}")
    if not flags.save:
        return ""
    if interrupted and not run.kept_round:
        return f"no training round was completed: nothing saved ({flags.save} is unchanged)"
    outputs = {"save", "plot_dir", "checkpoint", "quiet"}
    metadata = {"test_accuracy": accuracy, "rounds": run.rounds_before + run.kept_round,
                "flags": {name: value for name, value in dataclasses.asdict(flags).items()
                          if name not in outputs and value is not None},
                "command": command_line(flags),
                "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    if data.samples:  # what it learned from, beside the dataset
        metadata["samples"] = data.samples
    model.save(run.network, flags.save, metadata, dataset=flags.dataset)
    return f"saved the network to {flags.save}" + (
        f" (the weights after round {run.kept_round} of {flags.epochs})" if interrupted else "")


def report_results(run, data):
    """After training: the first test image, the class table and the --plot-dir pictures."""
    predicted = run.kept_predictions
    if predicted is None:  # no round of this run measured the network it ends with
        predicted = run.learner.predict(data.test_x)
    show_results(run.flags, run.network, predicted, run.history, data)


def show_results(flags, network, predicted, history, data):
    """The first test image, the class table and the --plot-dir pictures of `network` (an nn.Network or
    a committee.Committee), whose answers for the test images are `predicted` (N,); history: the
    rounds' figures."""
    dataset = mnist.DATASETS[flags.dataset]
    if not flags.quiet:
        describe_first(network, data.test_x[0], data.test_labels[0], dataset.classes)
        print(report.class_table(report.confusion_matrix(data.test_labels, predicted), dataset))
    if flags.plot_dir:
        from support import figures  # here, not above: matplotlib takes a third of a second to load

        weighted = network if isinstance(network, nn.Network) else None  # a committee's networks have weights each
        paths = figures.write_plots(flags.plot_dir, history, weighted, data.test_images, data.test_labels,
                                   network.probabilities(data.test_x), dataset)
        if not flags.quiet:
            print(f"wrote {', '.join(str(path) for path in paths)}")


def evaluate_committee(flags, loaded, data, log):
    """With several --load files: each network's test accuracy, then their committee's, which answers
    with the mean of their probabilities (support/committee.py), and its report."""
    network, metadata = loaded
    parallel.set_blas_threads(flags.threads)
    if not flags.quiet:
        for path, member, member_metadata in zip(flags.load, network.members, metadata["members"]):
            print(f"loaded {path}: {model.describe(member)}; trained {member_metadata.get('rounds', '?')} rounds; "
                  f"alone it recognizes {nn.accuracy(member, data.test_x, data.test_labels):.2%} of the test images")
    log(f"{committee.name(flags.load)}: each answer is the mean of the {len(flags.load)} networks' probabilities")
    predicted = network.predict(data.test_x)
    print(f"correctly recognized images after training: {np.mean(predicted == data.test_labels):.2%}")
    try:
        show_results(flags, network, predicted, [], data)
    except OSError as error:
        cli.fail_to_write(error)


def main(argv=None):
    sys.stdout.reconfigure(line_buffering=True)  # each round's line as it happens, also into a pipe or file
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    given = given_flags(parser, argv)
    saved = loaded = None
    if "resume" in given:
        check_resumable(given)
        saved = read(checkpoint.load, given["resume"])
        flags = resumed_flags(given, saved)
    else:
        loaded = read(committee.load, given["load"]) if "load" in given else None
        flags = new_flags(parser, given, loaded)
    check_outputs(flags)
    data = load_data(flags)
    log = (lambda line: None) if flags.quiet else print
    log(f"flags: {command_line(flags)}")
    if data.samples:
        counts = ", ".join(f"{count} of {label}" for label, count in data.samples["counts"].items())
        log(f"samples from {flags.samples}: {counts}; {1 - data.samples['mnist_share']:.1%} of the training images")
    if loaded and isinstance(loaded[0], committee.Committee):
        evaluate_committee(flags, loaded, data, log)
        return
    run = resumed_run(flags, saved, log) if saved else new_run(flags, data, loaded, log)
    if not flags.quiet:
        describe_first(run.network, data.test_x[0], data.test_labels[0], mnist.DATASETS[flags.dataset].classes)
        print(f"correctly recognized images after {'loading' if flags.load or saved else 'initialization'}: "
              f"{nn.accuracy(run.learner, data.test_x, data.test_labels):.2%}")
    interrupted = train(run, data, log)
    kept = ""
    try:
        with cli.ctrl_c_deferred():  # the network is saved before the slower report: a Ctrl-C cannot lose it
            kept = keep(run, data, interrupted)
            if kept:
                log(kept)
        report_results(run, data)
    except OSError as error:
        cli.fail_to_write(error)
    except KeyboardInterrupt:
        print(f"train.py: interrupted{'; ' + kept if kept else ''}", file=sys.stderr)
        sys.exit(130)
    if interrupted:
        sys.exit(130)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # before training, or while it is being set up: nothing to keep
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C ends at once
        print("train.py: interrupted", file=sys.stderr)
        sys.exit(130)
