#!/usr/bin/env python3
"""How fast is the numpy network? Train the same models with ./train.py and with PyTorch, in one run.

    python bench/compare.py                 # the MLP and the CNN: about ten minutes on a 2-core machine
    python bench/compare.py --only mlp --epochs 5      # quicker, noisier
    python bench/compare.py --only fast                # the runs to 99% in one epoch, 5 seeds each

Prints a markdown table: for a fully connected network (784-256-10) and a convolutional one
(--conv 32 64 --kernel 3 --hidden), median seconds per epoch (the first epoch, a warm-up, left out),
the ratio to PyTorch, test accuracy, prediction speed, peak memory, and the share of this machine's
measured float32 matrix-product rate that training reaches. Then the original project's
configuration and the default recipe, timed whole. Then the runs to 99% in one epoch, each whole
command timed from process start to exit: ./train.py --recipe fast, the same recipe in PyTorch, and
tuomaso's recipe as a PyTorch user runs it (bench/tuomaso.py). PyTorch is optional (pip install torch==2.13.0);
without it the table says so. Every measurement runs in its own process, with the same number of
threads for both, and both start from the same weights and see the same batches.
"""

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))
os.environ.setdefault("OPENBLAS_NUM_THREADS", THREADS)  # numpy's BLAS reads this when it loads

import numpy as np

sys.path.insert(0, str(ROOT))
import conv
import nn
from support import mnist, model

RECIPE = ["--recipe", "mlp", "--activation", "relu", "--loss", "cross-entropy", "--optimizer", "adam", "--lr", "0.001",
          "--lr-schedule", "constant", "--batch-size", "128", "--seed", "0"]
# name: (the flags both sides build the network from, model.build's arguments for the FLOP count)
NETWORKS = {
    "mlp": (["--hidden", "256"], {"hidden": [256]}),
    "cnn": (["--conv", "32", "64", "--kernel", "3", "--hidden"],
            {"hidden": [], "conv_channels": [32, 64], "kernel": 3}),
}
# train.py's --recipe fast, as torch_mnist.py's flags: the same network, weights, batches and schedule.
FAST_IN_TORCH = ["--conv", "24", "32", "--kernel", "5", "3", "--hidden", "256", "--batch-size", "256", "--lr", "0.01",
                 "--betas", "0.7", "0.9", "--lr-schedule", "one-cycle", "--shift", "0", "--epochs", "1",
                 "--prediction-repeats", "0"]
ORIGINAL = ["--recipe", "original-128"]  # the original's 128-neuron network, reconstructed (README: the journey)
ORIGINAL_SECONDS = 240  # "94% after 4 minutes", as the original project reported


def run(command, data_dir, variables=None):
    """Run a command, with these environment variables besides ours; returns (its output, wall
    seconds, peak resident memory in bytes)."""
    start = time.perf_counter()
    env = dict(os.environ, **(variables or {}), **({"MNIST_DIR": str(data_dir)} if data_dir else {}))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # the rusage of this child alone
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n{output}")
    return output, seconds, usage.ru_maxrss * 1024


def epoch_seconds(output):
    """The per-round seconds that train.py (and torch_mnist.py) print, warm-up round left out."""
    seconds = [float(s) for s in re.findall(r"cost after training round \d+: .*\((\d+\.\d+) s\)", output)]
    return seconds[1:] or seconds


def final_accuracy(output):
    return float(re.search(r"correctly recognized images after training: (\d+\.\d+)%", output).group(1))


def gemm_rate(size=2048, repeats=7):
    """This machine's float32 matrix-product speed in FLOP/s (median of several size x size products)."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a  # warm-up: threads started, memory touched
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times)


def training_flops(network, images):
    """Multiply-adds x 2 of one epoch: forward products, weight gradients, and input gradients of
    every layer but the first (train.py skips that one)."""
    products = []
    for layer in network.layers:
        if isinstance(layer, nn.Dense):
            products.append(layer.weights.size)
        elif isinstance(layer, conv.Conv2D):  # one (pixels, K*K*in) x (K*K*in, out) product over every
            # pixel of the convolution, as im2col in PyTorch computes it (this project skips those pooling
            # drops, and multiplies less by Winograd's products)
            height, width = ((size + 2 * layer.padding - layer.kernel) // layer.stride + 1
                             for size in layer.input_shape[:2])
            products.append(height * width * layer.weights.size)
    return 2 * images * (2 * sum(products) + sum(products[1:]))


def prediction_rate(model_path, test_x, repeats=30):
    """Images per second that a saved network classifies, in batches of 10,000 (median of repeats, after a warm-up)."""
    network, _ = model.load(model_path)
    network.predict(test_x)  # warm-up: buffers made, memory touched
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        network.predict(test_x)
        times.append(time.perf_counter() - start)
    return len(test_x) / statistics.median(times)


def megabytes(size):
    return f"{size / 2**20:.0f} MB"


def compare(name, epochs, test_x, data_dir, rate):
    """Train network `name` for `epochs` rounds with train.py and with PyTorch; prints its table rows."""
    python, (flags, architecture) = sys.executable, NETWORKS[name]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "model.npz"
        command = [python, str(ROOT / "train.py"), *RECIPE, *flags, "--epochs", str(epochs), "--threads", THREADS,
                   "--save", str(saved)]
        output, _, memory = run(command, data_dir)
        rows.append(["numpy (this project)", epoch_seconds(output), final_accuracy(output),
                     prediction_rate(saved, test_x), memory])
    if importlib.util.find_spec("torch"):
        command = [python, str(ROOT / "bench" / "torch_mnist.py"), *flags, "--epochs", str(epochs), "--seed", "0"]
        output, _, memory = run(command, data_dir)
        speed = float(re.search(r"prediction: (\d+) images/s", output).group(1))
        version = re.search(r"torch (\S+),", output).group(1)
        rows.append([f"PyTorch {version}", epoch_seconds(output), final_accuracy(output), speed, memory])
    else:
        rows.append(None)
    flops = training_flops(model.build(**architecture), 60000)
    print(f"{name}: {' '.join(flags)}; ReLU, softmax cross-entropy, Adam lr 0.001, batch 128, float32, "
          f"{epochs} epochs ({flops / 1e9:.1f} GFLOP per epoch)\n")
    print("| implementation | s/epoch (median) | ratio to PyTorch | test accuracy | prediction images/s "
          "| peak RSS | share of GEMM rate |")
    print("|---|---|---|---|---|---|---|")
    reference = statistics.median(rows[1][1]) if rows[1] else None
    for row in rows:
        if row is None:
            print("| PyTorch | not installed (pip install torch==2.13.0) | | | | | |")
            continue
        implementation, seconds, accuracy, speed, memory = row
        median = statistics.median(seconds)
        ratio = f"{median / reference:.2f}" if reference else "-"
        print(f"| {implementation} | {median:.3f} | {ratio} | {accuracy:.2f}% | {speed:,.0f} | {megabytes(memory)} "
              f"| {flops / median / rate:.0%} |")
    print()


def fast_runs(seeds, data_dir):
    """The whole command of each way to 99% in one epoch, seed by seed, the sides alternating: ours
    (./train.py --recipe fast), the same recipe in PyTorch (torch_mnist.py) and tuomaso's own recipe in
    PyTorch (tuomaso.py); prints a table of medians over the seeds."""
    python, bench = sys.executable, ROOT / "bench"
    sides = {"numpy, ./train.py --recipe fast": lambda seed: [python, str(ROOT / "train.py"), "--recipe", "fast",
                                                              "--seed", str(seed), "--threads", THREADS]}
    if importlib.util.find_spec("torch"):
        sides["PyTorch, the same recipe (torch_mnist.py)"] = lambda seed: [
            python, str(bench / "torch_mnist.py"), *FAST_IN_TORCH, "--seed", str(seed)]
        sides["PyTorch, tuomaso's recipe (tuomaso.py)"] = lambda seed: [python, str(bench / "tuomaso.py"),
                                                                         "--seed", str(seed)]
    figures = {side: [] for side in sides}
    for seed in seeds:
        for side, command in sides.items():
            output, seconds, memory = run(command(seed), data_dir)
            figures[side].append((final_accuracy(output), training_seconds(output), seconds, memory))
    print(f"99% in one epoch: whole commands, {len(seeds)} seeds ({', '.join(map(str, seeds))}), medians\n")
    print("| implementation | test accuracy | lowest | training s | wall s, process start to exit | peak RSS |")
    print("|---|---|---|---|---|---|")
    for side, rows in figures.items():
        accuracy, training, wall, memory = (statistics.median(column) for column in zip(*rows))
        lowest = min(row[0] for row in rows)
        print(f"| {side} | {accuracy:.2f}% | {lowest:.2f}% | {training:.1f} | {wall:.1f} | {megabytes(memory)} |")
    if len(sides) == 1:
        print("| PyTorch | not installed (pip install torch==2.13.0) | | | | |")
    print()


def training_seconds(output):
    """The seconds of training that train.py, torch_mnist.py or tuomaso.py report."""
    took = re.search(r"training took (\d+\.\d+) s|training (\d+\.\d+)", output)
    if took:
        return float(took.group(1) or took.group(2))
    return sum(float(s) for s in re.findall(r"cost after training round \d+: .*\((\d+\.\d+) s\)", output))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the compared MLP runs (default: 10)")
    parser.add_argument("--cnn-epochs", type=int, default=3, help="epochs of the compared CNN runs (default: 3)")
    parser.add_argument("--only", choices=[*NETWORKS, "fast"],
                        help="compare only this network (fast: the runs to 99%% in one epoch), and skip the whole runs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5],
                        help="the seeds of the runs to 99%% in one epoch (default: 1 2 3 4 5)")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else data/)")
    args = parser.parse_args()
    test_x = mnist.as_inputs(mnist.load_split("test", args.data_dir)[0])
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"CPU: {cpu}, {os.cpu_count()} cores; {THREADS} threads for PyTorch and for numpy (the MLP: BLAS threads; "
          f"the CNN: train.py's own, parallel.py); numpy {np.__version__}")
    rate = gemm_rate()
    print(f"measured float32 matrix product (2048 x 2048): {rate / 1e9:.0f} GFLOP/s\n")
    for name in [args.only] if args.only else NETWORKS:
        if name != "fast":
            compare(name, args.cnn_epochs if name == "cnn" else args.epochs, test_x, args.data_dir, rate)
    if args.only in (None, "fast"):
        fast_runs(args.seeds, args.data_dir)
    if args.only:
        return
    print("| whole run | test accuracy | wall time | peak RSS |")
    print("|---|---|---|---|")
    original = "the original's configuration (--recipe original-128: sigmoid, 128 hidden, 100 rounds)"
    for name, flags in [(original, ORIGINAL),
                        ("the default recipe (./train.py)", [])]:
        output, seconds, memory = run([sys.executable, str(ROOT / "train.py"), *flags, "--quiet"], args.data_dir)
        print(f"| {name} | {final_accuracy(output):.2f}% | {seconds:.1f} s | {megabytes(memory)} |")
    print(f"\nThe original took about {ORIGINAL_SECONDS} s for its 100 rounds.")


if __name__ == "__main__":
    main()
