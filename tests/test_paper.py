"""Handwriting as people write it: ruled and squared paper (support/ruling.py), hard shadows
(ink.paper_under_shadows), several rows and touching digits (support/segment.py), and predict.py's
lines for them. The image tests draw their own shapes or render notebook paper (tests/pages.py) and
need no network; the tests that read MNIST digits on notebook paper train a small one."""

import re

import numpy as np
import pages
import PIL.Image
import pytest
import test_morphology
import test_predict

import nn
import predict
import shapes
from shapes import four, number, paint, seven
from support import ink, mnist, model, ruling, segment

trained_model = test_predict.trained_model  # the small network of test_predict.py, as a fixture here
run_predict = test_predict.run_predict


def on_paper(drawn, kind, rng, shadow=False):
    """A grey picture of the ink `drawn` in black on notebook paper of `kind`, photographed."""
    picture = pages.photograph(pages.write(pages.paper(drawn.shape, rng, kind), drawn, "black"), rng, shadow)
    return picture @ ink.LUMA


@pytest.mark.parametrize("kind", ["ruled", "squared"])
def test_ruling_goes_and_the_strokes_that_cross_it_stay_whole(kind):
    drawn = np.pad(seven(), 60)
    found = ink.normalize(on_paper(drawn, kind, np.random.default_rng(0)))
    # Every stroke pixel is ink (the lines it crosses did not cut it), and nothing far from the strokes is.
    assert np.mean(found[drawn == 1] > 0) > 0.98
    near = ink.sliding(ink.sliding(drawn, 11, np.maximum, 0), 11, np.maximum, 1) > 0
    assert np.count_nonzero(found[~near]) < 0.001 * drawn.size
    boxes, _, _ = segment.split_digits(found)
    assert len(boxes) == 1


@pytest.mark.parametrize("slope", [0, 0.03, -0.07])
def test_the_tilt_of_the_ruling_is_found_to_a_pixel_across_the_page(slope):
    rows, columns = np.mgrid[0:500, 0:700]
    lines = (np.abs((rows - columns * slope) % 60 - 30) > 29).astype(np.float32)  # 2 pixels wide
    found = ruling.tilt(lines + np.random.default_rng(0).uniform(0, 0.05, lines.shape).astype(np.float32))
    assert abs(found - slope) * 700 <= 1.5  # rows, at the far side of the page
    assert found == 0 or slope != 0


def turned(picture, degrees, fill):
    """A grey picture (H, W) turned by `degrees` anticlockwise about its centre, as a page photographed
    askew; corners filled with `fill`."""
    image = PIL.Image.fromarray(picture.astype(np.float32))  # float32: Pillow's mode F
    return np.asarray(image.rotate(degrees, PIL.Image.Resampling.BILINEAR, fillcolor=fill))


@pytest.mark.parametrize("kind", ["ruled", "squared"])
@pytest.mark.parametrize("degrees", [-3, 1.5])
def test_the_ruling_of_a_page_photographed_askew_goes_too(kind, degrees):
    drawn = np.pad(seven(), 60)
    grey = on_paper(drawn, kind, np.random.default_rng(1))
    found = ink.normalize(turned(grey, degrees, float(np.median(grey))))
    stroke = turned(drawn, degrees, 0) > 0.5
    assert np.mean(found[stroke] > 0) > 0.98
    near = ink.sliding(ink.sliding(stroke.astype(np.float32), 11, np.maximum, 0), 11, np.maximum, 1) > 0
    assert np.count_nonzero(found[~near]) < 0.001 * drawn.size


def test_a_hard_shadow_across_the_digit_is_not_ink():
    drawn = np.pad(four(), 80)
    grey = paint(drawn, paper=0.9, colour=0.1)
    grey[:, 150:] *= 0.55  # a hard-edged shadow over the right half, the digit's stem in it
    grey += np.random.default_rng(2).normal(0, 0.01, grey.shape).astype(np.float32)
    found = ink.normalize(grey)
    assert np.array_equal(found > 0, drawn > 0)


def test_under_a_hard_shadow_the_strokes_are_as_strong_as_in_the_light():
    drawn = np.pad(four(), 80)
    grey = paint(drawn, paper=0.9, colour=0.1)
    grey[:, 150:] *= 0.55
    found = ink.normalize(grey)
    stroke = drawn == 1
    # Without the gain of the shadow's paper, the shadowed strokes came out 0.44 as strong.
    assert np.median(found[:, :150][stroke[:, :150]]) == 1
    assert np.median(found[:, 150:][stroke[:, 150:]]) > 0.75


@pytest.mark.parametrize("kind", ["ruled", "squared"])
@pytest.mark.parametrize("shadow", [False, True], ids=["lit", "shadowed"])
def test_a_page_of_ruling_only_holds_no_ink(kind, shadow):
    rng = np.random.default_rng(5)
    grey = pages.photograph(pages.paper((340, 250), rng, kind), rng, shadow) @ ink.LUMA
    with pytest.raises(ink.ImageError, match="holds only the paper's ruling"):
        ink.normalize(grey)


def test_a_stroke_along_the_columns_of_a_tight_crop_is_ink_not_ruling():
    drawn = np.zeros((120, 40), np.float32)
    drawn[:, 15:25] = 1  # a 1 cropped to its ink: the median of each of its columns is ink
    found = ink.normalize(paint(drawn))
    assert np.array_equal(found > 0, drawn > 0)


def test_a_faint_bar_across_most_of_a_cropped_picture_is_ink_not_ruling():
    # A 4 scanned small and enlarged, cropped around it: its blurred bar is lighter than its stem and
    # marks 60% of its rows, its stem 80% of its columns (the median of each: it was taken for ruling).
    drawn = np.zeros((100, 100), np.float32)
    drawn[10:90, 60:67] = 1
    drawn[52:60, 20:80] = np.maximum(drawn[52:60, 20:80], 0.45)
    grey = paint(drawn) + np.random.default_rng(4).normal(0, 0.005, drawn.shape)
    found = ink.normalize(grey.astype(np.float32))
    assert np.all(found[52:60, 22:58] > 0) and np.all(found[12:88, 61:66] > 0)
    assert not found[drawn == 0].any()


def scanned_small(drawn, side=16, size=160):
    """Ink (H, W) in [0, 1] as a digit scanned into a box of `side` pixels that it fills, the box
    enlarged to `size` pixels (bilinear), dark on white: grey (size, size) float32."""
    small = PIL.Image.fromarray(np.round(255 * (1 - drawn)).astype(np.uint8)).resize((side, side),
                                                                                     PIL.Image.Resampling.BOX)
    return np.asarray(small.resize((size, size), PIL.Image.Resampling.BILINEAR), np.float32) / 255


def test_a_thick_bar_along_the_edge_of_a_close_crop_is_ink_not_a_shadow():
    # The closing of the paper under shadows takes a dark region that the picture's edge cuts for a
    # shadow falling from beyond it; but no shadow is as dark as ink.
    rows, columns = np.mgrid[0:150, 0:150]
    seven_ = ((rows < 28) | (np.abs(columns - 140 + 0.5 * rows) < 12)).astype(np.float32)
    found = ink.normalize(scanned_small(seven_))
    assert found[:10, 20:130].min() > 0.5


def test_a_slanted_stroke_that_fills_the_picture_is_ink_not_ruling():
    # Along the page's tilt, the stroke marks most of its tilted columns, as ruling does; but it is
    # far thicker than a line of ruling.
    rows, columns = np.mgrid[0:150, 0:150]
    drawn = (np.abs(columns - 75 - 0.08 * (rows - 75)) < 12).astype(np.float32)
    drawn[:, :40] = np.maximum(drawn[:, :40], rows[:, :40] > 135)  # a foot, so that not all the ink is one line
    found = ink.normalize(scanned_small(drawn))
    assert found[20:140, 76:84].min() > 0.5


def test_a_dark_thing_on_the_paper_is_ink_all_over_but_a_shadow_from_the_edge_is_not():
    drawn = np.pad(shapes.ellipse((200, 160), (100, 80), (95, 75)), 100)  # wider than the shadow window
    grey = paint(drawn, paper=0.9, colour=0.35) + np.random.default_rng(3).normal(0, 0.01, drawn.shape)
    found = ink.normalize(grey.astype(np.float32))
    assert np.mean(found[drawn == 1] > 0.5) > 0.95  # all of it, not only its outline
    assert np.count_nonzero(found[drawn == 0]) < 0.01 * drawn.size


def test_ruling_only_pages_say_no_ink_and_a_dark_thing_no_digit_while_the_others_are_read(tmp_path):
    rng = np.random.default_rng(6)
    ruled, squared = (pages.save(tmp_path / f"{kind}.jpg", pages.photograph(pages.paper((340, 250), rng, kind), rng))
                      for kind in ("ruled", "squared"))
    thing = pages.save(tmp_path / "thing.jpg", pages.photo_of_thing(
        np.round(255 * shapes.ellipse((28, 28), (14, 14), (12, 9))).astype(np.uint8), rng))
    seven_ = tmp_path / "seven.png"
    shapes.write_grey_png(seven_, seven())
    untrained = tmp_path / "model.npz"
    model.save(nn.mlp([784, 16, 10], rng=np.random.default_rng(0)), untrained)
    result = run_predict("--model", untrained, ruled, thing, squared, seven_, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"predict.py: error: {path}: no ink found: the picture holds only the "
                                          "paper's ruling" for path in (ruled, squared)]
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    unlike = re.escape(f"{thing}: no digit recognised (best guess ") + r"\d, confidence [01]\.\d\d\)"
    assert re.fullmatch(unlike, lines[0])
    assert lines[1].startswith(f"{seven_}: ") and "no digit" not in lines[1]


def test_digits_are_found_row_by_row():
    top = number(seven(), seven(), gaps=[20])
    bottom = number(seven(), seven(), seven(), gaps=[20, 20])
    page = np.zeros((300, 400), np.float32)
    page[20:140, 30:30 + top.shape[1]] = top
    page[170:290, 10:10 + bottom.shape[1]] = bottom
    boxes, _, lines = segment.split_digits(page)
    assert lines.tolist() == [0, 0, 1, 1, 1]
    assert np.all(np.diff(boxes[lines == 1, 1]) > 0) and boxes[0, 0] < boxes[2, 0]


def test_touching_digits_are_cut_where_the_judge_is_surest():
    # The second seven's ink starts 3 columns before the first one's ends (each is 73 wide): they touch.
    ink_ = np.pad(np.maximum(np.pad(seven(), ((0, 0), (0, 70))), np.pad(seven(), ((0, 0), (70, 0)))), 10)

    def judge(inks):  # sure of parts as wide as a seven, unsure of anything else
        return np.array([np.exp(-abs(digit.shape[1] - 73) / 10) for digit in inks])

    boxes, inks, _ = segment.split_digits(ink_, judge)
    assert len(boxes) == 2 and all(abs(digit.shape[1] - 73) <= 8 for digit in inks)
    assert len(segment.split_digits(ink_)[0]) == 1  # without a judge, one group is one digit


def test_rows_are_printed_top_to_bottom_separated_by_spaces():
    probabilities = np.eye(10)[[9, 0, 2, 5, 5]]
    assert predict.describe_number("page.png", probabilities, lines=[0, 0, 0, 1, 1]) == \
        "page.png: 902 55 (confidence of each digit: 1.00, 1.00, 1.00, 1.00, 1.00)"


def test_a_solid_blob_is_unlike_a_digit_and_a_seven_is_not():
    assert predict.unlike_digits([shapes.ellipse((100, 80), (50, 40), (45, 35))])
    assert not predict.unlike_digits([seven()])
    assert not predict.unlike_digits([seven(), shapes.ellipse((30, 30), (15, 15), (14, 14))])  # most ink a digit
    assert predict.describe_unlike("scene.jpg", np.full((1, 10), 0.1)) == \
        "scene.jpg: no digit recognised (best guess 0, confidence 0.10)"


def test_a_shoe_shaped_blob_and_a_patterned_cloth_are_unlike_a_digit():
    rows, columns = np.indices((120, 120))
    wedge = (rows >= 2 * np.abs(columns - 60)).astype(np.float32)  # fills half its box, strokes 0.3 of it wide
    assert predict.unlike_digits([wedge])
    assert predict.unlike_digits([test_morphology.net()])  # thin lines, but 30 holes
    assert not predict.unlike_digits([test_morphology.ring()])  # a 0: one hole, strokes 0.15 of it wide


def test_a_line_left_of_the_ruling_is_a_stroke_not_a_blob():
    margin = np.ones((300, 2), np.float32)  # the red margin of ruled paper, left whole: it fills its box
    small_seven = shapes.stroke((48, 36), (8, 6), (8, 30), (42, 14), width=5)
    assert margin.sum() > small_seven.sum()
    assert not predict.unlike_digits([margin, small_seven])


# ---------------------------------------------------------------------------------------------
# MNIST digits on notebook paper, read by a small network trained here.


def test_digits_on_notebook_paper_get_the_answers_of_their_mnist_images(trained_model, mnist_dir, tmp_path):
    network, _ = model.load(trained_model)
    images, _ = mnist.load_split("test", mnist_dir)
    rng = np.random.default_rng(3)
    chosen = images[2000:2030]
    answers = []
    for i, image in enumerate(chosen):
        kind, colour = pages.PAPERS[i % 3], list(pages.INKS)[i % 5]
        path = pages.save(tmp_path / f"page-{i}.jpg", pages.notebook_page([image[None]], rng, kind, colour))
        _, _, digits, _, _ = predict.preprocess(path, network=network)
        answers.append(network.probabilities(digits.reshape(len(digits), -1)).argmax(axis=1).tolist())
    originals = network.probabilities(mnist.as_inputs(chosen)).argmax(axis=1)
    assert np.mean([answer == [original] for answer, original in zip(answers, originals)]) >= 0.8


def test_a_page_of_two_rows_prints_two_numbers_and_a_blank_page_no_ink(trained_model, mnist_dir, tmp_path):
    images, _ = mnist.load_split("test", mnist_dir)
    rng = np.random.default_rng(4)
    page = pages.save(tmp_path / "page.jpg", pages.notebook_page([images[3000:3005], images[3005:3012]], rng))
    empty = pages.save(tmp_path / "empty.jpg", pages.photograph(pages.paper((400, 300), rng, "plain"), rng))
    result = run_predict("--model", trained_model, empty, page, "--output", tmp_path / "out.png", cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and f"{empty}: no ink found" in result.stderr
    numbers = re.fullmatch(re.escape(str(page)) + r": (\d+) (\d+) \(confidence of each digit: .*\)",
                           result.stdout.strip())
    assert numbers and [len(n) for n in numbers.groups()] == [5, 7], result.stdout
