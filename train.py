#!/usr/bin/env python3
"""Train a neural network on MNIST (or Fashion-MNIST) and report how many test images it recognizes.

    ./train.py                                 # the default recipe, mlp: about 98.8% in half a minute
    ./train.py --recipe mlp --epochs 5         # a recipe, with one of its flags changed
    ./train.py --hidden 128 --activation sigmoid --epochs 10 --lr 0.5 --optimizer sgd
    ./train.py --dataset fashion               # Fashion-MNIST's pictures of clothes
"""

import signal

# Ctrl-C while the libraries load: stop at once, without a traceback (main takes Ctrl-C over later).
signal.signal(signal.SIGINT, signal.SIG_DFL)

import argparse
import collections
import datetime
import os
import sys
import time

import numpy as np

import nn
from support import checkpoint, cli, mnist, model, report

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
    "mlp": "--hidden 512 --activation relu --optimizer adam --lr-schedule cosine --batch-size 256 "
           "--shift 1 --epochs 20",
    "cnn": "--conv 32 64 --kernel 3 --hidden 256 --dropout 0.4 --activation relu --optimizer adam "
           "--lr-schedule cosine --batch-size 128 --shift 2 --rotate 10 --zoom 0.1 --epochs 15",
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
    add("--conv", type=cli.positive_int, nargs="*", default=[], metavar="C",
        help="convolutional blocks, one per C: C filters of K x K, ReLU (--activation), 2 x 2 max-pooling")
    add("--kernel", type=cli.positive_int, default=3, metavar="K", help="the filters' size (default: 3)")
    add("--padding", choices=("valid", "same"), default="valid",
        help="valid: no padding, each convolution shrinks the image by K - 1; same: zeros around it keep its size")
    add("--hidden", type=cli.positive_int, nargs="*", default=[512], metavar="N",
        help="sizes of the dense hidden layers (default: 512); --hidden alone: no hidden layer")
    add("--dropout", type=cli.probability, default=0.0, metavar="P",
        help="in training, drop each input of a dense layer with probability P (default: 0)")
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
    add("--seed", type=cli.non_negative_int, default=1, help="random seed: the same seed gives the same run (default: 1)")
    add("--dataset", choices=mnist.DATASETS,
        help="which dataset to train on (default: mnist; with --load, the one the network was trained on)")
    add("--data-dir", help="folder with the dataset's files (default: $MNIST_DIR, else data/, "
                           "or data/fashion/ for --dataset fashion)")
    add("--limit", type=cli.positive_int, help="train on the first N training images only")
    add("--shift", type=cli.non_negative_int, default=DEFAULT_SHIFT,
        help=f"move each training image by up to N pixels at random, anew each round (default: {DEFAULT_SHIFT}; 0: off)")
    add("--rotate", type=cli.non_negative_float, default=0.0, metavar="DEGREES",
        help="also turn each training image by up to this many degrees at random, anew each round (default: 0)")
    add("--zoom", type=cli.probability, default=0.0, metavar="FRACTION",
        help="also scale each training image by a random factor within 1 +- FRACTION, anew each round (default: 0)")
    add("--validation", type=cli.non_negative_int, default=0,
        help="hold out the last N training images, report them each round and keep the best round")
    add("--save", metavar="FILE.npz", help="write the trained network to this file")
    add("--load", metavar="FILE.npz", help="start from a saved network (its own architecture; the layer flags are ignored)")
    add("--plot-dir", metavar="DIR", help="write pictures of training and of the results into DIR")
    add("--checkpoint", metavar="FILE.npz",
        help="after every round, write the whole state of the run to this file, for --resume")
    add("--resume", metavar="FILE.npz",
        help="go on with the run in this checkpoint, with its own flags (only --data-dir, --threads and --quiet "
             "may be given)")
    add("--threads", type=cli.positive_int, metavar="N",
        help="train on N threads (default: as many as numpy's BLAS uses, one per core unless OPENBLAS_NUM_THREADS "
             "says otherwise; a fully connected network goes down to one while that is faster). The numbers do "
             "not depend on N")
    add("--quiet", action="store_true", help="print only the final accuracy")
    return parser


Data = collections.namedtuple(
    "Data", "train_images train_labels validation_x validation_labels test_images test_x test_labels")


def load_data(parser, args):
    """The images and labels as the flags ask. Training images stay uint8 (N, 28, 28), as each round
    shuffles and shifts them anew; validation_x and test_x are network inputs (N, 784) float32."""
    try:
        train_images, train_labels = mnist.load_split("train", args.data_dir, args.dataset)
        test_images, test_labels = mnist.load_split("test", args.data_dir, args.dataset)
    except mnist.MnistError as error:
        cli.fail(error)
    available = len(train_images) - args.validation
    if available < 1:
        parser.error(f"--validation {args.validation} leaves no training images (there are {len(train_images)})")
    if args.limit and args.limit > available:
        parser.error(f"--limit {args.limit} is more than the {available} training images available")
    train_end = args.limit or available
    return Data(train_images[:train_end], train_labels[:train_end], mnist.as_inputs(train_images[available:]),
                train_labels[available:], test_images, mnist.as_inputs(test_images), test_labels)


def describe_first(network, x, label, classes):
    """The original's two lines about one image x (784,) of the given label, named with `classes`."""
    output, predicted = network.probabilities(x[None])[0], network.predict(x[None])[0]
    print(f"output vector of first image: {np.array2string(output, precision=2, suppress_small=True)}")
    print(f"classification of first image: {classes[predicted]} with confidence {output[predicted]:.2f}; "
          f"real label {classes[label]}")


# For the tests: TRAIN_PAUSE_IN_CHECKPOINT=N stops the run inside round N's checkpoint write, after
# the content is written and before it replaces the file, until the process is killed.
PAUSE_ROUND = int(os.environ.get("TRAIN_PAUSE_IN_CHECKPOINT", "0"))


def pause():
    print("pausing inside the checkpoint write", file=sys.stderr, flush=True)
    signal.pause()


def train(run, args, data, log, pause_round=0):
    """Train run.network from round run.rounds + 1 to args.epochs, appending each round's figures to
    run.history and, with --checkpoint, writing the run after each round. Ends with the kept weights
    in the network: with validation images those of the round that classified them best, otherwise
    the last round's. On Ctrl-C, wherever it comes, the network keeps those of the last complete round
    (or the best one) and KeyboardInterrupt goes on up. pause_round: see PAUSE_ROUND."""
    batch_size = args.batch_size or len(data.train_images)
    batches = -(-len(data.train_images) // batch_size)
    train_x = None  # each round's shuffled, shifted inputs, in one buffer reused round after round
    for epoch in range(run.rounds, args.epochs):
        def rate(batch):
            return nn.learning_rate(args.lr_schedule, args.lr, (epoch * batches + batch) / (args.epochs * batches))

        try:
            start = time.perf_counter()
            train_x, labels = mnist.shuffled_inputs(data.train_images, data.train_labels, run.shuffle_rng, args.shift,
                                                    train_x, args.rotate, args.zoom)
            cost, train_accuracy = nn.train_epoch(run.learner, run.optimizer, train_x, labels, batch_size, rate,
                                                  run.max_cost)
            seconds = time.perf_counter() - start
            validation = nn.accuracy(run.learner, data.validation_x, data.validation_labels) if args.validation else None
            test = nn.accuracy(run.learner, data.test_x, data.test_labels)
            run.rounds = epoch + 1
            run.history.append({"round": epoch + 1, "cost": cost, "train": train_accuracy, "validation": validation,
                                "test": test, "seconds": seconds})
            if validation is None or run.best_validation is None or validation > run.best_validation:
                run.keep()
                run.best_validation = validation
            if args.checkpoint:
                checkpoint.save(args.checkpoint, run, pause=pause if run.rounds == pause_round else None)
            log(f"cost after training round {epoch + 1}: {cost:.4f}  train {train_accuracy:.2%}"
                + (f"  validation {validation:.2%}" if args.validation else "")
                + f"  test {test:.2%}  ({seconds:.2f} s)")
        except KeyboardInterrupt:
            log(f"interrupted in round {epoch + 1}; keeping the weights after round {run.kept_round}")
            run.restore_kept()
            raise
    run.restore_kept()


def make_optimizer(network, args):
    if args.optimizer == "adam":
        return nn.Adam(network.parameters(), weight_decay=args.weight_decay)
    momentum = 0.0 if args.optimizer == "sgd" else 0.9
    return nn.SGD(network.parameters(), momentum, args.optimizer == "nesterov", args.weight_decay)


def make_network(args, log, loaded=None):
    """A new network as the flags describe, or `loaded`, the (network, metadata) of --load's file (its
    own architecture). Returns it and the number of rounds it has been trained already."""
    if not loaded:
        padding = (args.kernel - 1) // 2 if args.padding == "same" else 0
        try:
            network = model.build(args.hidden, args.conv, args.kernel, padding, args.activation, args.loss, args.dropout,
                                  args.init, np.random.default_rng([args.seed, 0]), np.random.default_rng([args.seed, 2]))
        except ValueError as error:
            cli.fail(f"--conv {' '.join(map(str, args.conv))} --kernel {args.kernel}: {error}", status=2)
        except MemoryError as error:
            cli.fail(f"not enough memory to build this network ({error}): make --hidden or --conv smaller", status=2)
        for weights in network.parameters():  # the biases start at 0, so this scales the weights
            weights *= args.init_scale
        log(f"network: {model.describe(network)}")
        return network, 0
    network, metadata = loaded
    log(f"loaded {args.load}: {model.describe(network)}; trained {metadata.get('rounds', '?')} rounds")
    return network, metadata.get("rounds", 0)


def load_network(parser, args):
    """The (network, metadata) in --load's file; args.dataset becomes the dataset it was trained on."""
    try:
        network, metadata = model.load(args.load)
    except model.ModelError as error:
        cli.fail(error)
    args.dataset = cli.model_dataset(parser, args.dataset, args.load, metadata["dataset"])
    return network, metadata


def check_memory(network):
    """Refuse a run whose weights, gradients, optimizer state and kept copy would not fit in memory."""
    needed = 6 * sum(p.nbytes for p in network.parameters())  # weights, gradients, 2 optimizer arrays, scratch, kept
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    if needed > available:
        cli.fail(f"training this network needs about {needed / 2**30:.1f} GiB of memory, and {available / 2**30:.1f} GiB "
                 "are free: make --hidden or --conv smaller", status=2)


def new_run(network, args, data):
    """A run of a new (or loaded) network, with a cost limit a thousand times its first cost: above
    that, the steps have blown up and training stops early."""
    first = mnist.as_inputs(data.train_images[:1000])
    max_cost = 1000 * max(1.0, network.cost(network.forward(first), data.train_labels[:1000])[0])
    return checkpoint.Run(network, make_optimizer(network, args), dict(vars(args)), max_cost,
                          np.random.default_rng([args.seed, 1]), args.threads)


def resumed_run(parser, args):
    """The run in --resume's checkpoint and its flags; --data-dir, --threads and --quiet as given now."""
    try:
        saved = checkpoint.load(args.resume)
    except model.ModelError as error:
        cli.fail(error)
    # Flags newer than the checkpoint take their defaults (--dataset: MNIST, the only one there was).
    resumed = argparse.Namespace(**{"dataset": "mnist", **saved.flags,
                                    "data_dir": args.data_dir or saved.flags.get("data_dir"), "threads": args.threads,
                                    "quiet": args.quiet, "resume": args.resume, "checkpoint": args.resume})
    # The cost limit and the shuffling generator's state are the checkpoint's: restore puts them in.
    run = checkpoint.Run(saved.network, make_optimizer(saved.network, resumed), saved.flags, 0.0,
                         np.random.default_rng(), args.threads)
    try:
        checkpoint.restore(run, saved)
    except checkpoint.CheckpointError as error:
        cli.fail(error)
    return run, resumed


def check_outputs(parser, args):
    """Refuse, before any training, output paths that could not be written."""
    for flag, path, folder in (("--save", args.save, False), ("--checkpoint", args.checkpoint, False),
                               ("--plot-dir", args.plot_dir, True)):
        problem = path and cli.unwritable(path, folder)
        if problem:
            parser.error(f"{flag} {path}: {problem}")


def report_results(run, args, data, interrupted):
    """After training: the accuracy, the --save file, the class table and the --plot-dir pictures.
    A run interrupted before it completed a round has nothing to save."""
    network = run.network
    probabilities = network.probabilities(data.test_x)
    predicted = network.predict(data.test_x)  # as each round's test figure: where ReLU outputs tie at 0, the largest logit
    accuracy = float(np.mean(predicted == data.test_labels))
    print(f"correctly recognized images after training: {accuracy:.2%}")
    log = (lambda line: None) if args.quiet else print
    if args.save and interrupted and not run.kept_round:
        log(f"no training round was completed: nothing saved ({args.save} is unchanged)")
    elif args.save:
        rounds = args.rounds_before + run.kept_round
        architecture = {"conv", "kernel", "padding", "hidden", "dropout", "activation", "loss", "init", "init_scale"}
        ignored = {"save", "quiet", "flags", "resume", "checkpoint", "rounds_before"} | (architecture if args.load else set())
        flags = {name: value for name, value in vars(args).items() if name not in ignored}
        model.save(network, args.save, {"test_accuracy": accuracy, "rounds": rounds, "flags": flags, "command": args.flags,
                                        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")},
                   dataset=args.dataset)
        log(f"saved the network to {args.save}"
            + (f" (the weights after round {run.kept_round} of {args.epochs})" if interrupted else ""))
    dataset = mnist.DATASETS[args.dataset]
    if not args.quiet:
        describe_first(network, data.test_x[0], data.test_labels[0], dataset.classes)
        print(report.class_table(report.confusion_matrix(data.test_labels, predicted), dataset))
    if args.plot_dir:
        paths = report.write_plots(args.plot_dir, run.history, network, data.test_images, data.test_labels, probabilities,
                                   dataset)
        log(f"wrote {', '.join(str(path) for path in paths)}")


def parse_args(parser, argv):
    """The flags of the recipe that argv names (or the default one), overridden by argv's own flags.
    A loaded network is only evaluated unless argv itself asks for --epochs."""
    argv = sys.argv[1:] if argv is None else list(argv)
    known = parser.parse_known_args(argv)[0]
    others = {flag.partition("=")[0] for flag in argv if flag.startswith("--")} - {"--resume", "--data-dir", "--threads",
                                                                                   "--quiet"}
    if known.resume and others:
        parser.error(f"--resume goes on with the run's own flags; {', '.join(sorted(others))} cannot change them "
                     "(only --data-dir, --threads and --quiet may be given)")
    recipe = known.recipe
    tokens = ["--recipe", recipe, *RECIPES[recipe].split(), *argv]
    args = parser.parse_args(tokens[2:])
    if args.load and not any(flag == "--epochs" or flag.startswith("--epochs=") for flag in argv):
        args.epochs = 0
    if args.lr is None:  # the optimizer's own rate: --optimizer sgd alone trains at sgd's
        args.lr = DEFAULT_LEARNING_RATES[args.optimizer]
        tokens += ["--lr", f"{args.lr:g}"]
    args.flags = " ".join(merge_flags(tokens))
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
    sys.stdout.reconfigure(line_buffering=True)  # each round's line as it happens, also into a pipe or file
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = parse_args(parser, argv)
    if args.resume:
        run, args = resumed_run(parser, args)
    args.epochs = DEFAULT_EPOCHS if args.epochs is None else args.epochs
    check_outputs(parser, args)
    loaded = load_network(parser, args) if args.load else None
    args.dataset = args.dataset or "mnist"
    data = load_data(parser, args)
    log = (lambda line: None) if args.quiet else print
    log(f"flags: {args.flags}")
    if args.resume:
        log(f"resuming {args.resume}: {model.describe(run.network)}; {run.rounds} of {args.epochs} rounds done")
    else:
        network, args.rounds_before = make_network(args, log, loaded)
        check_memory(network)
        run = new_run(network, args, data)
    if not args.quiet:
        describe_first(run.network, data.test_x[0], data.test_labels[0], mnist.DATASETS[args.dataset].classes)
        print(f"correctly recognized images after {'loading' if args.load or args.resume else 'initialization'}: "
              f"{nn.accuracy(run.network, data.test_x, data.test_labels):.2%}")
    start, interrupted = time.perf_counter(), False
    try:
        train(run, args, data, log, PAUSE_ROUND)
        if run.kept_round != args.epochs:
            log(f"keeping the weights after round {run.kept_round}, the best on the validation images")
    except nn.DivergenceError as error:
        cli.fail(f"training diverged: {error}; try a smaller learning rate than --lr {args.lr}")
    except KeyboardInterrupt:
        interrupted = True
    except OSError as error:
        cli.fail(f"{error.filename}: cannot write ({error.strerror})")
    if args.epochs:
        log(f"training took {time.perf_counter() - start:.1f} s")
    try:
        report_results(run, args, data, interrupted)
    except OSError as error:
        cli.fail(f"{error.filename}: cannot write ({error.strerror})")
    if interrupted:
        sys.exit(130)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # anywhere but in training, which keeps its last complete round and reports
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C ends at once
        print("train.py: interrupted", file=sys.stderr)
        sys.exit(130)
