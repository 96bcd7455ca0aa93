#!/usr/bin/env python3
"""Train a neural network on MNIST and report how many test digits it recognizes.

    ./train.py                                 # the default recipe, mlp: about 98.8% in half a minute
    ./train.py --recipe mlp --epochs 5         # a recipe, with one of its flags changed
    ./train.py --hidden 128 --activation sigmoid --epochs 10 --lr 0.5 --optimizer sgd
"""

import argparse
import collections
import datetime
import sys
import time

import numpy as np

import cli
import mnist
import model
import nn
import report

DEFAULT_SHIFT = 1
DEFAULT_EPOCHS = 20
DEFAULT_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.002}
# Named bundles of flags. A run starts from its recipe's flags; the flags given on the command line
# come after them, so they override the recipe's. The original-* recipes are the original project's
# steps, reconstructed from what it printed (README: "The journey, reproduced"): their flags were
# chosen to land on the original's own figures.
ORIGINAL_16_16 = ("--hidden 16 16 --activation sigmoid --loss mse --init plain --init-scale 0.1 --optimizer sgd "
                  "--lr 0.015 --lr-schedule constant --batch-size 1000 --shift 0")
RECIPES = {
    "mlp": "--hidden 512 --activation relu --optimizer adam --lr 0.002 --lr-schedule cosine --batch-size 256 "
           "--shift 1 --epochs 20",
    "original-random": f"{ORIGINAL_16_16} --epochs 0",
    "original-16-16": f"{ORIGINAL_16_16} --epochs 100",
    "original-128": "--hidden 128 --activation sigmoid --loss mse --init plain --optimizer sgd --lr 0.5 "
                    "--lr-schedule constant --batch-size 1000 --shift 0 --epochs 100",
    "original-relu": "--hidden 128 --activation relu --loss mse-relu --init plain --init-scale 0.1 --optimizer sgd "
                     "--lr 0.02 --lr-schedule linear --batch-size 1000 --shift 0 --epochs 100",
}
DEFAULT_RECIPE = "mlp"


def build_parser():
    recipes = "\n".join(f"  {name:<{max(map(len, RECIPES))}}  {flags}" for name, flags in RECIPES.items())
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=f"recipes (--recipe NAME; flags given explicitly override them):\n{recipes}",
                                     allow_abbrev=False)  # a recipe's flags are overridden by name, never by prefix
    add = parser.add_argument
    add("--recipe", choices=RECIPES, default=DEFAULT_RECIPE,
        help=f"start from this recipe's flags, listed below (default: {DEFAULT_RECIPE})")
    add("--hidden", type=cli.positive_int, nargs="*", default=[512], metavar="N",
        help="sizes of the hidden layers (default: 512); --hidden alone: no hidden layer")
    add("--activation", choices=[name for name in nn.ACTIVATIONS if name != "identity"], default="relu",
        help="activation of the hidden layers (default: relu)")
    add("--loss", choices=nn.LOSSES, default="cross-entropy",
        help="cross-entropy: softmax outputs; mse: the original's sigmoid outputs, quadratic cost; "
             "mse-relu: ReLU outputs, quadratic cost")
    add("--init", choices=nn.INITIALIZATIONS, default="scaled",
        help="scaled: He (ReLU) or Glorot (others); plain: the original's uniform in [-0.5, 0.5]")
    add("--init-scale", type=cli.positive_float, default=1.0,
        help="multiply the initial weights by this (default: 1)")
    add("--optimizer", choices=DEFAULT_LEARNING_RATES, default="adam", help="(default: adam)")
    add("--epochs", type=cli.non_negative_int,
        help=f"training rounds over the data (default: {DEFAULT_EPOCHS}, or 0 with --load: evaluate only)")
    add("--batch-size", type=cli.non_negative_int, default=256,
        help="images per gradient step; 0: the whole training set, as the original (default: 256)")
    add("--lr", type=cli.positive_float, help="learning rate (default: " +
        ", ".join(f"{rate} for {name}" for name, rate in DEFAULT_LEARNING_RATES.items()) + ")")
    add("--lr-schedule", choices=nn.SCHEDULES, default="cosine",
        help="how the rate changes over training; linear and cosine end at 1%% of it (default: cosine)")
    add("--weight-decay", type=cli.non_negative_float, default=0.0, help="L2 penalty on the weights (default: 0)")
    add("--seed", type=int, default=1, help="random seed: the same seed gives the same run (default: 1)")
    add("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else data/)")
    add("--limit", type=cli.positive_int, help="train on the first N training images only")
    add("--shift", type=cli.non_negative_int, default=DEFAULT_SHIFT,
        help=f"move each training image by up to N pixels at random, anew each round (default: {DEFAULT_SHIFT}; 0: off)")
    add("--validation", type=cli.non_negative_int, default=0,
        help="hold out the last N training images, report them each round and keep the best round")
    add("--save", metavar="FILE.npz", help="write the trained network to this file")
    add("--load", metavar="FILE.npz", help="start from a saved network (its own architecture; the layer flags are ignored)")
    add("--plot-dir", metavar="DIR", help="write pictures of training and of the results into DIR")
    add("--quiet", action="store_true", help="print only the final accuracy")
    return parser


Data = collections.namedtuple(
    "Data", "train_images train_labels validation_x validation_labels test_images test_x test_labels")


def load_data(parser, args):
    """The images and labels as the flags ask. Training images stay uint8 (N, 28, 28), as each round
    shuffles and shifts them anew; validation_x and test_x are network inputs (N, 784) float32."""
    try:
        train_images, train_labels = mnist.load_split("train", args.data_dir)
        test_images, test_labels = mnist.load_split("test", args.data_dir)
    except mnist.MnistError as error:
        sys.exit(f"error: {error}")
    available = len(train_images) - args.validation
    if available < 1:
        parser.error(f"--validation {args.validation} leaves no training images (there are {len(train_images)})")
    if args.limit and args.limit > available:
        parser.error(f"--limit {args.limit} is more than the {available} training images available")
    train_end = args.limit or available
    return Data(train_images[:train_end], train_labels[:train_end], mnist.as_inputs(train_images[available:]),
                train_labels[available:], test_images, mnist.as_inputs(test_images), test_labels)


def describe_first(network, x, label):
    """The original's two lines about one image."""
    output, digit = network.probabilities(x[None])[0], network.predict(x[None])[0]
    print(f"output vector of first image: {np.array2string(output, precision=2, suppress_small=True)}")
    print(f"classification of first image: {digit} with confidence {output[digit]:.2f}; real label {label}")


def train(network, optimizer, args, data, history, log):
    """Train for args.epochs rounds, appending each round's figures to `history`; returns the number
    of the round whose weights the network keeps.

    With validation images, that is the round that classified them best; otherwise the last one. On
    Ctrl-C the network keeps the last complete round's weights (or the best one's) and training ends.
    """
    rng = np.random.default_rng([args.seed, 1])
    batch_size = args.batch_size or len(data.train_images)
    batches = -(-len(data.train_images) // batch_size)
    train_x = None  # each round's shuffled, shifted inputs, in one buffer reused round after round
    kept_round, kept_weights, best_validation = 0, snapshot(network), -1.0
    # A cost a thousand times the untrained network's means the steps have blown up: stop early.
    first = mnist.as_inputs(data.train_images[:1000])
    max_cost = 1000 * max(1.0, network.cost(network.forward(first), data.train_labels[:1000])[0])
    for epoch in range(args.epochs):
        def rate(batch):
            return nn.learning_rate(args.lr_schedule, args.lr, (epoch * batches + batch) / (args.epochs * batches))

        try:
            start = time.perf_counter()
            train_x, labels = mnist.shuffled_inputs(data.train_images, data.train_labels, rng, args.shift, train_x)
            cost, train_accuracy = nn.train_epoch(network, optimizer, train_x, labels, batch_size, rate, max_cost)
            seconds = time.perf_counter() - start
            validation = nn.accuracy(network, data.validation_x, data.validation_labels) if args.validation else None
            test = nn.accuracy(network, data.test_x, data.test_labels)
            history.append({"round": epoch + 1, "cost": cost, "train": train_accuracy, "validation": validation,
                            "test": test, "seconds": seconds})
            log(f"cost after training round {epoch + 1}: {cost:.4f}  train {train_accuracy:.2%}"
                + (f"  validation {validation:.2%}" if args.validation else "")
                + f"  test {test:.2%}  ({seconds:.2f} s)")
            if validation is None or validation > best_validation:
                kept_round, kept_weights, best_validation = epoch + 1, snapshot(network), validation
        except KeyboardInterrupt:  # wherever in the round it comes
            log(f"interrupted in round {epoch + 1}; keeping the weights after round {kept_round}")
            restore(network, kept_weights)
            raise
    restore(network, kept_weights)
    return kept_round


def snapshot(network):
    return [p.copy() for p in network.parameters()]


def restore(network, weights):
    for p, saved in zip(network.parameters(), weights):
        p[...] = saved


def make_optimizer(network, args):
    if args.optimizer == "adam":
        return nn.Adam(network.parameters(), weight_decay=args.weight_decay)
    momentum = 0.0 if args.optimizer == "sgd" else 0.9
    return nn.SGD(network.parameters(), momentum, args.optimizer == "nesterov", args.weight_decay)


def make_network(args, log):
    """A new network as the flags describe, or the one in --load's file (its own architecture).
    Returns it and the number of rounds it has been trained already."""
    if not args.load:
        network = nn.Network([mnist.IMAGE_SIZE**2, *args.hidden, 10], args.activation, args.loss,
                             np.random.default_rng([args.seed, 0]), args.init)
        for weights in network.parameters():  # the biases start at 0, so this scales the weights
            weights *= args.init_scale
        return network, 0
    try:
        network, metadata = model.load(args.load)
    except model.ModelError as error:
        sys.exit(f"error: {error}")
    sizes = "-".join(map(str, network.sizes))
    log(f"loaded {args.load}: {sizes} {network.activation} network, trained {metadata.get('rounds', '?')} rounds")
    return network, metadata.get("rounds", 0)


def report_results(network, args, data, history, rounds):
    """After training: the accuracy, the class table, the --save file and the --plot-dir pictures."""
    probabilities = network.probabilities(data.test_x)
    predicted = network.predict(data.test_x)  # as each round's test figure: where ReLU outputs tie at 0, the largest logit
    accuracy = float(np.mean(predicted == data.test_labels))
    print(f"correctly recognized images after training: {accuracy:.2%}")
    if not args.quiet:
        describe_first(network, data.test_x[0], data.test_labels[0])
        print(report.class_table(report.confusion_matrix(data.test_labels, predicted)))
    if args.save:
        ignored = {"save", "quiet", "flags"} | ({"hidden", "activation", "loss", "init", "init_scale"} if args.load else set())
        flags = {name: value for name, value in vars(args).items() if name not in ignored}
        model.save(network, args.save, {"test_accuracy": accuracy, "rounds": rounds, "flags": flags, "command": args.flags,
                                        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")})
        print(f"saved the network to {args.save}")
    if args.plot_dir:
        paths = report.write_plots(args.plot_dir, history, network, data.test_images, data.test_labels, probabilities)
        print(f"wrote {', '.join(str(path) for path in paths)}")


def parse_args(parser, argv):
    """The flags of the recipe that argv names (or the default one), overridden by argv's own flags.
    A loaded network is only evaluated unless argv itself asks for --epochs."""
    argv = sys.argv[1:] if argv is None else list(argv)
    recipe = parser.parse_known_args(argv)[0].recipe
    args = parser.parse_args(RECIPES[recipe].split() + argv)
    if args.load and not any(flag == "--epochs" or flag.startswith("--epochs=") for flag in argv):
        args.epochs = 0
    args.flags = " ".join(merge_flags(["--recipe", recipe, *RECIPES[recipe].split(), *argv]))
    return args


def merge_flags(tokens):
    """Command-line tokens with each flag's last occurrence only, where its first one stood:
    ["--epochs", "20", "--lr", "1", "--epochs", "5"] -> ["--epochs", "5", "--lr", "1"]."""
    flags = {}
    for token in tokens:
        if token.startswith("--"):
            name, _, value = token.partition("=")
            flags[name] = [value] if value else []
        else:
            flags[name].append(token)
    return [part for name, values in flags.items() for part in (name, *values)]


def main(argv=None):
    parser = build_parser()
    args = parse_args(parser, argv)
    args.epochs = DEFAULT_EPOCHS if args.epochs is None else args.epochs
    args.lr = args.lr or DEFAULT_LEARNING_RATES[args.optimizer]
    data = load_data(parser, args)
    log = (lambda line: None) if args.quiet else print
    log(f"flags: {args.flags}")
    network, rounds_before = make_network(args, log)
    if not args.quiet:
        describe_first(network, data.test_x[0], data.test_labels[0])
        print(f"correctly recognized images after {'loading' if args.load else 'initialization'}: "
              f"{nn.accuracy(network, data.test_x, data.test_labels):.2%}")
    start, history, interrupted, kept_round = time.perf_counter(), [], False, 0
    try:
        kept_round = train(network, make_optimizer(network, args), args, data, history, log)
        if kept_round != args.epochs:
            log(f"keeping the weights after round {kept_round}, the best on the validation images")
    except nn.DivergenceError as error:
        sys.exit(f"error: training diverged: {error}; try a smaller learning rate than --lr {args.lr}")
    except KeyboardInterrupt:
        interrupted = True
    if args.epochs:
        log(f"training took {time.perf_counter() - start:.1f} s")
    try:
        report_results(network, args, data, history, rounds_before + kept_round)
    except OSError as error:
        sys.exit(f"error: {error.filename}: cannot write ({error.strerror})")
    if interrupted:
        sys.exit(130)


if __name__ == "__main__":
    main()
