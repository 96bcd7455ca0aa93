#!/usr/bin/env python3
"""How does training fare when another program is busy on the same machine?

    python bench/shared_machine.py            # about eight minutes on a 2-core machine

Trains two networks for a few rounds, each run in its own process: the mlp recipe (a fully
connected network, whose matrix products BLAS shares out among its threads) and a CNN (which
parallel.DataParallel trains in two parts of each batch on two threads, one BLAS thread each).
Each runs on an idle machine, then beside a busy neighbour (another process doing matrix products
on one core): without --threads (train.py's choice), with --threads set to the
number of cores (also with BLAS's threads made to sleep at once when idle, which shows what their
spinning costs), and with --threads 1. The runs alternate, `--repeats` times, and the table gives
the median seconds per round of each.

BLAS's threads wait for each other in every product, by spinning. When a neighbour takes one of the
cores, the thread that shares it with the neighbour gets half of it, and every product waits for
that thread's half: two threads then run slower than one. Without --threads, a fully connected
network is trained on one thread per idle core, counted once at the start (parallel.choose_threads).
parallel.py's threads (the CNN) wait once per batch, and a batch's work is long beside the
scheduler's time slice, so it keeps one per core.
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from compare import epoch_seconds, run

NEIGHBOUR = ("import numpy as np\n"
             "a = np.ones((1024, 1024), np.float32)\n"
             "while True:\n"
             "    a @ a\n")


NETWORKS = {
    "the mlp recipe": ["--recipe", "mlp"],
    "a CNN: --conv 32 64 --kernel 3 --hidden, batches of 128, 20,000 images": [
        "--recipe", "mlp", "--conv", "32", "64", "--kernel", "3", "--hidden", "--batch-size", "128",
        "--limit", "20000"],
}


def rounds(flags, threads, variables, data_dir, epochs):
    """Seconds per round of `./train.py *flags --epochs epochs [--threads threads]`, all but the
    first, with these environment variables."""
    command = [sys.executable, str(ROOT / "train.py"), *flags, "--epochs", str(epochs)]
    output, _, _ = run(command + (["--threads", str(threads)] if threads else []), data_dir, variables)
    return epoch_seconds(output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4, help="rounds of each run (default: 4)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each kind, alternating (default: 2)")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else data/)")
    args = parser.parse_args()
    cores = os.cpu_count()
    # (what the table says, --threads, environment variables): the last two only beside the neighbour
    runs = [("not given", None, {}), (str(cores), cores, {}),
            (f"{cores}, with OPENBLAS_THREAD_TIMEOUT=4 (BLAS's threads sleep instead of spinning)", cores,
             {"OPENBLAS_THREAD_TIMEOUT": "4"}),
            ("1", 1, {})]
    print(f"{cores} cores; median seconds per round over {args.repeats} runs of {args.epochs} rounds\n")
    print("| network | machine | --threads | s/round |")
    print("|---|---|---|---|")
    for name, flags in NETWORKS.items():
        for machine, busy in (("idle", False), ("one core busy with another program", True)):
            neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR],
                                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}) if busy else None
            kinds = runs if busy else runs[:2]
            seconds = {label: [] for label, _, _ in kinds}
            try:
                for _ in range(args.repeats):
                    for label, threads, variables in kinds:
                        seconds[label] += rounds(flags, threads, variables, args.data_dir, args.epochs)
            finally:
                if neighbour:
                    neighbour.kill()
                    neighbour.wait()
            for label, times in seconds.items():
                print(f"| {name} | {machine} | {label} | {statistics.median(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
