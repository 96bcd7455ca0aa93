"""train.py from the command line: its output, its defaults and its error paths."""

import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import ROOT

TRAIN = str(ROOT / "train.py")


def run_train(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, TRAIN, *args], capture_output=True, text=True, env=env, **kwargs)


def test_trains_on_a_subset_of_real_mnist_and_prints_the_original_lines(mnist_dir):
    result = run_train("--limit", "5000", "--epochs", "3", "--data-dir", str(mnist_dir))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in [
        r"output vector of first image: \[.*\]",
        r"classification of first image: \d with confidence [01]\.\d\d; real label 7",
        r"correctly recognized images after initialization: \d+\.\d\d%",
        r"cost after training round 1: \d+\.\d+  train \d+\.\d\d%  test \d+\.\d\d%  \(\d+\.\d\d s\)",
        r"cost after training round 2: ",
        r"classification of first image: 7 with confidence [01]\.\d\d; real label 7",
    ]:
        assert re.search(line, out), f"missing {line!r} in:\n{out}"
    accuracy = float(re.search(r"correctly recognized images after training: (\d+\.\d\d)%", out).group(1))
    assert accuracy > 90


def test_validation_is_reported_and_quiet_prints_only_the_result(mnist_dir):
    result = run_train("--limit", "2000", "--validation", "1000", "--epochs", "1", "--hidden", "32", "--quiet",
                       "--data-dir", str(mnist_dir))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"correctly recognized images after training: \d+\.\d\d%\n", result.stdout)
    result = run_train("--limit", "2000", "--validation", "1000", "--epochs", "1", "--hidden", "32",
                       "--data-dir", str(mnist_dir))
    assert re.search(r"train \d+\.\d\d%  validation \d+\.\d\d%  test", result.stdout)


def test_a_diverging_run_stops_with_advice(mnist_dir):
    result = run_train("--limit", "1000", "--hidden", "32", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3",
                       "--data-dir", str(mnist_dir))
    assert result.returncode == 1
    assert "diverged" in result.stderr and "smaller learning rate" in result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert "round 2" not in result.stdout


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--hidden", "-3"], "--hidden"),
        (["--hidden", "0"], "--hidden"),
        (["--lr", "0"], "--lr"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--activation", "swish"], "--activation"),
        (["--epochs", "-1"], "--epochs"),
        (["--batch-size", "ten"], "--batch-size"),
        (["--lr-schedule", "sometimes"], "--lr-schedule"),
    ],
)
def test_nonsense_flags_exit_2_with_a_message(args, complaint):
    result = run_train(*args)
    assert result.returncode == 2
    assert complaint in result.stderr and "Traceback" not in result.stderr


def test_limit_beyond_the_data_exits_2(mnist_dir):
    result = run_train("--limit", "60001", "--data-dir", str(mnist_dir))
    assert result.returncode == 2
    assert "--limit 60001" in result.stderr


def test_missing_data_gives_one_line_and_exit_1(tmp_path):
    result = run_train("--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and str(tmp_path) in result.stderr and "download-mnist.sh" in result.stderr


def test_corrupt_data_gives_one_line_and_exit_1(tmp_path, mnist_dir):
    for name in os.listdir(mnist_dir):
        if name.endswith(".gz"):
            (tmp_path / name).symlink_to(mnist_dir / name)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()[:-100])
    result = run_train("--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "t10k-labels-idx1-ubyte.gz" in result.stderr


def test_ctrl_c_keeps_the_last_complete_round(mnist_dir):
    process = subprocess.Popen([sys.executable, "-u", TRAIN, "--limit", "3000", "--hidden", "64", "--epochs", "1000",
                                "--data-dir", str(mnist_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("cost after training round 2:"):
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate()
    assert process.returncode == 130
    assert "Traceback" not in err
    assert re.search(r"interrupted in round \d+; keeping the weights after round \d+", out)
    assert "correctly recognized images after training:" in out


def parse(*argv):
    import train

    return train.parse_args(train.build_parser(), list(argv))


def test_a_recipe_supplies_its_flags_and_explicit_flags_override_them():
    args = parse("--recipe", "mlp")
    assert (args.hidden, args.optimizer, args.lr, args.batch_size, args.epochs) == ([512], "adam", 0.002, 256, 20)
    args = parse("--recipe", "mlp", "--epochs", "3", "--hidden", "--lr=0.01")
    assert (args.hidden, args.lr, args.epochs, args.batch_size) == ([], 0.01, 3, 256)
    assert args.flags.startswith("--recipe mlp --hidden --activation relu --optimizer adam --lr 0.01 ")
    assert args.flags.count("--epochs") == 1 and "--epochs 3" in args.flags


def test_the_default_recipe_is_mlp_and_help_lists_every_recipe():
    import train

    assert vars(parse()) == vars(parse("--recipe", "mlp"))
    result = run_train("--help")
    for name, flags in train.RECIPES.items():
        assert re.search(rf"^  {re.escape(name)} +{re.escape(flags)}$", result.stdout, re.MULTILINE), name


def test_a_loaded_network_is_only_evaluated_unless_epochs_are_asked_for():
    assert parse("--load", "m.npz").epochs == 0
    assert parse("--load", "m.npz", "--epochs", "4").epochs == 4
    assert parse("--load", "m.npz", "--epochs=4").epochs == 4
