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
