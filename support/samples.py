"""Your own handwriting as training images: a samples folder read into images and labels, and mixed
with a dataset's training images so that a network learns from both.

A samples folder has one folder per label, as torchvision's ImageFolder reads them: the pictures
of a 7 in my-digits/7/, whatever their names, of any size and format that predict.py reads. Each
picture holds one digit (one thing, for Fashion-MNIST), read as predict.py reads a picture
(ink.read_image, ink.normalize) and all its ink framed as draw.py frames its canvas (framing.frame):

    images, labels, unreadable = read("my-digits")    # (N, 28, 28) uint8, (N,) uint8, [(path, why)]
    images, labels, copies = mix(mnist_images, mnist_labels, images, labels, 0.2, np.random.default_rng(0))
"""

from pathlib import Path

import numpy as np

from support import augment, framing, ink, mnist

LABELS = [str(label) for label in range(mnist.CLASSES)]  # the label folders' names: 0 ... 9
# How far mix turns (degrees), scales (a fraction) and moves (pixels) each copy of a sample at most:
# as much as the cnn recipe distorts MNIST's digits, which are still the same digits.
SAMPLE_DEGREES, SAMPLE_ZOOM, SAMPLE_SHIFT = 10.0, 0.1, 2.0


class SamplesError(ValueError):
    """A samples folder that cannot be used as a whole; the message names what is wrong."""


def read(folder, dataset="mnist"):
    """The pictures in the label folders of `folder`, framed as `dataset` (a name in mnist.DATASETS)
    frames its pictures: images (N, 28, 28) uint8 (0 paper, 255 ink, as the dataset's files),
    labels (N,) uint8, in the order of the labels then the file names; and the pictures that could
    not be read, skipped, as (path, reason) pairs. Raises SamplesError for a folder that is missing,
    holds anything but label folders, or holds no picture that could be read (naming the first)."""
    paths = picture_paths(Path(folder))
    images, labels, unreadable = [], [], []
    for path, label in paths:
        try:
            digit = framing.frame(ink.normalize(ink.read_image(path)), mnist.DATASETS[dataset])
        except ink.ImageError as error:
            unreadable.append((path, str(error)))
            continue
        images.append(np.round(255 * digit).astype(np.uint8))
        labels.append(label)
    if not images:
        path, reason = unreadable[0]
        raise SamplesError(f"{folder}: none of its {len(paths)} files could be read as a picture ({path}: {reason})")
    return np.array(images), np.array(labels, np.uint8), unreadable


def picture_paths(folder):
    """The files in the label folders of `folder` with their labels, [(path, label)], sorted; hidden
    files (a name starting with a dot: .DS_Store, a half-written .tmp) left out. Raises SamplesError
    for a folder that is missing, empty, or holds anything but label folders."""
    if not folder.is_dir():
        raise SamplesError(f"{folder}: {'not a folder' if folder.exists() else 'no such folder'}")
    entries = sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    strays = [entry for entry in entries if entry.name not in LABELS or not entry.is_dir()]
    if strays:
        raise SamplesError(f"{strays[0]}: a samples folder holds only folders named by label, "
                           f"{LABELS[0]} to {LABELS[-1]}, each with the pictures of its label (e.g. {folder / '7'}/)")
    paths = [(path, int(entry.name)) for entry in entries for path in sorted(entry.iterdir())
             if not path.name.startswith(".")]
    if not paths:
        raise SamplesError(f"{folder}: no pictures in its label folders" if entries else
                           f"{folder}: empty; put the pictures of each label in a folder named by it, e.g. "
                           f"{folder / '7'}/")
    return paths


def counts(labels):
    """How many samples of each label there are: {"7": 10, ...}, the labels present only."""
    present, n = np.unique(labels, return_counts=True)
    return {LABELS[label]: int(count) for label, count in zip(present, n)}


def mix(train_images, train_labels, sample_images, sample_labels, share, rng):
    """The training images (N, 28, 28) uint8 and labels (N,) with `share` (in [0, 1)) of the images
    of each label that has samples replaced by copies of its samples (each sample at least once):
    (M, 28, 28), (M,), M about N, the copies last, and how many copies there are. Each label keeps
    its share of the whole, so that the network does not learn to answer the taught labels more often
    than they occur.

    Each copy of a sample is turned, scaled and moved at random (rng, a numpy Generator), as one hand
    writes a digit a little differently each time (augment.distort): a few pictures stand for the
    many ways you write them, while the dataset's images stay as the network learned them. As the
    rounds shuffle, on average `share` of each batch's images of a taught label are samples."""
    kept, repeated = np.ones(len(train_labels), bool), []
    for label in np.unique(sample_labels):
        of_label, own = np.flatnonzero(train_labels == label), np.flatnonzero(sample_labels == label)
        replaced = round(share * len(of_label))
        kept[of_label[len(of_label) - replaced:]] = False
        repeated.append(np.resize(own, max(replaced, len(own))))
    repeated = np.concatenate(repeated)
    distorted = augment.distort(sample_images[repeated], rng, SAMPLE_DEGREES, SAMPLE_ZOOM, SAMPLE_SHIFT)
    distorted = np.round(255 * distorted).astype(np.uint8).reshape(-1, mnist.IMAGE_SIZE, mnist.IMAGE_SIZE)
    return (np.concatenate([train_images[kept], distorted]),
            np.concatenate([train_labels[kept], sample_labels[repeated]]), len(repeated))
