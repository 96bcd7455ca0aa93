"""The continental forms drawn into MNIST's digits: where the strokes go, what is left alone, and
that the digit keeps its place."""

import numpy as np
import pytest

from support import continental


def digit(*boxes):
    """A (1, 28, 28) uint8 image with full ink in each box (top, bottom, left, right), ends included."""
    image = np.zeros((1, 28, 28), np.uint8)
    for top, bottom, left, right in boxes:
        image[0, top : bottom + 1, left : right + 1] = 255
    return image


ONE = digit((4, 23, 13, 14))  # a stem 2 pixels wide
SEVEN = digit((4, 5, 6, 21), (6, 23, 13, 14))  # the top bar and the stem
OPEN_FOUR = digit((4, 15, 7, 8), (14, 15, 7, 22), (4, 23, 17, 18))  # the arm, the bar and the stem


def drawn(image, form, seed=0):
    return continental.drawn(image, continental.FORMS[form], np.random.default_rng(seed))


def test_a_share_of_zero_gives_the_images_back_and_draws_nothing():
    images, rng = np.repeat(SEVEN, 4, axis=0), np.random.default_rng(0)
    assert continental.continental(images, np.full(4, 7), rng, 0) is images
    assert rng.random() == np.random.default_rng(0).random()


def test_only_a_share_of_the_ones_sevens_and_fours_change():
    images = np.concatenate([np.repeat(ONE, 1000, axis=0), np.repeat(SEVEN, 1000, axis=0),
                             np.repeat(OPEN_FOUR, 1000, axis=0), np.repeat(SEVEN, 1000, axis=0)])
    labels = np.repeat([1, 7, 4, 2], 1000)  # the last thousand are not 1, 4 or 7, whatever they look like
    out = continental.continental(images, labels, np.random.default_rng(1), 0.3)
    changed = np.any(out != images, axis=(1, 2)).reshape(4, 1000).mean(axis=1)
    np.testing.assert_allclose(changed[:3], 0.3, atol=0.05)
    assert changed[3] == 0


def test_the_same_seed_draws_the_same_forms():
    images, labels = np.repeat(OPEN_FOUR, 50, axis=0), np.full(50, 4)
    first = continental.continental(images, labels, np.random.default_rng(5), 0.5)
    np.testing.assert_array_equal(first, continental.continental(images, labels, np.random.default_rng(5), 0.5))
    assert not np.array_equal(first, continental.continental(images, labels, np.random.default_rng(6), 0.5))


def test_a_flag_goes_from_the_top_of_the_one_down_to_its_left():
    for seed in range(10):
        out = drawn(ONE, 1, seed)[0] > 128
        stem = out.sum(axis=0).argmax()  # the stem's column, wherever the digit was moved
        top = out.any(axis=1).argmax()
        flag_rows = np.flatnonzero(out[:, : stem - 2].any(axis=1))  # ink more than 2 pixels left of the stem
        flag_rows = flag_rows[flag_rows < top + 14]  # not the base, at the foot 20 rows down
        assert len(flag_rows) >= 4 and flag_rows.min() <= top + 5  # from near the top, downwards
        assert not out[:top + 14, stem + 4:].any()  # nothing to the right


def test_a_bar_crosses_the_stem_of_the_seven_on_both_sides_below_its_middle():
    for seed in range(10):
        out = drawn(SEVEN, 7, seed)[0] > 128
        below_the_top = np.arange(28) > 8
        bar_rows = np.flatnonzero(out[:, 8:11].any(axis=1) & out[:, 17:20].any(axis=1) & below_the_top)
        assert len(bar_rows) and 11 <= bar_rows.mean() <= 18  # 45 to 60% of the way down, moved a pixel at most


def test_the_top_of_a_four_is_closed_between_the_arm_and_the_stem():
    assert not OPEN_FOUR[0, 2:10, 10:16].any()
    for seed in range(5):
        out = drawn(OPEN_FOUR, 4, seed)[0]
        assert (out[2:10, 10:16] > 128).any(axis=0).all()  # ink across the gap, in every column of it


def test_the_digit_keeps_its_centre_of_mass_within_a_pixel():
    for form, image in ((1, ONE), (7, SEVEN), (4, OPEN_FOUR)):
        for seed in range(5):
            out = drawn(image, form, seed)
            shift = continental.centre_of_mass(out) - continental.centre_of_mass(image)
            assert np.abs(shift).max() <= 0.5 + 1e-6, (form, seed)


def test_a_digit_with_no_ink_where_the_bar_would_go_is_left_alone():
    broken_seven = digit((4, 5, 6, 21), (6, 10, 13, 14), (20, 23, 13, 14))  # no stem from row 11 to 19
    np.testing.assert_array_equal(drawn(broken_seven, 7), broken_seven)


def test_the_pen_is_as_wide_as_the_digits_own_stroke_within_its_limits():
    assert continental.stroke_width(ONE > 0)[0] == 2
    assert continental.stroke_width(digit((4, 23, 10, 17)) > 0)[0] == 8  # clipped to PEN when drawn
    two_strokes = digit((4, 23, 6, 8), (4, 23, 18, 20))
    assert continental.stroke_width(two_strokes > 0)[0] == 3


def test_a_pen_line_is_full_ink_along_the_segment_and_fades_over_a_pixel():
    ink = continental.pen_line(np.array([[10.0, 5.0]]), np.array([[10.0, 20.0]]), np.array([2.0]), (28, 28))[0]
    assert (ink[10, 5:21] == 255).all() and (ink[9, 5:21] == 255).all() and (ink[11, 5:21] == 255).all()
    assert (ink[12, 5:21] == 0).all() and (ink[8, 5:21] == 0).all()  # 2 pixels away: width / 2 + 1
    assert ink[10, 22] == 0 and ink[10, 21] == 255 * 1.0 and ink[10, 3] == 0
    assert ink[10, 4] == pytest.approx(255)  # a pixel beyond the end, width / 2 = 1 inside the pen's round end


def test_nan_points_draw_nothing():
    nothing = np.full((1, 2), np.nan)
    assert not continental.pen_line(nothing, nothing, np.array([3.0]), (28, 28)).any()


def test_moved_shifts_by_whole_pixels_and_brings_in_paper():
    image = np.arange(28 * 28, dtype=np.float32).reshape(1, 28, 28) + 1
    out = continental.moved(image, np.array([[2, -3]]))
    np.testing.assert_array_equal(out[0, 2:, :-3], image[0, :-2, 3:])
    assert not out[0, :2].any() and not out[0, :, -3:].any()
