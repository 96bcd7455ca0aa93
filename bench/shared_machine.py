#!/usr/bin/env python3
"""How does training fare when another program is busy on the same machine?

    python bench/shared_machine.py            # about two minutes on a 2-core machine

Trains the default recipe for a few rounds three times, each in its own process: on an idle machine
with one BLAS thread per core; then beside a busy neighbour (another process doing matrix products
on one core) with the same threads; then beside the same neighbour with OPENBLAS_NUM_THREADS=1.
Prints the median seconds per round of each. BLAS splits every matrix product between its threads
and waits for the slowest: when a neighbour takes one of the cores, the thread that shares it with
the neighbour finishes its half a scheduler time slice late, and every product waits for it.
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


def rounds(threads, data_dir, epochs):
    """Median seconds per round of `./train.py --epochs epochs` with `threads` BLAS threads."""
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(threads)
    output, _, _ = run([sys.executable, str(ROOT / "train.py"), "--epochs", str(epochs)], data_dir)
    return statistics.median(epoch_seconds(output))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4, help="rounds of each run (default: 4)")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else data/)")
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"{cores} cores; the default recipe, median seconds per round of {args.epochs}\n")
    print("| machine | BLAS threads | s/round |")
    print("|---|---|---|")
    print(f"| idle | {cores} | {rounds(cores, args.data_dir, args.epochs):.2f} |")
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR], env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    try:
        for threads in (cores, 1):
            print(f"| one core busy with another program | {threads} | {rounds(threads, args.data_dir, args.epochs):.2f} |")
    finally:
        neighbour.kill()
        neighbour.wait()


if __name__ == "__main__":
    main()
