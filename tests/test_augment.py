"""Random rotations, zooms and shifts of training digits: exact in the cases that have an exact answer."""

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
