"""Your own handwriting as training images: a samples folder read into images and labels, and mixed
with a dataset's training images so that a network learns from both.

A samples folder has one folder per label, as torchvision's ImageFolder reads them: the pictures
of a 7 in my-digits/7/, whatever their names, of any size and format that predict.py reads. Each
picture holds one digit (one thing, for Fashion-MNIST), read as predict.py reads a picture
(ink.read_image, ink.normalize) and all its ink framed as draw.py frames its canvas (framing.frame):

    images, labels, unreadable = read("my-digits")    # (N, 28, 28) uint8, (N,) uint8, [(path, why)]
    images, labels = mix(mnist_images, mnist_labels, images, labels, share=0.2)
"""

from pathlib import Path

import numpy as np

from support import framing, ink, mnist

LABELS = [str(label) for label in range(mnist.CLASSES)]  # the label folders' names: 0 ... 9


class SamplesError(ValueError):
    """A samples folder that cannot be used as a whole; the message names what is wrong."""


def read(folder, dataset="mnist"):
    """The pictures in the label folders of `folder`, framed as `dataset` (a name in mnist.DATASETS)
    frames its pictures: images (N, 28, 28) uint8 (0 paper, 255 ink, as the dataset's files),
    labels (N,) uint8, in the order of the labels then the file names; and the pictures that could
    not be read, skipped, as (path, reason) pairs. Raises SamplesError for a folder that is missing,
    holds anything but label folders, or holds no picture that could be read."""
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
        raise SamplesError(f"{folder}: none of its {len(paths)} pictures could be read")
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


def mix(train_images, train_labels, sample_images, sample_labels, share):
    """The training images (N, 28, 28) uint8 with the samples repeated after them until they are
    `share` (in [0, 1)) of the whole, and the labels likewise: (N + M, 28, 28), (N + M,). The rounds
    shuffle and distort every image anew, so on average `share` of each batch are samples, each copy
    moved and turned differently."""
    copies = round(share / (1 - share) * len(train_images)) if share else 0
    repeated = np.resize(np.arange(len(sample_images)), max(copies, len(sample_images)))
    return (np.concatenate([train_images, sample_images[repeated]]),
            np.concatenate([train_labels, sample_labels[repeated]]))
