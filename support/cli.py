"""Small pieces the command-line scripts share: argument types and turning errors into one line."""

import argparse
import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path

from support import mnist


def _number(convert, accept, requirement):
    """An argparse type: `convert` the text, then refuse values for which `accept` is false."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {requirement}")
        return value

    return parse


positive_int = _number(int, lambda n: n > 0, "a whole number above 0")
non_negative_int = _number(int, lambda n: n >= 0, "a whole number, 0 or more")
positive_float = _number(float, lambda x: 0 < x < float("inf"), "a number above 0")
non_negative_float = _number(float, lambda x: 0 <= x < float("inf"), "a number, 0 or more")
probability = _number(float, lambda x: 0 <= x < 1, "a number from 0 up to (not including) 1")


def fail(message, status=1):
    """End the program with one line on stderr, "PROGRAM: error: MESSAGE", as argparse does."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(status)


def fail_to_write(error):
    """End the program with one line for `error`, an OSError from writing a file (files.py names the
    file it was asked to write, not its temporary one)."""
    fail(f"{error.filename}: cannot write ({error.strerror})")


def warn(message):
    """One line on stderr, "PROGRAM: MESSAGE", about something the program goes on without."""
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr)


def unwritable(path, folder=False):
    """Why a file (or, with folder=True, a folder made if missing) could not be written at `path`;
    None when it can. Tried for real, with a temporary file: permissions alone do not tell (root,
    read-only file systems)."""
    path = Path(path)
    if path.is_dir() != folder and path.exists():
        return "is a folder, not a file" if not folder else "is a file, not a folder"
    target = path if folder else path.parent
    existing = next(parent for parent in [target, *target.parents] if parent.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not folder and existing != target:
        return f"no such folder: {target}"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror})"
    return None


def model_dataset(parser, chosen, path, trained_on):
    """The dataset to use with the model in `path`, trained on `trained_on` (names in mnist.DATASETS):
    that one. `chosen`, the --dataset given (None when not given), must not contradict it, or argparse's
    error ends the program: the network's outputs are its own dataset's classes, and under another's
    names every answer would be wrong."""
    if chosen is not None and chosen != trained_on:
        parser.error(f"--dataset {chosen}: {path} was trained on {mnist.DATASETS[trained_on].title}, so its answers "
                     f"are {mnist.DATASETS[trained_on].title}'s classes (leave out --dataset to follow the model)")
    return trained_on


@contextlib.contextmanager
def ctrl_c_deferred():
    """Within the block, Ctrl-C waits: a KeyboardInterrupt comes when the block has run to its end,
    so that what it writes is written whole. Only in the main thread, where Python handles signals."""
    caught = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
