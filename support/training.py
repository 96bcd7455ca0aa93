"""Training a network round by round: the state of a run between two rounds (Run) and the loop over
the rounds (train).

Each round shuffles the training images (and gives some the continental forms, moves, turns, scales,
bends and restyles them, as the flags say) anew, learns from them batch by batch, then measures the
network on the validation and test images (with --ema, the moving average of its weights:
nn.MovingAverage). The run ends with the weights it keeps: with validation images those of the round
that classified them best, otherwise the last round's. checkpoint.py writes a Run to a file after each
round and reads it back for --resume; train.py makes a Run from its flags.
"""

import collections
import contextlib
import time

import numpy as np

import nn
from support import augment, checkpoint, cli, continental, mnist, parallel

# The images a run learns from and is measured on. The training images stay uint8 (N, 28, 28), as
# each round shuffles and shifts them anew; validation_x and test_x are network inputs (N, 784) float32.
# samples: with --samples, what the training images hold beside the dataset's, as the model file
# records it (the folder, the count of samples by label, the shares), else None.
Data = collections.namedtuple(
    "Data", "train_images train_labels validation_x validation_labels test_images test_x test_labels samples",
    defaults=[None])


def make_optimizer(network, name, weight_decay, betas=(0.9, 0.999)):
    """The optimizer `name` (sgd, momentum, nesterov or adam) of the network's parameters, with an
    L2 penalty of `weight_decay` on the weights; `betas`, Adam's two decay rates."""
    if name == "adam":
        return nn.Adam(network.parameters(), *betas, weight_decay=weight_decay)
    momentum = 0.0 if name == "sgd" else 0.9
    return nn.SGD(network.parameters(), momentum, name == "nesterov", weight_decay)


# The untrained network's cost is measured on this many images: enough for a steady mean, few
# enough to take milliseconds in a run that may last ten seconds.
COST_SAMPLES = 100


def cost_limit(network, images, labels):
    """The cost above which a run counts as diverged: a thousand times the untrained network's on
    the first COST_SAMPLES of images (N, 28, 28) uint8 with their labels (N,), and never below 1000."""
    cost = network.cost(network.forward(mnist.as_inputs(images[:COST_SAMPLES])), labels[:COST_SAMPLES])[0]
    return 1000 * max(1.0, cost)


class Run:
    """A training run between two rounds: everything that decides how it goes on.

    flags: what the run is, train.py's Flags (frozen: the same from the first round to the last);
    the run reads optimizer, weight_decay, betas, label_smoothing, ema, seed, threads, epochs,
    batch_size, lr, lr_schedule, shift, rotate, zoom, elastic, stroke, slant, blur, continental, validation and
    checkpoint from it.
    network: the network trained, which learns with the flags' label smoothing; max_cost: see
    cost_limit; rounds_before: the rounds the network had been trained before the run (--load).

    What changes: the optimizer's memory, the moving average of the weights (with --ema: average,
    else None; each round is measured and kept with its weights), shuffle_rng (the generator that
    orders and distorts the training images each round; the dropout layers hold their own), rounds
    (completed) and history (one dict of figures for each), and the weights kept so far. learner:
    what learns from the batches on flags.threads threads (parallel.learner).
    """

    def __init__(self, flags, network, max_cost, rounds_before=0):
        self.flags, self.network, self.max_cost, self.rounds_before = flags, network, max_cost, rounds_before
        network.label_smoothing = flags.label_smoothing  # before the learner copies the network
        self.optimizer = make_optimizer(network, flags.optimizer, flags.weight_decay, flags.betas)
        # A batch normalisation's running statistics are averaged with the weights: those of the last
        # batches fit the last weights, not their average, and with them the average reads far worse.
        averaged = network.parameters() + network.statistics()
        self.average = nn.MovingAverage(averaged, flags.ema) if flags.ema else None
        self.shuffle_rng = np.random.default_rng([flags.seed, 1])
        self.learner = parallel.learner(network, flags.threads)
        self.rounds, self.history = 0, []
        self.kept_round, self.kept_weights, self.best_validation = 0, self.weights(), None
        self.kept_predictions = None  # the kept weights' answer for each test image, when this run measured them

    def measured_weights(self):
        """A context within which the network holds the weights that each round is measured and kept
        with: the moving average's (--ema), else its own."""
        return self.average.applied() if self.average else contextlib.nullcontext()

    def weights(self):
        """A copy of the network's parameters and statistics (a batch normalisation's running ones)."""
        return [p.copy() for p in self.network.parameters() + self.network.statistics()]

    def round_done(self, figures, test_predictions=None):
        """Count a completed round, with its figures (a dict: round, cost, train, validation, test,
        seconds) and the class it gave each test image (N,), and keep its weights if it is the best on
        the validation images so far (or the last, without them)."""
        self.rounds += 1
        self.history.append(figures)
        validation = figures["validation"]
        if validation is None or self.best_validation is None or validation > self.best_validation:
            self.kept_round, self.kept_weights, self.best_validation = self.rounds, self.weights(), validation
            self.kept_predictions = test_predictions

    def restore_kept(self):
        """Put the kept weights (and statistics) back into the network."""
        for p, kept in zip(self.network.parameters() + self.network.statistics(), self.kept_weights):
            p[...] = kept

    def kept_accuracy(self):
        """The share of test images the kept weights classified right, as measured in their round."""
        return self.history[self.kept_round - 1]["test"]

    def generators(self):
        """The run's random generators by name: the shuffling one and, with dropout, the dropout one
        of the network ("dropout") and of each of its replicas ("dropout2", ...) in parallel.py."""
        generators = {"shuffle": self.shuffle_rng}
        for i, replica in enumerate(getattr(self.learner, "replicas", [self.network])):
            dropout = next((layer.rng for layer in replica.layers if isinstance(layer, nn.Dropout)), None)
            if dropout:
                generators["dropout" if i == 0 else f"dropout{i + 1}"] = dropout
        return generators


def train(run, data, log):
    """Train run.network from round run.rounds + 1 to run.flags.epochs on `data` (a Data), logging a
    line per round, and end with the kept weights in the network. On Ctrl-C, wherever it comes, the
    network gets the kept weights back (those of the last complete round, or the best one) and
    KeyboardInterrupt goes on up."""
    train_x = None  # each round's shuffled, shifted inputs, in one buffer reused round after round
    for epoch in range(run.rounds, run.flags.epochs):
        try:
            train_x = train_round(run, data, train_x, log)
        except KeyboardInterrupt:
            with cli.ctrl_c_deferred():  # a second Ctrl-C must not leave the weights half put back
                log(f"interrupted in round {epoch + 1}; keeping the weights after round {run.kept_round}")
                run.restore_kept()
            raise
    run.restore_kept()


def train_round(run, data, train_x, log):
    """Round run.rounds + 1: learn from every training image once, measure, write the checkpoint
    (--checkpoint) and log the round's line. train_x: the previous round's inputs, whose buffer this
    one reuses (None at first). Returns this round's."""
    flags, epoch = run.flags, run.rounds
    batch_size = flags.batch_size or len(data.train_images)
    batches = -(-len(data.train_images) // batch_size)

    def rate(batch):
        return nn.learning_rate(flags.lr_schedule, flags.lr, (epoch * batches + batch) / (flags.epochs * batches))

    start = time.perf_counter()
    images = continental.continental(data.train_images, data.train_labels, run.shuffle_rng, flags.continental)
    if flags.stroke or flags.slant or flags.blur:
        images = augment.restyle(images, run.shuffle_rng, flags.stroke, flags.slant, flags.blur)
    if flags.rotate or flags.zoom or flags.elastic:
        train_x, labels = mnist.shuffled_inputs(images, data.train_labels, run.shuffle_rng, flags.shift,
                                                train_x, flags.rotate, flags.zoom, flags.elastic)
    else:  # bytes, made into floats batch by batch
        train_x, labels = mnist.shuffled_pixels(images, data.train_labels, run.shuffle_rng, flags.shift,
                                                train_x.pixels if train_x is not None else None)
    cost, train_accuracy = nn.train_epoch(run.learner, run.optimizer, train_x, labels, batch_size, rate, run.max_cost,
                                          run.average)
    seconds = time.perf_counter() - start
    with run.measured_weights():
        validation = nn.accuracy(run.learner, data.validation_x, data.validation_labels) if flags.validation else None
        predictions = run.learner.predict(data.test_x)
        test = float(np.mean(predictions == data.test_labels))
        run.round_done({"round": epoch + 1, "cost": cost, "train": train_accuracy, "validation": validation,
                        "test": test, "seconds": seconds}, predictions)
    if flags.checkpoint:
        with cli.ctrl_c_deferred():  # so that a checkpoint holds every round counted done
            checkpoint.save(flags.checkpoint, run)
    log(f"cost after training round {epoch + 1}: {cost:.4f}  train {train_accuracy:.2%}"
        + (f"  validation {validation:.2%}" if flags.validation else "")
        + f"  test {test:.2%}  ({seconds:.2f} s)")
    return train_x
