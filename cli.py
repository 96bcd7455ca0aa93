"""Small pieces the command-line scripts share: argument types and turning errors into one line."""

import argparse


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
