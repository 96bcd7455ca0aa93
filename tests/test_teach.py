"""train.py --samples: teaching a network your own hand. On real MNIST, that a small network taught
flagged 1s (tests/forms.py) reads new ones right and keeps its MNIST accuracy, and what its file
records; on the small fake MNIST files, how a samples folder is read, mixed and refused, and that a
seed gives the same bits and the flags line repeats the run."""

import numpy as np
import PIL.Image
import pytest
from forms import render, write_forms
from test_predict import trained_model  # noqa: F401  (a fixture: a small network trained on real MNIST)

import nn
import train
from support import mnist, model, samples

TAUGHT, NEW = 1, 2  # the seeds of the samples taught and of the new pictures measured


def read_right(path, folder):
    """The share of the pictures in the samples folder `folder` that the model in `path` reads right."""
    images, labels, _ = samples.read(folder)
    return np.mean(model.load(path)[0].predict(mnist.as_inputs(images)) == labels)


def test_teaching_flagged_ones_makes_new_ones_read_right_and_keeps_mnist(trained_model, mnist_dir, tmp_path,  # noqa: F811
                                                                         capsys):
    write_forms(tmp_path / "my-digits", 10, TAUGHT, forms=["flagged-1"])
    write_forms(tmp_path / "new", 30, NEW, forms=["flagged-1"])
    taught = tmp_path / "taught.npz"
    train.main(["--data-dir", str(mnist_dir), "--load", str(trained_model), "--samples", str(tmp_path / "my-digits"),
                "--save", str(taught), "--threads", "1"])
    assert read_right(trained_model, tmp_path / "new") < 0.2 < 0.45 < read_right(taught, tmp_path / "new")
    test_images, test_labels = mnist.load_split("test", mnist_dir)
    before, after = (nn.accuracy(model.load(path)[0], mnist.as_inputs(test_images), test_labels)
                     for path in (trained_model, taught))
    assert after >= before - 0.003
    metadata = model.load(taught)[1]
    assert metadata["samples"] == {"folder": str(tmp_path / "my-digits"), "counts": {"1": 10},
                                   "sample_share": 0.2, "mnist_share": pytest.approx(1 - 0.2 * 0.1, abs=0.01)}
    flags_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("flags:"))
    assert f"--samples {tmp_path / 'my-digits'}" in flags_line and "--epochs 3" in flags_line


def little_model(tmp_path):
    path = tmp_path / "little.npz"
    model.save(nn.mlp([784, 6, 10], rng=np.random.default_rng(0)), path)
    return path


def teach(fake_mnist, tmp_path, folder, *flags):
    """train.main teaching a little network the samples in `folder`, on the fake MNIST files."""
    train.main(["--data-dir", str(fake_mnist), "--load", str(little_model(tmp_path)), "--samples", str(folder),
                "--limit", "12", "--batch-size", "4", "--quiet", *flags])


def refusal(capsys, run):
    """The one line and exit status with which `run()` ends the program."""
    with pytest.raises(SystemExit) as exit:
        run()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ": error: --samples " in err
    return err, exit.value.code


def a_sample(path, seed=0, form="closed-4"):
    """Write a picture of a digit of `form` (forms.FORMS) to `path`, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(render(form, np.random.default_rng(seed))).save(path)


@pytest.mark.parametrize("make, said", [
    (lambda folder: None, "no such folder"),
    (lambda folder: folder.mkdir(), "empty"),
    (lambda folder: (folder / "7").mkdir(parents=True), "no pictures in its label folders"),
    (lambda folder: (folder / "seven").mkdir(parents=True), "seven: a samples folder holds only folders"),
    (lambda folder: (folder / "7").mkdir(parents=True) or (folder / "10").mkdir(), "10: a samples folder holds only"),
    (lambda folder: a_sample(folder / "7.png"), "7.png: a samples folder holds only folders named by label"),
])
def test_a_folder_that_cannot_be_used_is_one_line_and_exit_2(fake_mnist, tmp_path, capsys, make, said):
    folder = tmp_path / "my-digits"
    make(folder)
    err, status = refusal(capsys, lambda: teach(fake_mnist, tmp_path, folder))
    assert said in err and status == 2


def test_a_picture_that_cannot_be_read_is_named_and_skipped(fake_mnist, tmp_path, capsys):
    folder = tmp_path / "my-digits"
    a_sample(folder / "4" / "good.png")
    (folder / "4" / "notes.txt").write_text("not a picture")
    (folder / "7").mkdir()
    PIL.Image.new("L", (50, 50), 255).save(folder / "7" / "blank.png")
    teach(fake_mnist, tmp_path, folder, "--save", str(tmp_path / "taught.npz"))
    err = [line.split(": ", 1)[1] for line in capsys.readouterr().err.splitlines()]  # after the program's name
    assert err == [f"skipping {folder / '4' / 'notes.txt'}: not a picture that can be read (PNG, JPEG, ...), "
                   "or a damaged one",
                   f"skipping {folder / '7' / 'blank.png'}: no ink found: the picture is blank, or all one colour"]
    assert model.load(tmp_path / "taught.npz")[1]["samples"]["counts"] == {"4": 1}


def test_a_folder_with_no_readable_picture_is_one_line_naming_one_and_exit_2(fake_mnist, tmp_path, capsys):
    (tmp_path / "my-digits" / "3").mkdir(parents=True)
    (tmp_path / "my-digits" / "3" / "a.txt").write_text("not a picture")
    err, status = refusal(capsys, lambda: teach(fake_mnist, tmp_path, tmp_path / "my-digits"))
    assert "none of its 1 files could be read as a picture" in err and "3/a.txt: not a picture" in err
    assert status == 2


def test_samples_replace_a_share_of_their_labels_images_each_distorted(fake_mnist, tmp_path):
    folder = tmp_path / "my-digits"
    a_sample(folder / "1" / "a.png")
    flags = train.new_flags(train.build_parser(), {"data_dir": str(fake_mnist), "samples": str(folder),
                                                   "sample_share": 0.5})
    data = train.load_data(flags)
    # Without --load, a new network learns from the whole training set and the samples: 12 fake
    # images, two of them 1s, of which half (one) is replaced by a copy of the sample.
    assert len(data.train_images) == 12 and np.bincount(data.train_labels).tolist() == [2, 2] + [1] * 8
    sample = samples.read(folder)[0][0]
    assert not np.array_equal(data.train_images[-1], sample)  # turned, scaled and moved
    assert np.abs(data.train_images[-1].astype(int) - sample).mean() < 40
    assert data.samples == {"folder": str(folder), "counts": {"1": 1}, "sample_share": 0.5, "mnist_share": 0.9167}


def test_the_same_seed_gives_the_same_bits_and_the_flags_line_repeats_the_run(fake_mnist, tmp_path, capsys):
    folder = tmp_path / "my-digits"
    a_sample(folder / "4" / "a.png")
    a_sample(folder / "7" / "b.png", seed=1, form="barred-7")
    base = ["--data-dir", str(fake_mnist), "--load", str(little_model(tmp_path)), "--samples", str(folder),
            "--limit", "12", "--batch-size", "4", "--threads", "1"]
    train.main([*base, "--save", str(tmp_path / "first.npz")])
    flags_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("flags: "))
    train.main([*base, "--save", str(tmp_path / "second.npz"), "--quiet"])
    train.main([*flags_line.removeprefix("flags: ").split(), "--data-dir", str(fake_mnist), "--save",
                str(tmp_path / "repeated.npz"), "--quiet"])
    first, second, repeated = (model.load(tmp_path / name)[0] for name in ("first.npz", "second.npz", "repeated.npz"))
    assert all(np.array_equal(a, b) and np.array_equal(a, c)
               for a, b, c in zip(first.parameters(), second.parameters(), repeated.parameters()))
    assert not np.array_equal(first.parameters()[0], model.load(little_model(tmp_path))[0].parameters()[0])


def test_samples_with_a_checkpoint_or_a_share_without_samples_is_one_line_and_exit_2(fake_mnist, tmp_path, capsys):
    folder = tmp_path / "my-digits"
    a_sample(folder / "4" / "a.png")
    err, status = refusal(capsys, lambda: teach(fake_mnist, tmp_path, folder, "--checkpoint", str(tmp_path / "c.npz")))
    assert "--samples cannot be used with --checkpoint" in err and status == 2
    with pytest.raises(SystemExit) as exit:
        train.main(["--data-dir", str(fake_mnist), "--sample-share", "0.3"])
    assert exit.value.code == 2 and "give --samples DIR" in capsys.readouterr().err
