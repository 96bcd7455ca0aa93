"""A picture's ink cut into the digits of its numbers: rows top to bottom, each left to right.

    boxes, digits, lines = split_digits(ink)    # (n, 4) boxes, n crops of its ink, (n,) row numbers

A digit is a group of touching ink (label_groups) with the groups beside it that share much of its
columns (join_by_columns): the strokes of one digit need not touch (the bar of a 5, a broken 4),
while digits side by side share few columns; a piece far smaller than the digits of its row (a
faint stroke broken up) joins the digit nearest to it (join_fragments), and a line far taller than
the other groups (a margin) is no digit (down_the_page). The groups are first put in rows
(split_lines): groups whose rows overlap are one row, and a row far lower than the others (the
bar of a 5 above its body) joins the nearest. A digit wider than digits are may be several that
touch: it is cut into the parts, each of a digit's size, that a reader (the network) is surest of
all together (cut_touching).
The steps are functions of their own, so that other layouts can change one step and keep the others.
"""

import numpy as np

# Groups of ink lighter than this share of the heaviest are specks, not strokes; groups side by side
# are one digit when they share this share of the narrower one's columns.
SPECK = 0.02
SHARED_COLUMNS = 0.5
# A group more than DOWN_THE_PAGE times as tall as any other, with less ink than all the others
# together (the digits), is a line drawn down the page: a margin line as dark as pencil strokes,
# which the ruling keeps as ink. It is no digit, and would join the rows it spans into one.
DOWN_THE_PAGE = 2.5
# A digit less than FRAGMENT times as large, on its longer side, as the tallest in its row is high is
# a piece of a digit beside it: a faint or pixelated stroke broken up, a 5's bar apart from its body.
FRAGMENT = 0.35
# A row of groups less than this share as tall as the tallest row is part of the row nearest to it.
LOW_ROW = 0.5
# Wider than this many times its height, a digit may be two that touch: a tenth of MNIST's training
# digits are wider than 1.05 times their height, two side by side rarely narrower than 1.2 times.
WIDE = 1.1
# Wider than this, it is two or more: one in a thousand of MNIST's training digits is wider than
# 1.67 times its height. (The network can be sure of one digit in the ink of two.)
TWO = 1.6
# Digits that touch are cut at columns STEP times their height apart. A part of them is a digit only
# if its ink is, on its longer side, at least SMALLEST times as large as the group is high (every
# MNIST digit is 20 pixels on its longer side, and digits in a row are about as tall as each other:
# a sliver of a stroke is no digit) and at most WIDEST times as wide (two digits side by side are).
STEP = 0.1
SMALLEST = 0.75
WIDEST = 0.9


def split_digits(ink, judge=None):
    """The digits in ink (H, W) float32 in [0, 1] (0 = paper), row by row from the top, each row left
    to right: their boxes (n, 4) int64 as (top, left, bottom, right) in pixels of `ink`, bottom and
    right excluded; each digit's ink alone, cropped to its box: a list of n (h, w) float32 arrays;
    and the row of each, (n,) int64 from 0. Specks far lighter than the heaviest group are left out.
    With a `judge` (a list of inks -> (n,) how sure a reader is that each is one digit, from 0 to 1),
    digits too wide for one are cut where they touch (cut_touching). `ink` must hold some ink
    (ink.ImageError says so before this is reached)."""
    labels, count = label_groups(ink > 0)
    boxes, mass = group_boxes(labels, count, ink)
    kept = np.flatnonzero(mass >= SPECK * mass.max())
    kept = kept[~down_the_page(boxes[kept], mass[kept])]
    rows = split_lines(boxes[kept])
    digits, lines = [], []
    for row in range(rows.max() + 1):
        in_row = kept[rows == row]
        digits += join_fragments(boxes, join_by_columns(boxes[in_row], in_row))
        lines += [row] * (len(digits) - len(lines))
    digit_boxes, inks = crop_digits(ink, labels, boxes, digits)
    pieces = [cut_touching(box, digit, judge) if judge else ([box], [digit]) for box, digit in zip(digit_boxes, inks)]
    return (np.array([box for piece in pieces for box in piece[0]]), [crop for piece in pieces for crop in piece[1]],
            np.repeat(lines, [len(piece[0]) for piece in pieces]))


def down_the_page(boxes, mass):
    """Which of the groups with these boxes (n, 4) and masses of ink (n,) is a line down the page
    (see DOWN_THE_PAGE): (n,) bool, True for the tallest group at most."""
    heights = boxes[:, 2] - boxes[:, 0]
    line = np.zeros(len(boxes), bool)
    if len(boxes) > 1:
        tallest = np.argmax(heights)
        line[tallest] = (heights[tallest] > DOWN_THE_PAGE * np.delete(heights, tallest).max()
                         and 2 * mass[tallest] < mass.sum())
    return line


def split_lines(boxes):
    """The row of each group with these boxes (n, 4), (n,) int64 numbered from the top: groups whose
    spans of rows overlap, directly or through others, are one row; a row less than LOW_ROW as tall
    as the tallest then joins the row nearest to it."""
    order = np.argsort(boxes[:, 0], kind="stable")
    spans = []  # [top, bottom] of each row, top to bottom
    row_of = np.empty(len(boxes), np.int64)
    for i in order:
        top, bottom = boxes[i, 0], boxes[i, 2]
        if not spans or top >= spans[-1][1]:
            spans.append([top, bottom])
        spans[-1][1] = max(spans[-1][1], bottom)
        row_of[i] = len(spans) - 1
    spans = np.array(spans)
    heights = spans[:, 1] - spans[:, 0]
    tall = np.flatnonzero(heights >= LOW_ROW * heights.max())
    # Each row's distance to each tall row: the gap between them, 0 for the tall row itself.
    gaps = np.maximum(spans[tall, None, 0] - spans[None, :, 1], spans[None, :, 0] - spans[tall, None, 1])
    nearest = np.argmin(np.maximum(gaps, 0), axis=0)
    return nearest[row_of]


def cut_touching(box, digit, judge):
    """A digit's box (4,) and ink (h, w) as crop_digits gives them -> the boxes (k, 4) and inks of the
    k digits it holds. One at most WIDE times as wide as its height is one digit. A wider one is cut
    at columns STEP times its height apart into the parts that `judge` (a list of inks -> (n,) how
    sure a reader is that each is one digit) is surest of all together: the largest product of its
    confidences (best_cuts), over parts that may be digits (may_be_digit) and, at most TWO times as
    wide as high, the whole."""
    height, width = digit.shape
    if width <= WIDE * height:
        return [box], [digit]
    cuts = np.unique(np.r_[np.arange(0, width, max(1, round(STEP * height))), width])
    parts = {}  # (first cut, last cut) -> (box, ink) of the parts that may be digits
    for i, j in zip(*np.triu_indices(len(cuts), 1)):
        part_box, part = trim(box, digit, cuts[i], cuts[j])
        whole = i == 0 and j == len(cuts) - 1 and width <= TWO * height
        if part is not None and (whole or may_be_digit(part, height)):
            parts[i, j] = part_box, part
    sure = dict(zip(parts, np.log(judge([part for _, part in parts.values()])))) if parts else {}
    spans = best_cuts(sure, len(cuts))
    if not spans:  # no way through parts that may be digits: better one digit than none
        return [box], [digit]
    return [parts[span][0] for span in spans], [parts[span][1] for span in spans]


def may_be_digit(part, height):
    """Whether ink (h, w) cut from a group of ink `height` pixels high may be one digit: on its longer
    side at least SMALLEST times the height, and at most WIDEST times as wide."""
    return max(part.shape) >= SMALLEST * height and part.shape[1] <= WIDEST * height


def best_cuts(sure, count):
    """The spans (first cut, last cut) that lead from cut 0 to cut count - 1 with the largest sum of
    `sure` (a dict span -> log confidence) over them, left to right; by dynamic programming: the best
    way to each cut is the best way to an earlier cut and the span from there. [] when no spans lead
    there."""
    best = np.full(count, -np.inf)
    best[0] = 0
    came_from = np.zeros(count, np.int64)
    for (i, j), log_sure in sorted(sure.items(), key=lambda item: item[0][1]):
        if best[i] + log_sure > best[j]:
            best[j], came_from[j] = best[i] + log_sure, i
    spans, j = [], count - 1
    while j and best[j] > -np.inf:
        spans.append((came_from[j], j))
        j = came_from[j]
    return spans[::-1] if best[-1] > -np.inf else []


def trim(box, digit, start, end):
    """The columns start to end of a digit's ink (h, w) cropped to the ink in them, and their box in
    the picture, from the digit's box (4,): (box (4,), ink (h', w')), or (box, None) with no ink."""
    part = digit[:, start:end]
    rows, columns = np.nonzero(part > 0)
    if len(rows) == 0:
        return box, None
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, columns.min(), columns.max() + 1
    return np.array([box[0] + y0, box[1] + start + x0, box[0] + y1, box[1] + start + x1]), part[y0:y1, x0:x1]


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


def join_fragments(boxes, digits):
    """The digits of a row (lists of group numbers, left to right, as join_by_columns gives them;
    boxes (count, 4) of all groups) with each fragment (see FRAGMENT) joined to the nearest digit
    that is none, by the columns between them."""
    if not digits:  # a row whose groups all joined the row above (split_lines)
        return digits
    spans = np.array([(*boxes[d, :2].min(axis=0), *boxes[d, 2:].max(axis=0)) for d in digits])
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    small = np.maximum(heights, widths) < FRAGMENT * heights.max()
    whole = np.flatnonzero(~small)
    joined = [list(digits[i]) for i in whole]
    for i in np.flatnonzero(small):
        gaps = np.maximum(spans[whole, 1] - spans[i, 3], spans[i, 1] - spans[whole, 3])
        joined[np.argmin(gaps)] += digits[i]
    return joined


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
