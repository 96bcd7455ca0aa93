"""Pictures that show what a trained network learned.

    paths = write_plots("plots", history, network, test_images, test_labels, probabilities, dataset)

write_plots draws four PNG files: training.png (cost and accuracy round by round), confusion.png
(which digit was taken for which), mistakes.png (the test digits the network got wrong most
confidently) and weights.png (what the first layer's units look for in an image). It draws on plain
matplotlib Figures, never through pyplot, so it needs no display and no GUI backend. The classes are
named as the dataset (an mnist.Dataset, MNIST's unless given) names them.
"""

import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import conv
from support import mnist, plots
from support.report import confident_mistakes, confusion_matrix, percent

GALLERY_ROWS, GALLERY_COLUMNS = 4, 6
WEIGHT_UNITS = 32  # enough units to see the kinds of strokes they look for, few enough to see each
MNIST = mnist.DATASETS["mnist"]


# ----------------------------------------------------------------------------------------------
# Pictures. Each function draws one picture on a new Figure sized for what it shows.


def write_plots(plot_dir, history, network, test_images, test_labels, probabilities, dataset=MNIST):
    """Write training.png, confusion.png, mistakes.png and weights.png into plot_dir (made if
    missing), the classes named as `dataset` (an mnist.Dataset) names them; returns their paths, in
    that order.

    history: one dict per completed training round, {"round": 1, "cost": 0.29, "train": 0.916,
    "validation": 0.96 or None, "test": 0.955, "seconds": 1.3}, accuracies as fractions;
    network: the nn.Network whose first layer weights.png draws; None for a committee of networks
    (support/committee.py), each with weights of its own, which weights.png then says (so that no
    older picture is left to describe some other network). test_images: (N, 28, 28) uint8;
    test_labels: (N,) ints; probabilities: (N, 10), the network's outputs for the test images.
    """
    plot_dir = Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    matrix = confusion_matrix(test_labels, probabilities.argmax(axis=1))
    figures = {
        "training.png": training_figure(history),
        "confusion.png": confusion_figure(matrix, dataset),
        "mistakes.png": mistakes_figure(test_images, test_labels, probabilities, dataset),
        "weights.png": (message_figure("a committee of networks: each has weights of its own") if network is None
                        else weights_figure(*first_layer_pictures(network), dataset)),
    }
    for name, figure in figures.items():
        plots.save(figure, plot_dir / name)
    return [plot_dir / name for name in figures]


def training_figure(history):
    """Cost (left axis) and train, validation and test accuracy in percent (right axis) per round.

    Without any rounds (a network loaded only to be evaluated) the picture says so: an old picture
    in the same folder is then replaced rather than left to describe some other training.
    """
    if not history:
        return message_figure("no training rounds: nothing to plot")
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    cost_axes = figure.add_subplot()
    rounds = [entry["round"] for entry in history]
    cost_axes.plot(rounds, [entry["cost"] for entry in history], "o--", color="black", label="cost (left axis)")
    cost_axes.set_xlabel("training round")
    cost_axes.set_ylabel("cost, mean over the round")
    # Whole rounds only, and half a round of room either side, which also keeps a single round readable.
    cost_axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    cost_axes.set_xlim(rounds[0] - 0.5, rounds[-1] + 0.5)
    accuracy_axes = cost_axes.twinx()
    # The train accuracy is counted while the round changes the weights, on shifted images: it can
    # trail the test accuracy early on.
    curves = (("train", "train accuracy (during the round)", "tab:blue"),
              ("validation", "validation accuracy", "tab:orange"), ("test", "test accuracy", "tab:green"))
    for key, label, colour in curves:
        values = [entry.get(key) for entry in history]
        if any(value is not None for value in values):
            percent = [math.nan if value is None else 100 * value for value in values]
            accuracy_axes.plot(rounds, percent, "o-", color=colour, label=label)
    accuracy_axes.set_ylabel("accuracy (%)")
    # Below the axes, so that the legend never hides a curve.
    lines = cost_axes.get_lines() + accuracy_axes.get_lines()
    cost_axes.legend(handles=lines, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=len(lines), fontsize=9)
    cost_axes.set_title("Training: cost and accuracy after each round")
    return figure


def message_figure(text):
    """A picture that says `text` instead of showing something there is nothing of."""
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=14)
    axes.set_axis_off()
    return figure


def _long_names(dataset):
    """Whether the dataset's classes have names longer than a character, which need more room than
    digits: ticks turned aside, titles on two lines."""
    return max(map(len, dataset.classes)) > 1


def confusion_figure(matrix, dataset=MNIST):
    """The confusion matrix (classes, classes) as a grid of counts, the mistakes in shades of red,
    the classes named as `dataset` names them.

    The diagonal (right answers) is drawn in a neutral colour: its counts are a hundred times the
    mistakes' and would leave every mistake the same pale shade.
    """
    classes = len(matrix)
    is_mistake = ~np.eye(classes, dtype=bool)
    # A square root scale, so that a cell with 2 mistakes is still visibly red next to one with 50.
    norm = PowerNorm(0.5, vmin=0, vmax=max(1, matrix[is_mistake].max()))
    colours = colormaps["Reds"].with_extremes(bad="#dde6ef")  # "bad": the masked diagonal
    figure = Figure(figsize=(6.4, 5.6), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_array(matrix, mask=~is_mistake), cmap=colours, norm=norm)
    for true, said in np.ndindex(matrix.shape):
        count = matrix[true, said]
        if count:  # empty cells stay empty, so that the mistakes stand out
            dark = is_mistake[true, said] and norm(count) > 0.6
            axes.text(said, true, count, ha="center", va="center", fontsize=8, color="white" if dark else "black",
                      fontweight="normal" if is_mistake[true, said] else "bold")
    names, noun = dataset.classes[:classes], dataset.label_name
    if _long_names(dataset):
        axes.set_xticks(range(classes), names, rotation=45, ha="right", rotation_mode="anchor")
    else:
        axes.set_xticks(range(classes), names)
    axes.set_yticks(range(classes), names)
    axes.set_xlabel(f"predicted {noun}")
    axes.set_ylabel(f"true {noun}")
    right, total = np.trace(matrix), matrix.sum()
    axes.set_title(f"Test images: {right} of {total} right ({percent(right, total)})")
    figure.colorbar(image, label=f"test images taken for the wrong {noun}", shrink=0.8,
                    ticks=MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    return figure


def mistakes_figure(images, labels, probabilities, dataset=MNIST):
    """A gallery of the test images (N, 28, 28) uint8 misclassified most confidently, each titled with
    its label, the network's answer and the probability it gave that answer, named as `dataset` names them."""
    shown = confident_mistakes(labels, probabilities, GALLERY_ROWS * GALLERY_COLUMNS)
    rows = max(1, math.ceil(len(shown) / GALLERY_COLUMNS))
    title_lines = 2 if _long_names(dataset) else 1
    figure = Figure(figsize=(1.6 * GALLERY_COLUMNS, (1.6 + 0.15 * title_lines) * rows + 0.4), layout="constrained")
    if not len(shown):
        figure.text(0.5, 0.5, "No mistakes: every test image was recognized", ha="center", va="center", fontsize=14)
        return figure
    mistakes = np.count_nonzero(probabilities.argmax(axis=1) != labels)
    figure.suptitle(f"The {len(shown)} most confident of {mistakes} mistakes on the test images")
    for i, index in enumerate(shown):
        said = probabilities[index].argmax()
        axes = figure.add_subplot(rows, GALLERY_COLUMNS, i + 1)
        axes.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
        separator = ",\n" if title_lines == 2 else ", "
        axes.set_title(f"true {dataset.classes[labels[index]]}{separator}said {dataset.classes[said]} "
                       f"({probabilities[index, said]:.2f})", fontsize=9)
        axes.axis("off")
    return figure


def first_layer_pictures(network):
    """What the first layer with weights looks for: (units, height, width) pictures and what a unit
    is: "filter" (a convolution's K x K filters, of its first input channel), "digit" (the output
    layer of a network without hidden layers) or "unit" (a hidden unit's weights on the 28 x 28 pixels)."""
    layer = next(layer for layer in network.layers if layer.parameters())
    if isinstance(layer, conv.Conv2D):
        k = layer.kernel
        return layer.weights.reshape(k, k, layer.input_shape[2], -1)[:, :, 0].transpose(2, 0, 1), "filter"
    pictures = layer.weights.T.reshape(-1, mnist.IMAGE_SIZE, mnist.IMAGE_SIZE)
    return pictures, "digit" if layer is network.layers[-1] else "unit"


def weights_figure(pictures, kind="unit", dataset=MNIST):
    """The first WEIGHT_UNITS of the (units, height, width) weight pictures from first_layer_pictures,
    red where ink raises the unit's input, blue where it lowers it. Each unit has its own symmetric
    colour scale: the shapes matter, not how large one unit's weights are next to another's. Output
    units (kind "digit") are named as `dataset` names its classes.
    """
    units = len(pictures)
    shown = min(units, WEIGHT_UNITS)
    columns = min(shown, 5 if shown <= 10 else 8)
    rows = math.ceil(shown / columns)
    figure = Figure(figsize=(1.15 * columns, 1.3 * rows + 0.7), layout="constrained")
    for unit in range(shown):
        picture = pictures[unit]
        limit = np.abs(picture).max() or 1.0  # an all-zero unit still needs a scale of nonzero width
        axes = figure.add_subplot(rows, columns, unit + 1)
        axes.imshow(picture, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        named = kind == "digit" and _long_names(dataset)
        axes.set_title(dataset.classes[unit] if named else f"{kind} {unit}", fontsize=9)
        axes.axis("off")
    size = "x".join(map(str, pictures.shape[1:]))
    titles = {"digit": f"Weights from the pixels to each {dataset.label_name} (no hidden layer)",
              "unit": f"First-layer weights of hidden units 0-{shown - 1} (of {units})",
              "filter": f"First-layer {size} filters 0-{shown - 1} (of {units})"}
    figure.suptitle(f"{titles[kind]}\nred: ink there raises the unit, blue: lowers it", fontsize=11)
    return figure
