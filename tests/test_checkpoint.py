"""Checkpoints: a run stopped (Ctrl-C, SIGKILL, even inside a checkpoint write) and resumed ends with
exactly the network the uninterrupted run ends with."""

import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import PAUSED, ROOT, train_paused_in_write
from support import checkpoint, model

TRAIN = str(ROOT / "train.py")
# A fully connected network's numbers may depend on its threads, which train.py chooses from the
# load when not told: runs that must agree are told.
MLP = ["--limit", "2000", "--hidden", "32", "--epochs", "4", "--threads", "2"]
# Dropout, rotations, zooms and elastic distortions: every random generator of a run takes part; and
# the moving average of the weights, which the saved network holds.
CNN = ["--limit", "600", "--conv", "4", "--hidden", "16", "--dropout", "0.3", "--rotate", "10", "--zoom", "0.1",
       "--elastic", "8", "3", "--ema", "0.9", "--label-smoothing", "0.1", "--batch-size", "64", "--epochs", "3"]


def start(args, mnist_dir):
    return subprocess.Popen([sys.executable, TRAIN, "--data-dir", str(mnist_dir), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(args, mnist_dir):
    result = subprocess.run([sys.executable, TRAIN, "--data-dir", str(mnist_dir), *args], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    return result


def stop_after_round(process, round_number, how):
    for line in process.stdout:
        if line.startswith(f"cost after training round {round_number}:"):
            process.send_signal(how)
            break
    return process.communicate()


def assert_same_network(first, second):
    a, b = model.load(first)[0], model.load(second)[0]
    assert model.describe(a) == model.describe(b)
    for x, y in zip(a.parameters() + a.statistics(), b.parameters() + b.statistics()):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("flags", [MLP, CNN], ids=["mlp", "cnn"])
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_a_stopped_and_resumed_run_ends_with_the_uninterrupted_network(tmp_path, mnist_dir, flags, how):
    finish([*flags, "--save", str(tmp_path / "whole.npz"), "--quiet"], mnist_dir)
    saved = tmp_path / "resumed.npz"
    process = start([*flags, "--checkpoint", str(tmp_path / "run.npz"), "--save", str(saved)], mnist_dir)
    out, _ = stop_after_round(process, 1, how)
    assert process.returncode == (130 if how == signal.SIGINT else -signal.SIGKILL)
    if how == signal.SIGINT:
        assert f"to go on: ./train.py --resume {tmp_path / 'run.npz'}\n" in out
    result = finish(["--resume", str(tmp_path / "run.npz")], mnist_dir)
    assert "1 of" in result.stdout and "cost after training round 2:" in result.stdout
    assert "cost after training round 1:" not in result.stdout
    assert_same_network(tmp_path / "whole.npz", saved)
    assert checkpoint.load(tmp_path / "run.npz").state["rounds"] == int(flags[flags.index("--epochs") + 1])


@pytest.mark.parametrize("flags", [CNN, [*CNN, "--batch-norm"]], ids=["cnn", "batch-norm"])
def test_a_cnn_resumed_on_one_thread_ends_as_the_uninterrupted_run_on_two(tmp_path, mnist_dir, flags):
    """A convolutional network's numbers do not depend on the threads (parallel.py): --threads may
    change on --resume, say on a machine that has become busy. With batch normalisation, its running
    statistics too."""
    finish([*flags, "--threads", "2", "--save", str(tmp_path / "whole.npz"), "--quiet"], mnist_dir)
    process = start([*flags, "--threads", "2", "--checkpoint", str(tmp_path / "run.npz"), "--save",
                     str(tmp_path / "resumed.npz")], mnist_dir)
    stop_after_round(process, 1, signal.SIGKILL)
    finish(["--resume", str(tmp_path / "run.npz"), "--threads", "1", "--quiet"], mnist_dir)
    assert_same_network(tmp_path / "whole.npz", tmp_path / "resumed.npz")
    if "--batch-norm" in flags:
        assert len(model.load(tmp_path / "resumed.npz")[0].statistics()) == 4  # after the conv and the dense layer


def test_a_run_resumes_on_its_own_thread_count(tmp_path, mnist_dir):
    """A fully connected network's numbers may depend on the threads BLAS shares its products among:
    a resumed run goes on with the count it started with, which its flags line shows."""
    finish([*MLP, "--threads", "2", "--save", str(tmp_path / "whole.npz"), "--quiet"], mnist_dir)
    process = start([*MLP, "--threads", "2", "--checkpoint", str(tmp_path / "run.npz"), "--save",
                     str(tmp_path / "resumed.npz")], mnist_dir)
    stop_after_round(process, 1, signal.SIGKILL)
    result = finish(["--resume", str(tmp_path / "run.npz")], mnist_dir)
    assert result.stdout.startswith("flags: ") and " --threads 2\n" in result.stdout.splitlines(keepends=True)[0]
    assert_same_network(tmp_path / "whole.npz", tmp_path / "resumed.npz")


def test_resuming_several_times_still_ends_with_the_same_network(tmp_path, mnist_dir):
    finish([*MLP, "--save", str(tmp_path / "whole.npz"), "--quiet"], mnist_dir)
    run = tmp_path / "run.npz"
    process = start([*MLP, "--checkpoint", str(run), "--save", str(tmp_path / "resumed.npz")], mnist_dir)
    stop_after_round(process, 1, signal.SIGKILL)
    for round_number in (2, 3):
        process = start(["--resume", str(run)], mnist_dir)
        stop_after_round(process, round_number, signal.SIGKILL)
    finish(["--resume", str(run), "--quiet"], mnist_dir)
    assert_same_network(tmp_path / "whole.npz", tmp_path / "resumed.npz")


def test_a_kill_inside_a_checkpoint_write_leaves_the_previous_checkpoint(tmp_path, mnist_dir):
    run = tmp_path / "run.npz"
    finish([*MLP, "--save", str(tmp_path / "whole.npz"), "--quiet"], mnist_dir)
    process = train_paused_in_write(run, 2, ["--data-dir", mnist_dir, *MLP, "--checkpoint", run, "--save",
                                             tmp_path / "resumed.npz"])
    for line in process.stderr:
        if PAUSED in line:
            break
    temporary = [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]
    assert temporary and temporary[0].stat().st_size > 0  # round 2's content, written but not yet in place
    process.kill()
    process.communicate()
    assert checkpoint.load(run).state["rounds"] == 1  # round 1's checkpoint, whole
    finish(["--resume", str(run), "--quiet"], mnist_dir)
    assert_same_network(tmp_path / "whole.npz", tmp_path / "resumed.npz")


def test_a_finished_checkpoint_resumes_to_an_evaluation_only(tmp_path, mnist_dir):
    first = finish([*MLP, "--checkpoint", str(tmp_path / "run.npz"), "--quiet"], mnist_dir)
    again = finish(["--resume", str(tmp_path / "run.npz")], mnist_dir)
    assert "cost after training round" not in again.stdout and "4 of 4 rounds done" in again.stdout
    assert first.stdout.splitlines()[-1] in again.stdout


@pytest.mark.parametrize("make, complaint", [
    (lambda path: model.save(model.build([8]), path), "a model file, not a checkpoint"),
    (lambda path: path.write_bytes(b"PK\x03\x04 broken"), "not a model file"),
])
def test_what_cannot_be_resumed_gets_one_line(tmp_path, make, complaint):
    path = tmp_path / "file.npz"
    make(path)
    result = subprocess.run([sys.executable, TRAIN, "--resume", str(path)], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert str(path) in result.stderr and complaint in result.stderr


def test_a_checkpoint_of_another_version_gets_one_line(tmp_path, mnist_dir):
    run = tmp_path / "run.npz"
    finish([*MLP, "--epochs", "1", "--checkpoint", str(run), "--quiet"], mnist_dir)
    saved = checkpoint.load(run)
    saved.state["version"] = 99
    model.save(saved.network, run, {"checkpoint": saved.state}, {k: v for k, v in saved.arrays.items()
                                                                 if not k.startswith(("weights", "bias", "header"))})
    result = subprocess.run([sys.executable, TRAIN, "--resume", str(run)], capture_output=True, text=True)
    assert result.returncode == 1 and "checkpoint version 99" in result.stderr and result.stderr.count("\n") == 1


def test_resume_takes_no_other_flags(tmp_path):
    result = subprocess.run([sys.executable, TRAIN, "--resume", str(tmp_path / "run.npz"), "--epochs", "9"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--epochs cannot change them" in result.stderr
