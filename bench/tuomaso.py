#!/usr/bin/env python3
"""The fastest known recipe to 99% on MNIST, as a PyTorch user would run it (tuomaso/train_mnist_fast).

    python bench/tuomaso.py --seed 1

Its steps, as that project describes them: the whole data set held as one tensor (normalised to mean
0 and deviation 1); conv 24 5 x 5, 2 x 2 max-pooling before the ReLU, conv 32 3 x 3, pooling, ReLU, a
dense layer of 256 and the output layer; Adam at lr 0.01 with betas 0.7 and 0.9 under PyTorch's
one-cycle schedule; batches of 256; no dropout; one epoch. PyTorch's own initialisation and its own
shuffling: nothing here comes from this project but the reading of the MNIST files. Prints the test
accuracy and where the seconds went, in lines bench/compare.py reads.
"""

import argparse
import os
import sys
import time

START = time.perf_counter()

import torch  # noqa: E402 (after START: importing torch is part of what a user waits for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from support import mnist  # noqa: E402


def network():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 24, 5), torch.nn.MaxPool2d(2), torch.nn.ReLU(),
        torch.nn.Conv2d(24, 32, 3), torch.nn.MaxPool2d(2), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(800, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))


def tensors(split, data_dir):
    """A split as one normalised (N, 1, 28, 28) float tensor and its (N,) int64 labels."""
    images, labels = mnist.load_split(split, data_dir)
    x = torch.from_numpy(images).float().div_(255).unsqueeze(1)
    return (x - 0.1307) / 0.3081, torch.from_numpy(labels).long()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    imported = time.perf_counter()
    (train_x, train_y), (test_x, test_y) = tensors("train", args.data_dir), tensors("test", args.data_dir)
    loaded = time.perf_counter()
    model, batch = network(), 256
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.7, 0.9))
    steps = args.epochs * -(-len(train_x) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=steps)
    for _ in range(args.epochs):
        order = torch.randperm(len(train_x))
        for i in range(0, len(train_x), batch):
            rows = order[i : i + batch]
            loss = torch.nn.functional.cross_entropy(model(train_x[rows]), train_y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    trained = time.perf_counter()
    with torch.inference_mode():
        right = sum((model(test_x[i : i + 1000]).argmax(1) == test_y[i : i + 1000]).sum().item()
                    for i in range(0, len(test_x), 1000))
    done = time.perf_counter()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"seconds: import {imported - START:.2f}, data {loaded - imported:.2f}, training {trained - loaded:.2f}, "
          f"test {done - trained:.2f}")
    print(f"correctly recognized images after training: {right / len(test_x):.2%}")


if __name__ == "__main__":
    main()
