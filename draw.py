#!/usr/bin/env python3
"""Draw a digit with the mouse and watch the network read it as you draw.

    ./draw.py                   # with model.npz, from ./train.py --save model.npz
    ./draw.py --model cnn.npz
    ./draw.py --model fashion.npz   # a Fashion-MNIST network: draw a shoe, a bag, a shirt ...
    ./draw.py --model m1.npz m2.npz m3.npz   # a committee: the mean of the networks' probabilities
    ./draw.py --samples my-hand     # the digit keys keep samples in my-hand/ (default: my-digits/)

Left button draws, right button erases; keys: c clears, s saves the drawing as a PNG (drawing-1.png,
drawing-2.png, ... never over an existing file; ./predict.py reads it), q quits. When the answer is
wrong, the right digit's key (0-9; for Fashion-MNIST, the label of the right class) keeps the drawing
as a sample of it, my-digits/7/sample-1.png, ...: ./train.py --load model.npz --samples my-digits
--save model.npz then teaches the network your hand. Beside the canvas:
the 28 x 28 picture the network is given (framed as predict.py frames each digit of a photo), the ten
probabilities, and the network's answer, named with the classes of the dataset the network was trained on.
"""

from support import packages

packages.require()  # before the imports that need them: one line, not a traceback, if they are missing

import argparse
import os
from pathlib import Path

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image

from support import cli, committee, framing, ink, mnist, model, plots, samples

CANVAS = 8 * mnist.IMAGE_SIZE  # pixels a side: 8 canvas pixels make one of MNIST's
WINDOW = (10, 4.6)  # inches, at 100 pixels an inch
# MNIST's strokes are about a tenth as wide as its digits are high; with the guide box below, a digit
# drawn to fill it is 20 / 28 of the canvas high.
PEN = 0.11 * framing.DIGIT_SIZE / mnist.IMAGE_SIZE * CANVAS  # the pen's width in canvas pixels
ERASER = 3 * PEN
GUIDE = (CANVAS - CANVAS * framing.DIGIT_SIZE / mnist.IMAGE_SIZE) / 2  # MNIST's 20 x 20 box, from each side
PROMPTS = {"mnist": "draw a digit", "fashion": "draw something to wear"}  # the answer's place, on an empty canvas


def draw_line(ink, start, end, width, erase=False):
    """Draw (or erase) a round pen `width` pixels wide from `start` to `end` ((x, y) in canvas
    pixels) on ink (H, W) float32 in [0, 1], in place. Edges are soft over one pixel, as a scanner
    sees a pen's edge."""
    (x0, y0), (x1, y1) = start, end
    reach = width / 2 + 1
    top, bottom = max(int(min(y0, y1) - reach), 0), min(int(max(y0, y1) + reach) + 1, ink.shape[0])
    left, right = max(int(min(x0, x1) - reach), 0), min(int(max(x0, x1) + reach) + 1, ink.shape[1])
    if top >= bottom or left >= right:
        return
    y, x = np.mgrid[top:bottom, left:right].astype(np.float32)
    dx, dy = x1 - x0, y1 - y0
    # Distance of each pixel centre to the segment: to its nearest point, found along the segment.
    along = np.clip(((x - x0) * dx + (y - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
    distance = np.hypot(x - x0 - along * dx, y - y0 - along * dy)
    pen = np.clip(width / 2 + 0.5 - distance, 0, 1)
    region = ink[top:bottom, left:right]
    region[...] = np.minimum(region, 1 - pen) if erase else np.maximum(region, pen)


class DrawingBoard:
    """The window's contents and what the mouse and keys do to them, on any matplotlib figure (a
    window, or an off-screen one in tests). `network` needs only probabilities(x), x: (N, 784)
    float32 in [0, 1] -> (N, 10); its answers are the classes of `dataset`, a name in mnist.DATASETS."""

    def __init__(self, figure, network, dataset="mnist", samples_folder="my-digits"):
        self.figure, self.network, self.samples_folder = figure, network, Path(samples_folder)
        self.dataset, self.prompt = mnist.DATASETS[dataset], PROMPTS[dataset]
        self.classes = self.dataset.classes
        digits = dataset == "mnist"
        self.ink = np.zeros((CANVAS, CANVAS), np.float32)  # 0 paper, 1 ink, as support/ink.py makes a picture's
        self.last = None  # where the pen was at the last mouse event, while a button is down
        self.erasing = False
        canvas_axes, input_axes, bar_axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 1.5]})
        self.canvas_axes = canvas_axes
        self.canvas_image = canvas_axes.imshow(self.ink, cmap="gray_r", vmin=0, vmax=1, extent=(0, CANVAS, CANVAS, 0))
        guide = canvas_axes.add_patch(_guide_box())
        canvas_axes.set_title("draw here: left button draws, right erases\nc clears, s saves, q quits, "
                              "0-9: keep as a sample of that label", fontsize=9)
        self.input_image = input_axes.imshow(np.zeros((mnist.IMAGE_SIZE,) * 2), cmap="gray_r", vmin=0, vmax=1)
        input_axes.set_title("what the network sees", fontsize=9)
        for axes in (canvas_axes, input_axes):
            axes.set(xticks=[], yticks=[])
        self.bars = bar_axes.bar(range(mnist.CLASSES), np.zeros(mnist.CLASSES), color="tab:gray")
        if digits:
            bar_axes.set(xticks=range(mnist.CLASSES), ylim=(0, 1), title="probabilities")
        else:  # the names turned upright, so that ten fit; the dataset named, as digits are the default
            bar_axes.set_xticks(range(mnist.CLASSES), self.classes, rotation=90, fontsize=7)
            bar_axes.set(ylim=(0, 1), title=f"probabilities ({self.dataset.title})")
        bar_axes.title.set_fontsize(9)
        # A digit fits between the pictures and the bars; a name goes further left, clear of their names.
        self.answer = figure.text(0.68 if digits else 0.5, 0.1, "", ha="center", va="center",
                                  fontsize=36 if digits else 20, weight="bold")
        self.message = figure.text(0.01, 0.02, "", fontsize=9, color="tab:gray")
        figure.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.22, wspace=0.15)
        # Drawing the whole window takes longer than a mouse move: the axes, ticks and titles are drawn
        # once and kept (self.background), and each update draws only what changes on top of them,
        # then the guide and the frames again, which the pictures cover.
        changing = [self.canvas_image, self.input_image, *self.bars, self.answer, self.message]
        for artist in changing:
            artist.set_animated(True)
        self.changing = changing + [guide, *canvas_axes.spines.values(), *input_axes.spines.values()]
        self.background = None
        for event, handler in [("button_press_event", self.press), ("motion_notify_event", self.move),
                               ("button_release_event", self.release), ("key_press_event", self.key),
                               ("draw_event", self.drawn)]:
            figure.canvas.mpl_connect(event, handler)
        self.update()

    def press(self, event):
        if event.inaxes is not self.canvas_axes or event.button not in (1, 3):
            return
        self.erasing = event.button == 3
        self.last = (event.xdata, event.ydata)
        self.stroke_to(event)

    def move(self, event):
        if self.last is not None and event.inaxes is self.canvas_axes:
            self.stroke_to(event)

    def release(self, event):
        self.last = None

    def stroke_to(self, event):
        """Draw or erase from the last position to the mouse's, then read the drawing again."""
        end = (event.xdata, event.ydata)
        draw_line(self.ink, self.last, end, ERASER if self.erasing else PEN, erase=self.erasing)
        self.last = end
        self.update()

    def key(self, event):
        if event.key == "c":
            self.clear()
        elif event.key == "s" or event.key in samples.LABELS:
            try:
                if event.key == "s":
                    self.save()
                else:
                    self.keep_sample(int(event.key))
            except OSError as error:
                self.message.set_text(f"cannot save: {error.strerror}")
                self.show_changes()
        elif event.key == "q":
            plt.close(self.figure)

    def clear(self):
        self.ink[...] = 0
        self.message.set_text("")
        self.update()

    def save(self, folder="."):
        """Write the drawing as dark ink on white paper to the first free drawing-N.png in `folder`;
        returns its path."""
        path = save_new_png(Path(folder), "drawing", self.pixels())
        self.message.set_text(f"saved {path}")
        self.show_changes()
        print(f"saved {path}", flush=True)
        return path

    def keep_sample(self, label):
        """Keep the drawing as a sample of `label` (0-9), dark ink on white paper, in the first free
        sample-N.png of its label's folder in the samples folder; returns its path (None when nothing
        is drawn). The answer it corrects is said with it."""
        if not self.ink.any():
            self.message.set_text("draw a digit first, then press the right one's key to keep it")
            self.show_changes()
            return None
        folder = self.samples_folder / samples.LABELS[label]
        folder.mkdir(parents=True, exist_ok=True)
        path = save_new_png(folder, "sample", self.pixels())
        answer = self.classes[self.read()[1].argmax()]
        line = f"kept {path} as a {self.classes[label]} (read as {answer})"
        self.message.set_text(line)
        self.show_changes()
        print(line, flush=True)
        return path

    def pixels(self):
        """The drawing as a picture: (CANVAS, CANVAS) uint8, dark ink on white paper."""
        return np.round(255 * (1 - self.ink)).astype(np.uint8)

    def read(self):
        """The network's input (28, 28) float32, the drawing framed as predict.py frames each digit of a
        photo (as the network's dataset frames its pictures), and its (10,) probabilities; zeros for an
        empty canvas."""
        try:
            digit = framing.frame(self.ink, self.dataset)
        except ink.ImageError:  # nothing drawn
            return np.zeros((mnist.IMAGE_SIZE,) * 2, np.float32), np.zeros(mnist.CLASSES, np.float32)
        return digit, self.network.probabilities(digit.reshape(1, -1))[0]

    def update(self):
        """Show the drawing, the network's input, the probabilities and the answer as they are now."""
        digit, probabilities = self.read()
        self.canvas_image.set_data(self.ink)
        self.input_image.set_data(digit)
        best = probabilities.argmax()
        for digit_class, (bar, probability) in enumerate(zip(self.bars, probabilities)):
            bar.set_height(probability)
            bar.set_color("tab:blue" if digit_class == best and probability > 0 else "tab:gray")
        self.answer.set_text(f"{self.classes[best]}  ({probabilities[best]:.0%})" if probabilities.any()
                             else self.prompt)
        self.show_changes()

    def drawn(self, event):
        """After the whole window is drawn (at first, after a resize): keep it, and draw the rest."""
        self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        self.draw_changing()

    def show_changes(self):
        """Put what changed on screen: on the kept background when the canvas can (a GUI or Agg),
        else by drawing the whole figure when it is next idle."""
        canvas = self.figure.canvas
        if self.background is None or not canvas.supports_blit:
            canvas.draw_idle()
            return
        canvas.restore_region(self.background)
        self.draw_changing()
        canvas.blit(self.figure.bbox)

    def draw_changing(self):
        for artist in self.changing:
            self.figure.draw_artist(artist)


def _guide_box():
    """A faint square where MNIST put its digits (20 x 20 of 28 x 28): draw about this big."""
    side = CANVAS - 2 * GUIDE
    return matplotlib.patches.Rectangle((GUIDE, GUIDE), side, side, fill=False, edgecolor="tab:blue",
                                        linestyle=":", alpha=0.4)


def save_new_png(folder, stem, pixels):
    """Write grey pixels (H, W) uint8 as PNG to folder/stem-N.png for the smallest N >= 1 not taken,
    never replacing a file, even one made meanwhile; returns the path. The picture is written whole to
    a temporary file first, then linked under its name, which fails when the name is taken."""
    temporary = folder / f".{stem}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as file:
            PIL.Image.fromarray(pixels).save(file, format="PNG")
            file.flush()
            os.fsync(file.fileno())
        number = 1
        while True:
            path = folder / f"{stem}-{number}.png"
            try:
                os.link(temporary, path)
                return path
            except FileExistsError:
                number += 1
    finally:
        temporary.unlink(missing_ok=True)


def open_window():
    """A pyplot figure in a window with no toolbar and no default keys (s, q and c are ours); exits
    with one line when there is no screen to show it on."""
    matplotlib.rcParams["toolbar"] = "None"  # its pan and zoom modes would take the mouse from the pen
    reason = plots.no_window()
    if reason is not None:
        cli.fail(f"{reason}: draw.py needs a screen to draw on")
    try:
        figure = plt.figure(figsize=WINDOW, num="draw.py")
    except Exception as error:  # each GUI toolkit has its own error for a screen it cannot open
        cli.fail(f"cannot open a window: {error}")
    figure.canvas.mpl_disconnect(figure.canvas.manager.key_press_handler_id)
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["model.npz"], metavar="FILE",
                        help="the trained network (default: model.npz); several: a committee, answering with the "
                             "mean of their probabilities")
    parser.add_argument("--dataset", choices=mnist.DATASETS,
                        help="the dataset the model was trained on (default: the one its file names)")
    parser.add_argument("--samples", default="my-digits", metavar="DIR",
                        help="where the digit keys keep samples, a folder per label (default: my-digits)")
    args = parser.parse_args(argv)
    try:
        network, metadata = committee.load(args.model)
    except model.ModelError as error:
        cli.fail(error)
    dataset = cli.model_dataset(parser, args.dataset, committee.name(args.model), metadata["dataset"])
    figure = open_window()
    board = DrawingBoard(figure, network, dataset, args.samples)  # noqa: F841  (kept alive while the window is open)
    plt.show()


if __name__ == "__main__":
    main()
