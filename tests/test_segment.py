"""support/segment.py: a picture's ink cut into digits, left to right. The tests draw their own
shapes and need no data."""

import numpy as np

from shapes import broken_four, five, four, number, seven, stroke
from support import framing, segment


def test_groups_are_pixels_touching_by_a_side_or_a_corner():
    mask = np.array([[1, 1, 0, 0, 1],
                     [0, 0, 1, 0, 1],
                     [1, 0, 0, 0, 0],
                     [1, 0, 1, 1, 1]], bool)
    labels, count = segment.label_groups(mask)
    assert count == 4
    assert np.all((labels >= 0) == mask)
    groups = {frozenset(zip(*np.nonzero(labels == number))) for number in range(count)}
    assert groups == {frozenset({(0, 0), (0, 1), (1, 2)}), frozenset({(0, 4), (1, 4)}),
                      frozenset({(2, 0), (3, 0)}), frozenset({(3, 2), (3, 3), (3, 4)})}


def test_a_long_winding_stroke_is_one_group():
    snake = np.zeros((81, 60), bool)  # rows of ink joined at alternate ends: one path of thousands of pixels
    snake[::2] = True
    snake[1::4, -1] = True
    snake[3::4, 0] = True
    labels, count = segment.label_groups(np.pad(snake, ((0, 0), (0, 3))) | np.eye(81, 63, 62, dtype=bool))
    assert count == 2 and np.all(labels[:, :60][snake] == labels[0, 0])


def test_digits_are_found_left_to_right_with_their_strokes_that_do_not_touch():
    seven_ = np.pad(seven(), ((15, 15), (0, 0)))  # 150 rows, like the others
    ink = np.pad(number(five(), broken_four(), seven_, four(), gaps=[10, 3, 30]), 20)
    ink[5, 5] = 1  # a speck
    boxes, inks, lines = segment.split_digits(ink)
    widths = [110, 120, 90, 120]
    lefts = 20 + np.cumsum([0, 110 + 10, 120 + 3, 90 + 30])
    assert len(boxes) == 4
    for (top, left, bottom, right), digit, expected_left, width, expected in zip(
            boxes, inks, lefts, widths, [five(), broken_four(), seven_, four()]):
        region = ink[top:bottom, left:right]
        assert expected_left <= left and right <= expected_left + width and digit.shape == region.shape
        assert np.array_equal(framing.frame(digit), framing.frame(expected))


def test_one_digit_is_one_box_around_all_its_ink():
    boxes, inks, _ = segment.split_digits(broken_four())
    rows, columns = np.nonzero(broken_four())
    assert boxes.tolist() == [[rows.min(), columns.min(), rows.max() + 1, columns.max() + 1]]
    assert np.array_equal(inks[0], broken_four()[rows.min():rows.max() + 1, columns.min():columns.max() + 1])


def test_pieces_of_a_broken_stroke_join_the_digit_beside_them_and_make_none_of_their_own():
    ink = np.pad(number(five(), five(), gaps=[40]), 20)  # the fives' boxes: columns 30-121 and 180-271
    for left in (150, 162):  # a faint foot scanned at low resolution: blocks apart, left of the second
        ink[160:170, left : left + 10] = 0.6
    boxes, _, _ = segment.split_digits(ink)
    assert boxes.tolist() == [[20, 30, 161, 121], [20, 150, 170, 271]]


def test_a_line_down_the_page_is_no_digit_and_does_not_join_the_rows():
    ink = np.zeros((400, 300), np.float32)
    ink[:, 10:14] = 1  # a margin line, as dark as the strokes
    ink[50:110, 60:80] = ink[50:110, 120:140] = ink[250:310, 60:80] = 1
    boxes, _, lines = segment.split_digits(ink)
    assert boxes[:, 1].tolist() == [60, 120, 60] and lines.tolist() == [0, 0, 1]
    boxes, _, _ = segment.split_digits(ink[:, :100])  # with one digit beside it: which is the digit?
    assert len(boxes) == 2


def test_a_row_that_begins_where_the_one_above_ends_is_read_with_it_and_the_rows_below_still_are():
    ink = np.zeros((230, 200), np.float32)
    ink[20:70, 20:40] = ink[70:120, 120:140] = 1  # the second's first row is the first's last + 1
    ink[150:200, 60:80] = 1
    boxes, _, lines = segment.split_digits(ink)
    assert boxes[:, 0].tolist() == [20, 70, 150] and lines.tolist() == [0, 0, 2]


def touching(*inks, overlap):
    """The inks (each (h, w)) side by side, each next one's columns starting `overlap` columns before
    the last one's end: (h, sum of widths - overlaps)."""
    row = inks[0]
    for ink in inks[1:]:
        row = np.maximum(np.pad(row, ((0, 0), (0, ink.shape[1] - overlap))),
                         np.pad(ink, ((0, 0), (row.shape[1] - overlap, 0))))
    return np.pad(row, 10)


def test_a_narrow_digit_between_touching_ones_is_cut_out_and_slivers_are_no_digits():
    seven_, one = seven()[:, 9:82], stroke((120, 12), (20, 6), (105, 6), width=12)  # cropped to their columns
    ink = touching(seven_, one, seven_, overlap=3)

    def judge(inks):  # sure of anything as narrow as a sliver, and of parts as wide as a seven or a one
        widths = np.array([digit.shape[1] for digit in inks])
        return np.where(widths < 10, 1.0, np.maximum(np.exp(-abs(widths - 73) / 10), np.exp(-abs(widths - 12) / 10)))

    _, inks, _ = segment.split_digits(ink, judge)
    assert [abs(digit.shape[1] - width) <= 8 for digit, width in zip(inks, [73, 12, 73])] == [True] * 3
    assert len(inks) == 3
