"""A picture's ink cut into the digits of a number, left to right.

    boxes, digits = split_digits(ink)    # (n, 4) boxes in the picture, n crops of its ink

A digit is a group of touching ink (label_groups) with the groups beside it that share much of its
columns (join_by_columns): the strokes of one digit need not touch (the bar of a 5, a broken 4),
while digits side by side share few columns. The steps are functions of their own, so that other
layouts (several rows, digits that touch, ruled paper) can change one step and keep the others.
"""

import numpy as np

# Groups of ink lighter than this share of the heaviest are specks, not strokes; groups side by side
# are one digit when they share this share of the narrower one's columns.
SPECK = 0.02
SHARED_COLUMNS = 0.5


def split_digits(ink):
    """The digits in ink (H, W) float32 in [0, 1] (0 = paper), left to right: their boxes (n, 4) int64
    as (top, left, bottom, right) in pixels of `ink`, bottom and right excluded, and each digit's ink
    alone, cropped to its box: a list of n (h, w) float32 arrays. Specks far lighter than the heaviest
    group are left out. `ink` must hold some ink (ink.ImageError says so before this is reached)."""
    labels, count = label_groups(ink > 0)
    boxes, mass = group_boxes(labels, count, ink)
    kept = np.flatnonzero(mass >= SPECK * mass.max())
    digits = join_by_columns(boxes[kept], kept)
    return crop_digits(ink, labels, boxes, digits)


def label_groups(mask):
    """Groups of touching pixels: (H, W) bool -> (H, W) int64 labels, -1 off the mask, else the number
    (0, 1, ...) of the group of mask pixels joined to it through pixels touching by a side or a
    corner; and how many groups there are.

    A union-find on all pixels at once: each round joins every group to the touching group of the
    smallest number, then points every pixel straight at its group's first pixel. Each round at
    least halves the number of groups that still touch another, so the rounds are few.
    """
    height, width = mask.shape
    index = np.full((height + 2, width + 2), -1)  # a border off the mask, so that no neighbour is missing
    index[1:-1, 1:-1][mask] = np.arange(np.count_nonzero(mask))
    here = index[1:-1, 1:-1]
    pairs = []
    for dy, dx in [(0, 1), (1, -1), (1, 0), (1, 1)]:  # with their opposites, all eight neighbours
        there = index[1 + dy : height + 1 + dy, 1 + dx : width + 1 + dx]
        both = (here >= 0) & (there >= 0)
        pairs.append((here[both], there[both]))
    a, b = (np.concatenate(ends) for ends in zip(*pairs))
    first = np.arange(np.count_nonzero(mask))  # of each pixel's group so far
    while True:
        first_a, first_b = first[a], first[b]
        apart = first_a != first_b
        if not apart.any():
            break
        np.minimum.at(first, np.maximum(first_a, first_b)[apart], np.minimum(first_a, first_b)[apart])
        while not np.array_equal(first[first], first):
            first = first[first]
    groups, numbers = np.unique(first, return_inverse=True)
    labels = np.full(mask.shape, -1)
    labels[mask] = numbers
    return labels, len(groups)


def group_boxes(labels, count, ink):
    """The box of each of the `count` groups that `labels` (H, W) numbers (label_groups), as
    (count, 4) int64 (top, left, bottom, right), bottom and right excluded; and the mass of each,
    (count,) float64: the sum of its pixels of ink (H, W)."""
    rows, columns = np.nonzero(labels >= 0)
    group = labels[rows, columns]
    boxes = np.empty((count, 4), np.int64)
    boxes[:, :2] = ink.shape
    boxes[:, 2:] = 0
    np.minimum.at(boxes[:, 0], group, rows)
    np.minimum.at(boxes[:, 1], group, columns)
    np.maximum.at(boxes[:, 2], group, rows + 1)
    np.maximum.at(boxes[:, 3], group, columns + 1)
    return boxes, np.bincount(group, weights=ink[rows, columns], minlength=count)


def join_by_columns(boxes, numbers):
    """The groups with these boxes (n, 4) and numbers (n,) joined into digits, left to right: a list of
    lists of group numbers. Going from left to right, a group whose columns overlap the digit before
    it (share_columns) joins that digit; any other starts the next digit."""
    digits, spans = [], []  # the group numbers of each digit, and the columns it spans
    for i in np.argsort(boxes[:, 1], kind="stable"):
        span = boxes[i, 1], boxes[i, 3]
        if spans and share_columns(spans[-1], span):
            digits[-1].append(numbers[i])
            spans[-1] = min(spans[-1][0], span[0]), max(spans[-1][1], span[1])
        else:
            digits.append([numbers[i]])
            spans.append(span)
    return digits


def share_columns(a, b):
    """Whether two spans of columns (first, last + 1) overlap by at least SHARED_COLUMNS of the narrower."""
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared >= SHARED_COLUMNS * min(a[1] - a[0], b[1] - b[0])


def crop_digits(ink, labels, boxes, digits):
    """Each digit (a list of group numbers that `labels` (H, W) numbers, boxes (count, 4) as
    group_boxes gives) as its box (n, 4) int64 around all its groups, and its ink (H, W) cropped to
    that box with every other group's ink left out: a list of n (h, w) float32 arrays."""
    digit_boxes = np.array([(*boxes[d, :2].min(axis=0), *boxes[d, 2:].max(axis=0)) for d in digits])
    inks = [np.where(np.isin(labels[y0:y1, x0:x1], d), ink[y0:y1, x0:x1], 0)
            for d, (y0, x0, y1, x1) in zip(digits, digit_boxes)]
    return digit_boxes, inks
