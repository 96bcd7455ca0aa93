#!/usr/bin/env python3
"""The benchmark's PyTorch side: the same network, data, order and optimizer as ./train.py, in torch.

    python bench/torch_mnist.py --hidden 256 --epochs 10 --seed 0

The weights start from the very values train.py would draw (nn.Network with the same seed), and
each round uses mnist.shuffled_inputs with train.py's generator, so both see identical batches and
the only difference is who does the arithmetic. Prints train.py's lines, so that bench/compare.py
reads both the same way, and the prediction speed over the test images.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mnist  # noqa: E402
import nn  # noqa: E402


def torch_network(network):
    """A torch Sequential (Linear, ReLU, ..., Linear) holding copies of a ReLU nn.Network's weights."""
    layers = []
    for layer in network.layers:
        linear = torch.nn.Linear(*layer.weights.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights.T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.bias))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def accuracy(model, x, labels):
    with torch.inference_mode():
        return (model(x).argmax(dim=1) == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, nargs="*", default=[256])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--shift", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    train_images, train_labels = mnist.load_split("train", args.data_dir)
    test_images, test_labels = mnist.load_split("test", args.data_dir)
    test_x, test_y = torch.from_numpy(mnist.as_inputs(test_images)), torch.from_numpy(test_labels.astype(np.int64))
    model = torch_network(nn.mlp([784, *args.hidden, 10], "relu", rng=np.random.default_rng([args.seed, 0])))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng, x = np.random.default_rng([args.seed, 1]), None
    for epoch in range(args.epochs):
        start = time.perf_counter()
        x, labels = mnist.shuffled_inputs(train_images, train_labels, rng, args.shift, x)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
        total = 0.0
        for i in range(0, len(x), args.batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(inputs[i : i + args.batch_size]), targets[i : i + args.batch_size])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(targets[i : i + args.batch_size])
        seconds = time.perf_counter() - start
        print(f"cost after training round {epoch + 1}: {total / len(x):.4f}  "
              f"test {accuracy(model, test_x, test_y):.2%}  ({seconds:.2f} s)")
    print(f"correctly recognized images after training: {accuracy(model, test_x, test_y):.2%}")
    times = []
    for _ in range(30):  # after the accuracy above, a warm-up
        start = time.perf_counter()
        accuracy(model, test_x, test_y)
        times.append(time.perf_counter() - start)
    print(f"prediction: {len(test_x) / statistics.median(times):.0f} images/s")


if __name__ == "__main__":
    main()
