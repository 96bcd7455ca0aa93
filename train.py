#!/usr/bin/env python3
"""Train a fully connected network on MNIST and report how many test digits it recognizes.

    ./train.py                                    # the default recipe, about 98.5% in half a minute
    ./train.py --hidden 16 16 --activation sigmoid --loss mse --optimizer sgd --lr 3 \\
               --batch-size 0 --epochs 100 --init plain   # the original's experiment
"""

import argparse
import sys
import time

import numpy as np

import cli
import mnist
import nn

DEFAULT_SHIFT = 1
DEFAULT_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.001}


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--hidden", type=cli.positive_int, nargs="*", default=[512], metavar="N",
        help="sizes of the hidden layers (default: 512); --hidden alone: no hidden layer")
    add("--activation", choices=[name for name in nn.ACTIVATIONS if name != "identity"], default="relu",
        help="activation of the hidden layers (default: relu)")
    add("--loss", choices=nn.LOSSES, default="cross-entropy",
        help="cross-entropy: softmax outputs; mse: the original's sigmoid outputs, quadratic cost")
    add("--init", choices=nn.INITIALIZATIONS, default="scaled",
        help="scaled: He (ReLU) or Glorot (others); plain: the original's uniform in [-0.5, 0.5]")
    add("--optimizer", choices=DEFAULT_LEARNING_RATES, default="adam", help="(default: adam)")
    add("--epochs", type=cli.non_negative_int, default=20, help="training rounds over the data (default: 20)")
    add("--batch-size", type=cli.non_negative_int, default=128,
        help="images per gradient step; 0: the whole training set, as the original (default: 128)")
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
    add("--quiet", action="store_true", help="print only the final accuracy")
    return parser


def load_data(parser, args):
    """(train_images, train_labels, validation_x, validation_labels, test_x, test_labels) as the flags
    ask: training images stay uint8 (N, 28, 28), as each round shuffles and shifts them anew; the
    others are network inputs (N, 784) float32."""
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
    return (train_images[:train_end], train_labels[:train_end], mnist.as_inputs(train_images[available:]),
            train_labels[available:], mnist.as_inputs(test_images), test_labels)


def describe_first(network, x, label):
    """The original's two lines about one image."""
    output = network.probabilities(x[None])[0]
    np.set_printoptions(precision=2, suppress=True)
    print(f"output vector of first image: {output}")
    print(f"classification of first image: {output.argmax()} with confidence {output.max():.2f}; real label {label}")


def train(network, optimizer, args, data, log):
    """Train for args.epochs rounds; returns the number of the round whose weights the network keeps.

    With validation images, that is the round that classified them best; otherwise the last one. On
    Ctrl-C the network keeps the last complete round's weights (or the best one's) and training ends.
    """
    train_images, train_labels, validation_x, validation_labels, test_x, test_labels = data
    rng = np.random.default_rng([args.seed, 1])
    batch_size = args.batch_size or len(train_images)
    batches = -(-len(train_images) // batch_size)
    train_x = None  # each round's shuffled, shifted inputs, in one buffer reused round after round
    base_rate = args.lr or DEFAULT_LEARNING_RATES[args.optimizer]
    kept_round, kept_weights, best_validation = 0, snapshot(network), -1.0
    # A cost a thousand times the untrained network's means the steps have blown up: stop early.
    first = mnist.as_inputs(train_images[:1000])
    max_cost = 1000 * max(1.0, network.cost(network.forward(first), train_labels[:1000])[0])
    for epoch in range(args.epochs):
        def rate(batch):
            return nn.learning_rate(args.lr_schedule, base_rate, (epoch * batches + batch) / (args.epochs * batches))

        try:
            start = time.perf_counter()
            train_x, labels = mnist.shuffled_inputs(train_images, train_labels, rng, args.shift, train_x)
            cost, train_accuracy = nn.train_epoch(network, optimizer, train_x, labels, batch_size, rate, max_cost)
            seconds = time.perf_counter() - start
            line = f"cost after training round {epoch + 1}: {cost:.4f}  train {train_accuracy:.2%}"
            if len(validation_x):
                validation_accuracy = nn.accuracy(network, validation_x, validation_labels)
                line += f"  validation {validation_accuracy:.2%}"
            line += f"  test {nn.accuracy(network, test_x, test_labels):.2%}  ({seconds:.1f} s)"
        except KeyboardInterrupt:
            log(f"interrupted in round {epoch + 1}; keeping the weights after round {kept_round}")
            restore(network, kept_weights)
            raise
        log(line)
        if not len(validation_x) or validation_accuracy > best_validation:
            kept_round, kept_weights = epoch + 1, snapshot(network)
            best_validation = validation_accuracy if len(validation_x) else best_validation
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


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    data = load_data(parser, args)
    test_x, test_labels = data[4], data[5]
    log = (lambda line: None) if args.quiet else print
    network = nn.Network([mnist.IMAGE_SIZE**2, *args.hidden, 10], args.activation, args.loss,
                         np.random.default_rng([args.seed, 0]), args.init)
    optimizer = make_optimizer(network, args)
    if not args.quiet:
        describe_first(network, test_x[0], test_labels[0])
        print(f"correctly recognized images after initialization: {nn.accuracy(network, test_x, test_labels):.2%}")
    start, interrupted = time.perf_counter(), False
    try:
        kept_round = train(network, optimizer, args, data, log)
        if kept_round != args.epochs:
            log(f"keeping the weights after round {kept_round}, the best on the validation images")
    except nn.DivergenceError as error:
        rate = args.lr or DEFAULT_LEARNING_RATES[args.optimizer]
        sys.exit(f"error: training diverged: {error}; try a smaller learning rate than --lr {rate}")
    except KeyboardInterrupt:
        interrupted = True
    log(f"training took {time.perf_counter() - start:.1f} s")
    print(f"correctly recognized images after training: {nn.accuracy(network, test_x, test_labels):.2%}")
    if not args.quiet:
        describe_first(network, test_x[0], test_labels[0])
    if interrupted:
        sys.exit(130)


if __name__ == "__main__":
    main()
