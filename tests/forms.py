"""Pictures of handwritten digits in forms that MNIST's writers rarely used, for teaching a network a
hand (train.py --samples) and measuring whether it learned it (tests/test_teach.py, bench/teach.py).

    flagged 1: a 1 with a long up-stroke (a flag) into its top and a base under it
    barred 7:  a 7 with a bar through the middle of its stem
    closed 4:  a 4 whose top is closed, like a triangle

Each picture is drawn as a pen draws: strokes of points in the digit's own box (x right, y down,
both 0 to 1), bowed a little and jittered, slanted, turned, sized, and placed at random on a page
of grey paper, in dark ink of some pen width, with the paper's grain:

    write_forms(folder, per_form=10, seed=0)    # folder/1/flagged-1-0.png, ..., folder/4/closed-4-9.png
"""

from pathlib import Path

import numpy as np
import PIL.Image

import draw

PAGE = 160  # pixels a side


def flagged_one(rng):
    top_x = rng.uniform(0.6, 0.8)
    flag = rng.uniform(0.55, 0.85)  # how far down the up-stroke starts: a long flag
    return [[(top_x - rng.uniform(0.5, 0.7), flag), (top_x, 0.0), (top_x - rng.uniform(-0.03, 0.05), 1.0)],
            [(top_x - rng.uniform(0.3, 0.4), 1.0), (top_x + rng.uniform(0.2, 0.3), 0.98)]]


def barred_seven(rng):
    corner_x, foot_x, bar_y = rng.uniform(0.8, 0.95), rng.uniform(0.35, 0.6), rng.uniform(0.48, 0.6)
    stem_x = corner_x + (foot_x - corner_x) * bar_y  # where the bar crosses the stem
    tick = rng.uniform(0.0, 0.25)  # the little down-stroke some start the top with
    return [[(0.0, tick), (rng.uniform(0.0, 0.1), 0.0), (corner_x, 0.0), (foot_x, 1.0)],
            [(stem_x - rng.uniform(0.3, 0.45), bar_y + 0.02), (stem_x + rng.uniform(0.3, 0.45), bar_y - 0.02)]]


def closed_four(rng):
    apex_x, bar_y = rng.uniform(0.6, 0.75), rng.uniform(0.6, 0.8)
    return [[(apex_x, 0.0), (rng.uniform(0.0, 0.1), bar_y), (apex_x + rng.uniform(0.05, 0.3), bar_y - 0.02)],
            [(apex_x, 0.0), (apex_x + rng.uniform(-0.05, 0.02), 1.0)]]


# name: (label, the strokes of one random digit of that form)
FORMS = {"flagged-1": (1, flagged_one), "barred-7": (7, barred_seven), "closed-4": (4, closed_four)}


def bowed(stroke, rng, points=8):
    """A stroke's corners (k, 2) -> a line through them of (k - 1) * points + 1 points, each segment
    bowed sideways by up to 4% of the box and each corner moved by up to 3%: no hand draws straight."""
    corners = np.asarray(stroke, float) + rng.uniform(-0.03, 0.03, (len(stroke), 2))
    t = np.linspace(0, 1, points, endpoint=False)[:, None]
    line = []
    for start, end in zip(corners[:-1], corners[1:]):
        normal = np.array([start[1] - end[1], end[0] - start[0]])
        line.append(start + t * (end - start) + rng.uniform(-0.04, 0.04) * np.sin(np.pi * t) * normal)
    return np.concatenate([*line, corners[-1:]])


def place(line, rng, height, slant, angle, aspect, offset):
    """Unit-box points (n, 2) -> page pixels: slanted (x moves right as y goes up), made `aspect`
    times as wide as high, `height` pixels high, turned by `angle` radians about the box's centre and
    moved to `offset` (x, y), the box's centre on the page."""
    x = (line[:, 0] - 0.5 + slant * (0.5 - line[:, 1])) * aspect * height
    y = (line[:, 1] - 0.5) * height
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cos * x - sin * y, sin * x + cos * y], axis=1) + offset


def render(form, rng):
    """A random digit of `form` (a name in FORMS) on paper: (PAGE, PAGE) uint8 grey, dark ink on light paper."""
    height = rng.uniform(0.45, 0.7) * PAGE
    shape = dict(height=height, slant=rng.uniform(-0.1, 0.35), angle=np.radians(rng.uniform(-6, 6)),
                 aspect=rng.uniform(0.75, 1.15), offset=PAGE / 2 + rng.uniform(-0.08, 0.08, 2) * PAGE)
    pen = rng.uniform(0.05, 0.11) * height
    ink = np.zeros((PAGE, PAGE), np.float32)
    for stroke in FORMS[form][1](rng):
        line = place(bowed(stroke, rng), rng, **shape)
        for start, end in zip(line[:-1], line[1:]):
            draw.draw_line(ink, start, end, pen)
    return on_paper(ink, rng)


def on_paper(ink, rng):
    """Ink (H, W) float32 in [0, 1] written on grey paper: (H, W) uint8, a random dark ink on a random
    light paper, with the paper's grain."""
    paper, dark = rng.uniform(0.8, 0.97), rng.uniform(0.05, 0.3)
    grey = paper - (paper - dark) * ink + rng.normal(0, 0.01, ink.shape)
    return np.round(255 * np.clip(grey, 0, 1)).astype(np.uint8)


def write_forms(folder, per_form, seed, forms=FORMS):
    """Write per_form pictures of each form to folder/<label>/<form>-<i>.png, as a samples folder holds
    them (support/samples.py); the seed decides them all. Returns the paths, form after form."""
    rng, paths = np.random.default_rng(seed), []
    for form in forms:
        label_folder = Path(folder) / str(FORMS[form][0])
        label_folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_form):
            paths.append(label_folder / f"{form}-{i}.png")
            PIL.Image.fromarray(render(form, rng)).save(paths[-1])
    return paths
