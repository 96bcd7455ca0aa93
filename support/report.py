"""Tables that show how well a trained network recognizes each class.

    matrix = confusion_matrix(test_labels, probabilities.argmax(axis=1))
    print(class_table(matrix, mnist.DATASETS["fashion"]))

The classes are named as the dataset (an mnist.Dataset, MNIST's unless given) names them: digits 0
to 9, or Fashion-MNIST's T-shirt/top, Trouser, and so on. The pictures of the same results are in
figures.py, apart, so that a run that draws none never waits for matplotlib to load.
"""

import numpy as np

from support import mnist

MNIST = mnist.DATASETS["mnist"]



def confusion_matrix(labels, predicted, classes=mnist.CLASSES):
    """How often each digit was taken for each digit.

    labels, predicted: (N,) ints in 0..classes-1. Returns a (classes, classes) int64 matrix of image
    counts: row = the true digit, column = the predicted one, so the diagonal holds the right answers.
    """
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    values = np.concatenate([labels.ravel(), predicted.ravel()])
    if labels.shape != predicted.shape or labels.ndim != 1 or np.any((values < 0) | (values >= classes)):
        raise ValueError(f"labels and predicted must be two equally long lists of ints in 0..{classes - 1}")
    # Each pair becomes one number, true * classes + predicted, so a single bincount counts them all.
    pairs = labels * classes + predicted
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)


def class_table(matrix, dataset=MNIST):
    """Precision, recall, F1 and image count for each class as aligned text, then the accuracy; the
    first column names the classes as `dataset` (an mnist.Dataset) does, headed by its noun ("digit").

    matrix: (classes, classes) counts from confusion_matrix. Precision: of the images called this
    digit, the percentage that were; recall: of the images of this digit, the percentage recognized;
    F1: the harmonic mean of the two. A digit that was never predicted has no precision: "-".
    """
    matrix = np.asarray(matrix)
    right, images, called = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    # F1 = 2 p r / (p + r) = 2 right / (images + called): this form has a value (0) even when a digit
    # was never predicted and its precision has none.
    names = dataset.classes[:len(matrix)]
    width = max(map(len, [dataset.label_name, *names]))
    lines = [f"{dataset.label_name:>{width}}  {'precision':>9}  {'recall':>6}  {'f1':>6}  {'images':>6}"]
    for digit, name in enumerate(names):
        precision = percent(right[digit], called[digit])
        recall = percent(right[digit], images[digit])
        f1 = percent(2 * right[digit], images[digit] + called[digit])
        lines.append(f"{name:>{width}}  {precision:>9}  {recall:>6}  {f1:>6}  {images[digit]:>6}")
    total = matrix.sum()
    lines.append(f"accuracy {percent(right.sum(), total)} ({right.sum()} of {total} images)")
    return "\n".join(lines)


def percent(part, whole):
    """part / whole as a percentage with one decimal, or "-" when whole is 0 (nothing to divide)."""
    return f"{part / whole:.1%}" if whole else "-"


def confident_mistakes(labels, probabilities, count):
    """Indices of up to `count` misclassified images, the most confident mistake first.

    labels: (N,) ints; probabilities: (N, classes), the network's outputs. The confidence of a mistake
    is the probability the network gave to its wrong answer.
    """
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:count]]
