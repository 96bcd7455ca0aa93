#!/usr/bin/env python3
"""How does training fare when another program is busy on the same machine?

    python bench/shared_machine.py            # about four minutes on a 2-core machine

Trains two networks for a few rounds, each run in its own process: the default recipe (a fully
connected network, whose matrix products BLAS splits between its threads) and a CNN (which
parallel.py trains in two parts of each batch on two threads, one BLAS thread each). Each runs on
an idle machine with --threads set to the number of cores; then beside a busy neighbour (another
process doing matrix products on one core) with the same threads; then beside the same neighbour
with --threads 1. Prints the median seconds per round of each.

BLAS's threads wait for each other by spinning, a few microseconds per product when all of them
run; when a neighbour takes one of the cores, the thread that shares it finishes its half a
scheduler time slice late, and every product waits for it. parallel.py's threads wait once per
batch, and a batch's work is long beside a time slice.
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from compare import epoch_seconds, run  # noqa: E402

NEIGHBOUR = ("import numpy as np\n"
             "a = np.ones((1024, 1024), np.float32)\n"
             "while True:\n"
             "    a @ a\n")


NETWORKS = {
    "the default recipe (MLP)": [],
    "a CNN: --conv 32 64 --kernel 3 --hidden, batches of 128, 20,000 images": [
        "--conv", "32", "64", "--kernel", "3", "--hidden", "--batch-size", "128", "--limit", "20000"],
}


def rounds(flags, threads, data_dir, epochs):
    """Median seconds per round of `./train.py *flags --epochs epochs --threads threads`."""
    command = [sys.executable, str(ROOT / "train.py"), *flags, "--epochs", str(epochs), "--threads", str(threads)]
    output, _, _ = run(command, data_dir)
    return statistics.median(epoch_seconds(output))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4, help="rounds of each run (default: 4)")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else data/)")
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"{cores} cores; median seconds per round of {args.epochs}\n")
    print("| network | machine | --threads | s/round |")
    print("|---|---|---|---|")
    for name, flags in NETWORKS.items():
        print(f"| {name} | idle | {cores} | {rounds(flags, cores, args.data_dir, args.epochs):.2f} |")
        neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR], env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        try:
            for threads in (cores, 1):
                print(f"| {name} | one core busy with another program | {threads} | "
                      f"{rounds(flags, threads, args.data_dir, args.epochs):.2f} |")
        finally:
            neighbour.kill()
            neighbour.wait()


if __name__ == "__main__":
    main()
