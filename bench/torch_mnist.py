#!/usr/bin/env python3
"""The benchmark's PyTorch side: the same network, data, order and optimizer as ./train.py, in torch.

    python bench/torch_mnist.py --hidden 256 --epochs 10 --seed 0
    python bench/torch_mnist.py --conv 32 64 --kernel 3 --hidden --epochs 3 --seed 0
    python bench/torch_mnist.py --conv 24 32 --kernel 5 3 --batch-size 256 --lr 0.01 --betas 0.7 0.9 \
        --lr-schedule one-cycle --shift 0 --epochs 1      # train.py's --recipe fast

The weights start from the very values train.py would draw (model.build with the same seed), and
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
import conv
import nn
from support import mnist
from support import model as ours


def torch_network(network):
    """A torch Sequential holding copies of a model.build network's weights (ReLU, no dropout).

    Ours keeps images channels last and flattens them in (row, column, channel) order; torch keeps
    channels first and flattens in (channel, row, column) order: the weights are permuted to match."""
    layers, image = [], None  # image: the (height, width, channels) that the next Flatten meets
    with torch.no_grad():
        for layer in network.layers:
            if isinstance(layer, conv.Conv2D):
                k, (_, _, in_channels), out_channels = layer.kernel, layer.input_shape, layer.output_shape[2]
                convolution = torch.nn.Conv2d(in_channels, out_channels, k, padding=layer.padding)
                convolution.weight.copy_(torch.from_numpy(
                    layer.weights.reshape(k, k, in_channels, out_channels).transpose(3, 2, 0, 1).copy()))
                convolution.bias.copy_(torch.from_numpy(layer.bias))
                layers += [convolution, torch.nn.ReLU()] + ([torch.nn.MaxPool2d(layer.pool)] if layer.pool > 1 else [])
            elif isinstance(layer, conv.MaxPool2D):
                layers.append(torch.nn.MaxPool2d(2))
            elif isinstance(layer, conv.Flatten):
                image = layer.input_shape
                layers.append(torch.nn.Flatten())
            elif isinstance(layer, nn.Dense):
                weights = layer.weights
                if image is not None:  # rows in (row, column, channel) order -> (channel, row, column)
                    weights = weights.reshape(*image, -1).transpose(2, 0, 1, 3).reshape(len(weights), -1)
                    image = None
                linear = torch.nn.Linear(*weights.shape)
                linear.weight.copy_(torch.from_numpy(weights.T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.bias))
                layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])  # no ReLU after the logits


def accuracy(model, x, labels, batch_size=1000):
    """The fraction of x classified as labels, in batches: a CNN's activations for all 10,000 test
    images at once would take gigabytes."""
    with torch.inference_mode():
        right = sum((model(x[i : i + batch_size]).argmax(dim=1) == labels[i : i + batch_size]).sum().item()
                    for i in range(0, len(x), batch_size))
    return right / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conv", type=int, nargs="*", default=[])
    parser.add_argument("--kernel", type=int, nargs="+", default=[3])
    parser.add_argument("--hidden", type=int, nargs="*", default=[256])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--lr-schedule", choices=nn.SCHEDULES, default="constant")
    parser.add_argument("--betas", type=float, nargs=2, default=[0.9, 0.999])
    parser.add_argument("--shift", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prediction-repeats", type=int, default=30,
                        help="times the test images are classified for the prediction speed (0: not measured)")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    train_images, train_labels = mnist.load_split("train", args.data_dir)
    test_images, test_labels = mnist.load_split("test", args.data_dir)
    shape = (-1, 1, 28, 28) if args.conv else (-1, 784)  # torch's convolutions want channels first
    test_x = torch.from_numpy(mnist.as_inputs(test_images)).reshape(shape)
    test_y = torch.from_numpy(test_labels.astype(np.int64))
    kernel = args.kernel[0] if len(args.kernel) == 1 else args.kernel
    model = torch_network(ours.build(args.hidden, args.conv, kernel, rng=np.random.default_rng([args.seed, 0])))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=args.betas)
    rng, x = np.random.default_rng([args.seed, 1]), None
    batches = -(-len(train_images) // args.batch_size)
    step = 0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        x, labels = mnist.shuffled_inputs(train_images, train_labels, rng, args.shift, x)
        inputs, targets = torch.from_numpy(x).reshape(shape), torch.from_numpy(labels.astype(np.int64))
        total = 0.0
        for i in range(0, len(x), args.batch_size):
            progress, step = step / (args.epochs * batches), step + 1
            optimizer.param_groups[0]["lr"] = nn.learning_rate(args.lr_schedule, args.lr, progress)  # train.py's
            optimizer.zero_grad(set_to_none=True)
            batch = slice(i, i + args.batch_size)
            loss = torch.nn.functional.cross_entropy(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(targets[i : i + args.batch_size])
        seconds = time.perf_counter() - start
        print(f"cost after training round {epoch + 1}: {total / len(x):.4f}  "
              f"test {accuracy(model, test_x, test_y):.2%}  ({seconds:.2f} s)")
    print(f"correctly recognized images after training: {accuracy(model, test_x, test_y):.2%}")
    if not args.prediction_repeats:
        return
    times = []
    for _ in range(args.prediction_repeats):  # after the accuracy above, a warm-up
        start = time.perf_counter()
        accuracy(model, test_x, test_y)
        times.append(time.perf_counter() - start)
    print(f"prediction: {len(test_x) / statistics.median(times):.0f} images/s")


if __name__ == "__main__":
    main()
