"""Write files atomically and durably: whoever reads the file sees the old content or the complete
new content, never half of it, and once a write has returned, a crash or power cut cannot undo it.

The content goes to a temporary file in the same folder (a rename is atomic only within one file
system), is flushed and fsynced, then renamed over the target; fsyncing the folder makes the
rename itself durable.
"""

import os
from pathlib import Path


def write_atomically(path, write):
    """Create or replace the file `path` with what `write(file)` writes to the binary file object
    it is given.

    On any failure, Ctrl-C included, the temporary file is removed and `path` is left as it was.
    Raises OSError naming `path`, not the temporary file, when the file cannot be written; other
    exceptions from `write` pass through unchanged.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            with open(temporary, "wb") as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            _remove_quietly(temporary)
            raise
        _sync_folder(path.parent)
    except OSError as error:
        raise OSError(error.errno, error.strerror or str(error), str(path)) from None


def _remove_quietly(path):
    """Remove `path` if it is there. A failure here must not hide the error that brought us here."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_folder(folder):
    """fsync a folder, so that a rename in it survives a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
