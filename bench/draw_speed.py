#!/usr/bin/env python3
"""How many times a second does draw.py update while you draw?

    python bench/draw_speed.py --model model.npz                        # off-screen (Agg)
    MPLBACKEND=TkAgg python bench/draw_speed.py --model model.npz       # in a real window (needs a screen)

Draws a figure eight of 200 mouse moves on draw.py's board, one update after each: the line drawn,
the digit made by predict.py, the network's probabilities, and the whole window drawn again (on
screen too, with a GUI backend). Prints the median of 5 runs after a warm-up, in updates per second,
and how much of each update is drawing the line and reading the digit, without the window.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import draw
from support import model

MOVES = 200
RUNS = 5


def figure_eight(n):
    """n points (x, y) in canvas pixels along a figure eight that fills MNIST's 20 x 20 box."""
    t = np.linspace(0, 2 * np.pi, n)
    middle, reach = draw.CANVAS / 2, draw.CANVAS / 2 - draw.GUIDE
    return np.stack([middle + 0.6 * reach * np.sin(2 * t), middle - reach * np.sin(t)], axis=1)


def time_drawing(board, points, update):
    """Seconds for the moves through `points` on a cleared board, each followed by update()."""
    board.clear()
    start = time.perf_counter()
    for previous, point in zip(points[:-1], points[1:]):
        draw.draw_line(board.ink, previous, point, draw.PEN)
        update()
    return time.perf_counter() - start


def update_window(board):
    """What follows a mouse move in draw.py: the board updated, and the window drawn again now (a GUI
    backend draws when idle, which flush_events lets happen; Agg draws at once)."""
    board.update()
    board.figure.canvas.flush_events()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="model.npz", help="the trained network (default: model.npz)")
    args = parser.parse_args()
    try:
        network, metadata = model.load(args.model)
    except model.ModelError as error:
        sys.exit(f"draw_speed.py: error: {error}")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=draw.WINDOW)
    board = draw.DrawingBoard(figure, network, metadata["dataset"])
    if plt.get_backend().lower() != "agg":
        plt.show(block=False)
    points = figure_eight(MOVES + 1)
    seconds = {}
    for name, update in [("whole update", lambda: update_window(board)), ("reading only", board.read)]:
        time_drawing(board, points, update)  # warm-up
        seconds[name] = statistics.median(time_drawing(board, points, update) for _ in range(RUNS))
    total, reading = seconds["whole update"], seconds["reading only"]
    print(f"backend {plt.get_backend()}, window {figure.canvas.get_width_height()} pixels, {MOVES} moves:")
    print(f"{MOVES / total:.1f} updates per second (median of {RUNS}); per update "
          f"{1000 * total / MOVES:.1f} ms, of which drawing the line and reading the digit "
          f"{1000 * reading / MOVES:.1f} ms")


if __name__ == "__main__":
    main()
