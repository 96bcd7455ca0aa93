"""Random rotations, zooms, shifts and elastic distortions of training digits: exact in the cases that
have an exact answer, statistics for the random fields."""

import math

import numpy as np
import pytest

from support import augment, mnist


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)


def warp(images, degrees=0.0, scale=1.0, shift=(0.0, 0.0)):
    n = len(images)
    return augment.warp(images, np.full(n, math.radians(degrees)), np.full(n, scale), np.tile(shift, (n, 1)))


def test_no_distortion_gives_the_images_back(images):
    np.testing.assert_array_equal(augment.distort(images, np.random.default_rng(1)), mnist.as_inputs(images))


def test_a_whole_pixel_shift_moves_the_image_and_brings_in_paper(images):
    moved = warp(images, shift=(2, -1))
    np.testing.assert_array_equal(moved[:, 2:, :-1], images[:, :-2, 1:])
    assert not moved[:, :2].any() and not moved[:, :, -1].any()


def test_a_quarter_turn_is_exact(images):
    turned = warp(images, degrees=90)
    assert np.allclose(turned, np.rot90(images, k=1, axes=(1, 2)), atol=1e-3) \
        or np.allclose(turned, np.rot90(images, k=-1, axes=(1, 2)), atol=1e-3)


def test_half_a_pixel_shift_blends_neighbours(images):
    moved = warp(images, shift=(0, 0.5))
    np.testing.assert_allclose(moved[:, :, 1:], (images[:, :, 1:].astype(np.float32) + images[:, :, :-1]) / 2,
                               rtol=1e-6)


def test_zooming_out_keeps_the_ink_inside_and_in_range(images):
    digits = np.zeros((1, 28, 28), np.uint8)
    digits[0, 4:24, 10:18] = 255
    small = warp(digits, scale=0.5)
    assert small.min() >= 0 and small.max() <= 255
    assert 0.2 < small.sum() / digits.sum() < 0.3  # a quarter of the area at half the size
    big = augment.distort(images, np.random.default_rng(2), degrees=20, zoom=0.2, shift=3)
    assert big.shape == (5, 784) and big.dtype == np.float32 and 0 <= big.min() and big.max() <= 1


def test_the_same_seed_distorts_the_same_way(images):
    first = augment.distort(images, np.random.default_rng(3), 10, 0.1, 2)
    np.testing.assert_array_equal(first, augment.distort(images, np.random.default_rng(3), 10, 0.1, 2))
    assert not np.array_equal(first, augment.distort(images, np.random.default_rng(4), 10, 0.1, 2))


def test_zero_alpha_is_no_elastic_distortion(images):
    np.testing.assert_array_equal(augment.distort(images, np.random.default_rng(1), alpha=0, sigma=4),
                                  mnist.as_inputs(images))
    n = len(images)
    still = augment.warp(images, np.zeros(n), np.ones(n), np.zeros((n, 2)), np.zeros((n, 2, 28, 28), np.float32))
    np.testing.assert_array_equal(still, images)


@pytest.mark.parametrize("shift", [(2, -1), (0.5, 1.25)])
def test_a_constant_displacement_field_is_a_shift(images, shift):
    n = len(images)
    field = np.broadcast_to(np.array(shift, np.float32)[None, :, None, None], (n, 2, 28, 28))
    bent = augment.warp(images, np.zeros(n), np.ones(n), np.zeros((n, 2)), field)
    np.testing.assert_array_equal(bent, warp(images, shift=shift))


def test_the_fields_are_uniform_noise_smoothed_by_the_gaussian_and_scaled_by_alpha():
    alpha, sigma = 34, 4
    fields = augment.elastic_fields(np.random.default_rng(5), 4000, 28, 28, alpha, sigma)
    assert fields.shape == (4000, 2, 28, 28) and fields.dtype == np.float32
    # Far from the edges, each value is alpha times a sum of uniform(-1, 1) values (variance 1/3)
    # weighted by the 2-D Gaussian g(i) g(j) with sum(g) = 1: its variance is (alpha sum(g^2))^2 / 3.
    taps = np.exp(-0.5 * (np.arange(-16, 17) / sigma) ** 2)
    taps /= taps.sum()
    expected = alpha * np.sum(taps**2) / math.sqrt(3)
    centre = fields[:, :, 14, 14]
    assert abs(centre.mean()) < 0.05 * expected and centre.std() == pytest.approx(expected, rel=0.03)
    # Smooth: neighbours move alike, pixels far apart independently, both directions independently.
    correlation = lambda a, b: np.corrcoef(a.ravel(), b.ravel())[0, 1]  # noqa: E731
    assert correlation(fields[:, :, 14, 14], fields[:, :, 14, 15]) > 0.95
    assert correlation(fields[:, :, 14, 14], fields[:, :, 15, 14]) > 0.95
    assert abs(correlation(fields[:, :, 2, 2], fields[:, :, 25, 25])) < 0.05
    assert abs(correlation(fields[:, 0], fields[:, 1])) < 0.05


def test_the_gaussian_matrix_is_a_symmetric_blur_that_keeps_a_constant_inside_the_image():
    blur = augment.gaussian_matrix(28, 3)
    np.testing.assert_array_equal(blur, blur.T)
    np.testing.assert_allclose(blur[12:16].sum(axis=1), 1, rtol=1e-6)  # rows 12 cut off at 4 sigma: all inside
    assert blur[0].sum() < 0.6 and blur[0, 13] == 0  # the edge's Gaussian half outside; beyond 12 = 4 sigma, none


def test_elastic_distortion_stays_in_range_and_follows_the_seed(images):
    bent = augment.distort(images, np.random.default_rng(6), alpha=34, sigma=4)
    assert bent.shape == (5, 784) and bent.dtype == np.float32 and 0 <= bent.min() and bent.max() <= 1
    assert not np.array_equal(bent, mnist.as_inputs(images))
    np.testing.assert_array_equal(bent, augment.distort(images, np.random.default_rng(6), alpha=34, sigma=4))
    assert not np.array_equal(bent, augment.distort(images, np.random.default_rng(7), alpha=34, sigma=4))
    # The images beyond one chunk get fields of their own: a batch of copies is bent in as many ways.
    copies = np.repeat(images[:1], augment.CHUNK + 2, axis=0)
    many = augment.distort(copies, np.random.default_rng(8), alpha=8, sigma=3)
    assert len(np.unique(many, axis=0)) == len(copies)


def test_shuffled_inputs_bend_the_digits_when_asked():
    images = np.random.default_rng(9).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = np.arange(50)
    plain, order = mnist.shuffled_inputs(images, labels, np.random.default_rng(1))
    bent, same_order = mnist.shuffled_inputs(images, labels, np.random.default_rng(1), elastic=(8.0, 3.0))
    np.testing.assert_array_equal(order, same_order)
    assert not np.array_equal(plain, bent)
    rng = np.random.default_rng(1)
    rng.permutation(50)  # the order, drawn first
    np.testing.assert_array_equal(bent, augment.distort(images[order], rng, alpha=8, sigma=3))


@pytest.fixture
def bar():
    """A vertical bar 2 pixels wide, full ink, in the middle of an empty frame: (1, 28, 28) uint8."""
    digits = np.zeros((1, 28, 28), np.uint8)
    digits[0, 6:22, 13:15] = 255
    return digits


def test_restyling_nothing_gives_the_images_back_and_draws_nothing(images):
    rng = np.random.default_rng(10)
    np.testing.assert_array_equal(augment.restyle(images, rng), images)
    assert rng.random() == np.random.default_rng(10).random()


def test_restyling_follows_the_seed_and_keeps_the_shape(images):
    styles = dict(stroke=0.7, slant=0.3, blur=1.2, share=1)
    first = augment.restyle(images, np.random.default_rng(11), **styles)
    assert first.shape == images.shape and first.dtype == np.uint8
    np.testing.assert_array_equal(first, augment.restyle(images, np.random.default_rng(11), **styles))
    assert not np.array_equal(first, augment.restyle(images, np.random.default_rng(12), **styles))


def test_a_share_of_the_images_is_restyled_and_the_others_are_left_as_they_are():
    digits = np.zeros((3000, 28, 28), np.uint8)
    digits[:, 6:22, 13:15] = 255
    restyled = augment.restyle(digits, np.random.default_rng(13), stroke=1)
    changed = np.any(restyled != digits, axis=(1, 2))
    assert changed.mean() == pytest.approx(augment.RESTYLED, abs=0.03)


def test_a_whole_pixel_of_stroke_is_the_neighbourhoods_largest_or_smallest_value(bar):
    widened = augment.stroke_widths(bar, np.ones(1, np.float32))
    expected = np.zeros((28, 28))
    expected[5:23, 12:16] = 255
    np.testing.assert_array_equal(widened[0], expected)
    narrowed = augment.stroke_widths(bar, -np.ones(1, np.float32))
    assert not narrowed.any()  # 2 pixels wide, 1 taken from each side


def test_a_wider_stroke_has_more_ink_and_a_narrower_one_less(bar):
    changes = np.array([-0.5, -0.25, 0, 0.25, 0.5], np.float32)
    ink = augment.stroke_widths(np.repeat(bar, 5, axis=0), changes).sum(axis=(1, 2))
    assert np.all(np.diff(ink) > 0) and ink[2] == bar.sum()
    # Half a pixel on each side: half of the ink that a whole pixel adds (the bar of 16 x 2 grows to 18 x 4).
    assert ink[4] == (32 + 0.5 * (18 * 4 - 32)) * 255


def test_a_slant_moves_the_top_right_and_the_bottom_left(bar):
    slanted = augment.slanted(bar.astype(np.float32), 0.5)
    # Row y moves right by 0.5 (13.5 - y) pixels: the bar's top row, 6, by 3.75, its last, 21, left by 3.75.
    columns = np.arange(28)
    centres = (slanted[0] @ columns)[6:22] / slanted[0, 6:22].sum(axis=1)
    np.testing.assert_allclose(centres, 13.5 + 0.5 * (13.5 - np.arange(6, 22)), atol=1e-4)
    np.testing.assert_allclose(slanted.sum(axis=2), bar.sum(axis=2), rtol=1e-5)  # no ink lost in the frame


def test_whole_pixel_slants_move_rows_exactly(images):
    slanted = augment.slanted(images.astype(np.float32), 1 / 13.5)  # the top row 1 pixel right
    np.testing.assert_array_equal(slanted[:, 0, 1:], images[:, 0, :-1])
    np.testing.assert_array_equal(slanted[:, 27, :-1], images[:, 27, 1:])


def test_a_blur_spreads_a_point_as_the_gaussian_matrices_do():
    point = np.zeros((1, 28, 28), np.float32)
    point[0, 14, 10] = 255
    blurred = augment.gaussian_blur(point, 1.0)
    gauss = augment.gaussian_matrix(28, 1.0)
    np.testing.assert_allclose(blurred[0], 255 * np.outer(gauss[14], gauss[10]), rtol=1e-5, atol=1e-6)
    assert np.count_nonzero(blurred > 1) > 9 and blurred.sum() == pytest.approx(255, rel=1e-5)


def test_the_ink_levels_after_a_blur_take_the_fringe_away_and_make_the_rest_bold(bar):
    blurred = augment.gaussian_blur(bar.astype(np.float32), 1.2)
    levels = augment.ink_levels(blurred)
    assert levels.max() == 255 and levels.min() == 0
    assert not levels[blurred < augment.FAINT * blurred.max()].any()
    inked = levels[levels > 0]
    assert inked.mean() == pytest.approx(255, rel=0.25)  # stretched to full ink, then cut off at it
    assert np.count_nonzero(levels) > np.count_nonzero(bar)  # a wider stroke than the bar's


def test_blur_levels_leave_the_unblurred_images_alone(images):
    sigmas = np.array([0, 0.5, 0, 1.0, 0.5])
    out = augment.by_levels(images.astype(np.float32), sigmas, augment.gaussian_blur)
    np.testing.assert_array_equal(out[[0, 2]], images[[0, 2]])
    np.testing.assert_allclose(out[[1, 4]], augment.gaussian_blur(images[[1, 4]].astype(np.float32), 0.5), rtol=1e-6)
