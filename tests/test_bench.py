"""The benchmark's arithmetic and parsing (its timings belong in bench/, never in a test)."""

import importlib.util

import pytest

import nn
from conftest import ROOT
from support import model

spec = importlib.util.spec_from_file_location("compare", ROOT / "bench" / "compare.py")
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)


def test_training_flops_count_forward_weight_and_hidden_input_gradients():
    # forward 2 * (784*256 + 256*10), weight gradients the same, input gradient of layer 2 only
    per_image = 2 * (784 * 256 + 256 * 10) * 2 + 2 * 256 * 10
    assert compare.training_flops(nn.mlp([784, 256, 10]), 60000) == 60000 * per_image
    assert compare.training_flops(nn.mlp([784, 256, 10]), 60000) == pytest.approx(49.1e9, rel=1e-3)
    assert compare.training_flops(nn.mlp([784, 10]), 1) == 2 * 2 * 7840


def test_training_flops_of_a_cnn_count_each_output_pixel_of_each_filter():
    # conv 1 -> 4 (3x3) on 28x28: 26*26 pixels * 9 * 4; conv 4 -> 8 (3x3) on 13x13: 11*11 * 36 * 8; dense 200 -> 10
    products = [26 * 26 * 9 * 4, 11 * 11 * 36 * 8, 200 * 10]
    expected = 2 * (2 * sum(products) + sum(products[1:]))
    assert compare.training_flops(model.build([], [4, 8], 3), 1) == expected


def test_reads_the_seconds_and_accuracy_that_train_py_prints():
    output = (
        "cost after training round 1: 0.3000  train 91.00%  test 95.00%  (2.50 s)\n"
        "cost after training round 2: 0.1000  train 96.00%  test 97.00%  (1.25 s)\n"
        "cost after training round 3: 0.0800  train 97.00%  validation 97.10%  test 97.50%  (1.50 s)\n"
        "correctly recognized images after training: 97.50%\n"
    )
    assert compare.epoch_seconds(output) == [1.25, 1.5]  # the warm-up round left out
    assert compare.final_accuracy(output) == 97.5


def test_reads_the_training_seconds_of_each_side_of_the_fast_runs():
    assert compare.training_seconds("cost after training round 1: 0.2  train 93.00%  test 98.95%  (8.78 s)\n"
                                    "training took 8.9 s\n") == 8.9
    assert compare.training_seconds("seconds: import 2.00, data 0.30, training 6.61, test 0.40\n") == 6.61
    assert compare.training_seconds("cost after training round 1: 0.2  test 98.95%  (6.50 s)\n"
                                    "cost after training round 2: 0.1  test 99.05%  (6.25 s)\n") == 12.75
