"""Checkpoints: the complete state of a training run (training.Run) after a round, written to a file
and read back, so that ./train.py --resume goes on exactly as the run would have gone on had it never
stopped, bit for bit.

A checkpoint is a model file (model.py; predict.py reads it like any other) whose metadata also
holds the run's flags, the rounds done and their history, the states of its random generators and
the optimizer's step count, and whose arrays also hold the optimizer's memory (Adam's moments or
the momentum), the moving average of the weights (--ema) and the weights of the round kept so far
(the best on validation images, or the last).
Version 2 holds the flags as train.py's Flags, with the thread count, and the rounds a loaded
network had before the run; version 1, whose flags were the command line's, is not resumed.
"""

import collections
import dataclasses

import numpy as np

import nn
from support import model

VERSION = 2


class CheckpointError(model.ModelError):
    """A file that is not a checkpoint, a damaged one, or one this program cannot resume."""


def save(path, run):
    """Write `run`, a training.Run, to `path` atomically and durably; OSError naming `path` when it
    cannot."""
    state = {"version": VERSION, "flags": dataclasses.asdict(run.flags), "rounds": run.rounds,
             "rounds_before": run.rounds_before, "history": run.history,
             "kept_round": run.kept_round, "best_validation": run.best_validation, "max_cost": run.max_cost,
             "optimizer_steps": run.optimizer.steps, "average_steps": run.average.steps if run.average else 0,
             "generators": {name: rng.bit_generator.state for name, rng in run.generators().items()}}
    arrays = {f"optimizer{i}": array for i, array in enumerate(run.optimizer.state())}
    arrays.update({f"average{i}": array for i, array in enumerate(average_state(run))})
    arrays.update({f"kept{i}": array for i, array in enumerate(run.kept_weights)})
    model.save(run.network, path, {"rounds": run.kept_round, "checkpoint": state}, arrays, run.flags.dataset)


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
                              f"{VERSION} (start the run again, with the flags line it printed)")
    if not isinstance(state.get("flags"), dict):
        raise CheckpointError(f"{path}: a damaged checkpoint (no flags)")
    # The dropout layers of a run share one generator, whose state restore sets.
    shared = np.random.Generator(np.random.PCG64())
    for layer in network.layers:
        if isinstance(layer, nn.Dropout):
            layer.rng = shared
    return Saved(path, network, state["flags"], state, arrays)


def restore(run, saved):
    """Put the state of checkpoint `saved` into `run`, a training.Run made for saved.network with the
    flags in saved.flags."""
    state, arrays = saved.state, saved.arrays
    try:
        run.rounds, run.history, run.max_cost = int(state["rounds"]), list(state["history"]), float(state["max_cost"])
        run.rounds_before = int(state["rounds_before"])
        run.kept_round, run.best_validation = int(state["kept_round"]), state["best_validation"]
        run.optimizer.steps = int(state["optimizer_steps"])
        if run.average:
            run.average.steps = int(state["average_steps"])
        for name, target in [*((f"optimizer{i}", a) for i, a in enumerate(run.optimizer.state())),
                             *((f"average{i}", a) for i, a in enumerate(average_state(run))),
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


def average_state(run):
    """The arrays of the run's moving average of the weights (--ema); none without it."""
    return run.average.state() if run.average else []
