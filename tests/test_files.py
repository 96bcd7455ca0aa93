"""files.write_atomically: all or nothing, durable, and errors that name the file asked for.

The tests run as root, for whom a read-only folder is writable; failures are made instead with a
path whose parent is a file, or by making os.replace, os.fsync or os.unlink fail.
"""

import errno
import os
import stat

import pytest

from support import files, plots


def write_text(text):
    return lambda file: file.write(text.encode())


def fail_with(error):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.fixture
def old_file(tmp_path):
    """A folder holding one file, old.txt, whose content must survive any failed write."""
    path = tmp_path / "old.txt"
    path.write_text("old content")
    return path


def test_writes_the_content_and_leaves_nothing_else(tmp_path):
    files.write_atomically(tmp_path / "new.txt", write_text("new content"))
    assert os.listdir(tmp_path) == ["new.txt"]
    assert (tmp_path / "new.txt").read_text() == "new content"


def test_replaces_an_existing_file(old_file):
    files.write_atomically(old_file, write_text("new"))
    assert old_file.read_text() == "new"
    assert os.listdir(old_file.parent) == ["old.txt"]


def test_the_data_and_then_the_rename_are_made_durable(tmp_path, monkeypatch):
    """fsync the file before renaming it, and the folder after, so that a crash keeps the new file."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "fsync file")
        real_fsync(descriptor)

    def replace(source, target):
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    files.write_atomically(tmp_path / "new.txt", write_text("content"))
    assert events == ["fsync file", "replace", "fsync folder"]


def test_a_parent_that_is_a_file_names_the_path_given(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    target = not_a_folder / "model.npz"
    with pytest.raises(NotADirectoryError) as caught:
        files.write_atomically(target, write_text("x"))
    assert caught.value.filename == str(target)
    assert caught.value.filename2 is None
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(old_file, monkeypatch, broken):
    """As on a read-only or full file system: the error names the path given, the old file is intact."""
    monkeypatch.setattr(os, broken, fail_with(OSError(errno.EROFS, "Read-only file system", "/elsewhere/.tmp")))
    with pytest.raises(OSError) as caught:
        files.write_atomically(old_file, write_text("new"))
    assert (caught.value.errno, caught.value.filename) == (errno.EROFS, str(old_file))
    assert str(caught.value) == f"[Errno {errno.EROFS}] Read-only file system: '{old_file}'"
    assert old_file.read_text() == "old content"
    assert os.listdir(old_file.parent) == ["old.txt"]


def test_ctrl_c_while_writing_removes_the_temporary_file(old_file):
    def interrupted(file):
        file.write(b"half of it")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(old_file, interrupted)
    assert old_file.read_text() == "old content"
    assert os.listdir(old_file.parent) == ["old.txt"]


def test_other_errors_from_the_writer_pass_through_unchanged(old_file):
    with pytest.raises(ValueError, match="^bad value$"):
        files.write_atomically(old_file, fail_with(ValueError("bad value")))
    assert os.listdir(old_file.parent) == ["old.txt"]


def test_a_failing_cleanup_does_not_hide_the_first_error(old_file, monkeypatch):
    monkeypatch.setattr(os, "replace", fail_with(OSError(errno.EROFS, "Read-only file system")))
    monkeypatch.setattr(os, "unlink", fail_with(OSError(errno.EACCES, "Permission denied")))
    with pytest.raises(OSError) as caught:
        files.write_atomically(old_file, write_text("new"))
    assert (caught.value.errno, caught.value.filename) == (errno.EROFS, str(old_file))
    assert old_file.read_text() == "old content"


def test_plots_save_names_the_path_given(tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "picture.png"
    with pytest.raises(NotADirectoryError) as caught:
        plots.save(plots.new_figure(target), target)
    assert caught.value.filename == str(target)


@pytest.mark.parametrize("name, start", [("picture.png", b"\x89PNG\r\n\x1a\n"), ("picture.JPG", b"\xff\xd8\xff")])
def test_plots_save_writes_the_format_the_name_says(tmp_path, name, start):
    plots.save(plots.new_figure(tmp_path / name), tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(start)
    assert os.listdir(tmp_path) == [name]
