#!/usr/bin/env python3
"""Replay the original project's journey: every step as a ./train.py recipe, run and timed, in one
table beside the figures the original printed, and one picture of test accuracy round by round.

    ./journey.py                                  # 2 to 5 minutes on a 2-core machine; the picture: journey.png
    ./journey.py --output screenshots/journey.png # the README's picture
"""

from support import packages

packages.require()  # before the imports that need them: one line, not a traceback, if they are missing

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from support import cli, mnist, plots

ROOT = Path(__file__).resolve().parent


@dataclass
class Step:
    """One step of the journey: train.py's arguments and what the original printed for it, its test
    accuracy in percent by round and its cost after the first and the last round (None: not printed)."""

    name: str
    arguments: list
    original_accuracy: dict = field(default_factory=dict)
    original_costs: tuple = (None, None)


STEPS = [
    Step("random weights only", ["--recipe", "original-random"]),
    Step("sigmoid, two hidden layers of 16, 100 rounds", ["--recipe", "original-16-16"], {100: 11.35}, (1.046, 0.4499)),
    Step("sigmoid, one hidden layer of 128, 20 rounds", ["--recipe", "original-128", "--epochs", "20"],
         {20: 89.09}, (0.4452, 0.1078)),
    Step("the same, 100 rounds", ["--recipe", "original-128"], {100: 94.17}, (0.4452, 0.0431)),
    Step("ReLU, linearly falling learning rate, 100 rounds", ["--recipe", "original-relu"], {100: 92.46}),
    Step("our default", []),
]


@dataclass
class Run:
    """What one train.py run printed: test accuracy in percent after each round (round 0: untrained),
    the cost of each round, and the wall time of the whole command in seconds."""

    accuracy: list
    costs: list
    seconds: float


def run_step(step, data_dir):
    """Run ./train.py for `step` in its own process; returns a Run, or exits with train.py's complaint."""
    command = [sys.executable, str(ROOT / "train.py"), *step.arguments, *(["--data-dir", data_dir] if data_dir else [])]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        complaint = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        cli.fail(f"{display(step)} failed: {complaint.removeprefix('train.py: error: ')}")
    return parse_output(result.stdout, seconds)


def parse_output(output, seconds):
    """The per-round figures from train.py's printout (see Run)."""
    initial = re.search(r"correctly recognized images after initialization: (\d+\.\d+)%", output).group(1)
    rounds = re.findall(r"cost after training round \d+: (\d+\.\d+) .* test (\d+\.\d+)%", output)
    return Run([float(initial)] + [float(test) for _, test in rounds], [float(cost) for cost, _ in rounds], seconds)


def display(step):
    return " ".join(["./train.py", *step.arguments])


def cost_cell(ours, original):
    """Our cost beside the original's, e.g. "0.1076 (0.1078)"."""
    if ours is None:
        return "—"
    return f"{ours:.4f}" + (f" ({original:g})" if original is not None else "")


def table(runs):
    """The markdown table of every step and its run."""
    lines = ["| step | command | the original | ours | cost after the first round (the original's) "
             "| cost after the last round (the original's) | wall time |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for step, run in runs:
        rounds = len(run.accuracy) - 1
        original = f"{step.original_accuracy[rounds]:.2f}%" if rounds in step.original_accuracy else "—"
        first, last = (run.costs[0], run.costs[-1]) if run.costs else (None, None)
        lines.append(f"| {step.name} | `{display(step)}` | {original} | {run.accuracy[-1]:.2f}% "
                     f"| {cost_cell(first, step.original_costs[0])} | {cost_cell(last, step.original_costs[1])} "
                     f"| {run.seconds:.1f} s |")
    return "\n".join(lines)


def journey_figure(runs):
    """Test accuracy by round for every step, with the original's printed figures as markers."""
    figure = Figure(figsize=(9, 5.2), layout="constrained")
    axes = figure.add_subplot()
    for (step, run), color in zip(runs, [f"C{i}" for i in range(len(runs))]):
        if len(run.accuracy) == 1:
            axes.plot(0, run.accuracy[0], "o", color=color, label=step.name)
        elif extended(run, [other for _, other in runs]):  # drawn wide and pale, to show under the longer run
            axes.plot(run.accuracy, color=color, linewidth=6, alpha=0.4, label=step.name)
        else:
            axes.plot(run.accuracy, color=color, linewidth=1.5, label=step.name)
        for round_, accuracy in step.original_accuracy.items():
            axes.plot(round_, accuracy, "*", color=color, markersize=14, markeredgecolor="black")
    axes.plot([], [], "*", color="white", markersize=14, markeredgecolor="black", label="the original's printed figure")
    axes.set(xlabel="training round", ylabel="test accuracy (%)", ylim=(0, 100),
             title="The original's journey replayed: test accuracy after each round")
    axes.grid(alpha=0.3)
    axes.legend(loc="center right", fontsize=9)
    return figure


def extended(run, runs):
    """Whether another of `runs` went on from where `run` stopped, round for round the same."""
    return any(len(other.accuracy) > len(run.accuracy) and other.accuracy[:len(run.accuracy)] == run.accuracy
               for other in runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else data/)")
    parser.add_argument("--output", default="journey.png",
                        help="where to write the picture, in the format its extension names (.png, .jpg, .pdf, "
                             ".svg, ...; default: journey.png, in the current folder; the README's is "
                             "screenshots/journey.png)")
    args = parser.parse_args(argv)
    problem = plots.unwritable_picture(args.output)
    if problem:  # the output and the data checked before minutes of training, not after
        parser.error(f"--output {args.output}: {problem}")
    try:
        for split in mnist.SPLITS:
            mnist.load_split(split, args.data_dir)
    except mnist.MnistError as error:
        cli.fail(error)
    runs = []
    for number, step in enumerate(STEPS, 1):
        print(f"step {number} of {len(STEPS)}: {display(step)}", file=sys.stderr, flush=True)
        runs.append((step, run_step(step, args.data_dir)))
    print(table(runs))
    try:
        plots.save(journey_figure(runs), args.output)
    except OSError as error:
        cli.fail_to_write(error)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
