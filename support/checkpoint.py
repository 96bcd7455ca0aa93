"""Checkpoints: the complete state of a training run after a round, so that ./train.py --resume goes
on exactly as the run would have gone on had it never stopped, bit for bit.

A checkpoint is a model file (model.py; predict.py reads it like any other) whose metadata also
holds the run's flags, the rounds done and their history, the states of its random generators and
the optimizer's step count, and whose arrays also hold the optimizer's memory (Adam's moments or
the momentum) and the weights of the round kept so far (the best on validation images, or the last).
"""

import collections

import numpy as np

import nn
from support import model, parallel

VERSION = 1


class CheckpointError(model.ModelError):
    """A file that is not a checkpoint, a damaged one, or one this program cannot resume."""


class Run:
    """A training run between two rounds: everything that decides how it goes on.

    network, optimizer: as train.py made them; flags: the run's flags as a dict; max_cost: the cost
    above which the run counts as diverged; shuffle_rng: the generator that orders and distorts the
    training images each round. The network's dropout layers hold their own generator. threads: how
    many to train on (default: parallel.default_threads(), from which a fully connected network goes
    down to one while that is faster). learner: what learns from the batches, a parallel.DataParallel of the network
    for a convolutional one, a parallel.BlasThreads of it otherwise.
    """

    def __init__(self, network, optimizer, flags, max_cost, shuffle_rng, threads=None):
        self.network, self.optimizer, self.flags, self.max_cost = network, optimizer, flags, max_cost
        self.shuffle_rng = shuffle_rng
        self.learner = parallel.learner(network, threads or parallel.choose_threads(network))
        self.rounds, self.history = 0, []  # rounds completed, and one dict of figures for each
        self.kept_round, self.kept_weights, self.best_validation = 0, self.weights(), None

    def weights(self):
        """A copy of the network's parameters."""
        return [p.copy() for p in self.network.parameters()]

    def keep(self):
        """Remember the current weights as the ones to end with."""
        self.kept_round, self.kept_weights = self.rounds, self.weights()

    def restore_kept(self):
        """Put the kept weights back into the network."""
        for p, kept in zip(self.network.parameters(), self.kept_weights):
            p[...] = kept

    def generators(self):
        """The run's random generators by name: the shuffling one and, with dropout, the dropout one
        of the network ("dropout") and of each of its replicas ("dropout2", ...) in parallel.py."""
        generators = {"shuffle": self.shuffle_rng}
        for i, replica in enumerate(getattr(self.learner, "replicas", [self.network])):
            dropout = next((layer.rng for layer in replica.layers if isinstance(layer, nn.Dropout)), None)
            if dropout:
                generators["dropout" if i == 0 else f"dropout{i + 1}"] = dropout
        return generators


def save(path, run, pause=None):
    """Write `run` to `path` atomically and durably; OSError naming `path` when it cannot.
    pause: see model.save."""
    state = {"version": VERSION, "flags": run.flags, "rounds": run.rounds, "history": run.history,
             "kept_round": run.kept_round, "best_validation": run.best_validation, "max_cost": run.max_cost,
             "optimizer_steps": run.optimizer.steps,
             "generators": {name: rng.bit_generator.state for name, rng in run.generators().items()}}
    arrays = {f"optimizer{i}": array for i, array in enumerate(run.optimizer.state())}
    arrays.update({f"kept{i}": array for i, array in enumerate(run.kept_weights)})
    model.save(run.network, path, {"rounds": run.kept_round, "checkpoint": state}, arrays, pause,
               run.flags.get("dataset", "mnist"))


Saved = collections.namedtuple("Saved", "path network flags state arrays")


def load(path):
    """Read a checkpoint: its network (with the weights of the last round done), its flags (a dict) and
    the rest of its state, for restore. Raises CheckpointError (or ModelError) naming the file."""
    network, metadata, arrays = model.read(path)
    state = metadata.get("checkpoint")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: a model file, not a checkpoint (./train.py --load starts from a model; "
                              "--resume needs a file written by --checkpoint)")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state.get('version')!r}; this program resumes version "
                              f"{VERSION}")
    if not isinstance(state.get("flags"), dict):
        raise CheckpointError(f"{path}: a damaged checkpoint (no flags)")
    # The dropout layers of a run share one generator, whose state restore sets.
    shared = np.random.Generator(np.random.PCG64())
    for layer in network.layers:
        if isinstance(layer, nn.Dropout):
            layer.rng = shared
    return Saved(path, network, state["flags"], state, arrays)


def restore(run, saved):
    """Put the state of checkpoint `saved` into `run`, made for saved.network with saved.flags."""
    state, arrays = saved.state, saved.arrays
    try:
        run.rounds, run.history, run.max_cost = int(state["rounds"]), list(state["history"]), float(state["max_cost"])
        run.kept_round, run.best_validation = int(state["kept_round"]), state["best_validation"]
        run.optimizer.steps = int(state["optimizer_steps"])
        for name, target in [*((f"optimizer{i}", a) for i, a in enumerate(run.optimizer.state())),
                             *((f"kept{i}", a) for i, a in enumerate(run.kept_weights))]:
            if arrays[name].shape != target.shape:
                raise ValueError(f"{name} has shape {arrays[name].shape}, expected {target.shape}")
            target[...] = arrays[name]
        generators = run.generators()
        if set(generators) != set(state["generators"]):
            raise ValueError(f"random generators {sorted(state['generators'])}, expected {sorted(generators)}")
        for name, rng in generators.items():
            rng.bit_generator.state = state["generators"][name]
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{saved.path}: a damaged checkpoint, or one from another version ({error})") from None
