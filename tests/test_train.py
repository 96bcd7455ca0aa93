"""train.py from the command line: its output, its defaults and its error paths."""

import dataclasses
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import PAUSED, ROOT, train_paused_in_write
from support import model

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


def test_a_small_cnn_learns_from_a_few_thousand_real_images(tmp_path, mnist_dir):
    result = run_train("--recipe", "mlp", "--conv", "8", "16", "--hidden", "32", "--limit", "3000", "--epochs", "2",
                       "--batch-size", "64",
                       "--data-dir", str(mnist_dir), "--save", str(tmp_path / "cnn.npz"), "--plot-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    network = "conv 8 3x3 relu, maxpool 2x2, conv 16 3x3 relu, maxpool 2x2, flatten, dense 400-32 relu"
    assert f"network: {network}" in result.stdout
    accuracy = float(re.search(r"correctly recognized images after training: (\d+\.\d\d)%", result.stdout).group(1))
    assert accuracy > 80  # chance is 10%
    assert model.describe(model.load(tmp_path / "cnn.npz")[0]).startswith("conv 8 3x3")
    assert (tmp_path / "weights.png").exists()


def test_validation_is_reported_and_quiet_prints_only_the_result(mnist_dir):
    result = run_train("--limit", "2000", "--validation", "1000", "--epochs", "1", "--hidden", "32", "--quiet",
                       "--data-dir", str(mnist_dir))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"correctly recognized images after training: \d+\.\d\d%\n", result.stdout)
    result = run_train("--limit", "2000", "--validation", "1000", "--epochs", "1", "--hidden", "32",
                       "--data-dir", str(mnist_dir))
    assert re.search(r"train \d+\.\d\d%  validation \d+\.\d\d%  test", result.stdout)


@pytest.mark.parametrize("recipe", ["mlp", "quick"])  # quick: a CNN, whose batches are learned on two threads
def test_a_diverging_run_stops_with_advice(mnist_dir, recipe):
    result = run_train("--recipe", recipe, "--limit", "1000", "--hidden", "32", "--optimizer", "sgd", "--lr", "1e30",
                       "--epochs", "3", "--threads", "2", "--data-dir", str(mnist_dir))
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
        (["--seed", "-1"], "--seed"),
        (["--dropout", "1"], "--dropout"),
        (["--conv", "0"], "--conv"),
        (["--recipe", "fastest"], "--recipe"),
        (["--threads", "0"], "--threads"),
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
    assert result.stderr.startswith("train.py: error: ")


def test_corrupt_data_gives_one_line_and_exit_1(tmp_path, mnist_dir):
    for name in os.listdir(mnist_dir):
        if name.endswith(".gz"):
            (tmp_path / name).symlink_to(mnist_dir / name)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()[:-100])
    result = run_train("--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "t10k-labels-idx1-ubyte.gz" in result.stderr


def test_ctrl_c_keeps_the_last_complete_round_and_saves_it(tmp_path, mnist_dir):
    saved = tmp_path / "model.npz"
    # No -u: each round's line must arrive while training goes on, although stdout is a pipe.
    process = subprocess.Popen([sys.executable, TRAIN, "--limit", "3000", "--hidden", "64", "--epochs", "1000",
                                "--data-dir", str(mnist_dir), "--save", str(saved)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("cost after training round 2:"):
            assert process.poll() is None
            round_2 = float(re.search(r"test (\d+\.\d\d)%", line).group(1))
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate()
    assert process.returncode == 130
    assert "Traceback" not in err
    kept = int(re.search(r"interrupted in round \d+; keeping the weights after round (\d+)", out).group(1))
    accuracy = float(re.search(r"correctly recognized images after training: (\d+\.\d\d)%", out).group(1))
    assert f"saved the network to {saved} (the weights after round {kept} of 1000)" in out
    network, metadata = model.load(saved)
    assert metadata["rounds"] == kept >= 2 and metadata["test_accuracy"] == pytest.approx(accuracy / 100, abs=5e-5)
    if kept == 2:  # the Ctrl-C came before round 3 was complete: the weights are those that scored round_2
        assert accuracy == round_2


def test_ctrl_c_in_the_first_round_leaves_a_good_model_file_alone(tmp_path, mnist_dir):
    saved = tmp_path / "model.npz"
    saved.write_bytes(b"a good model")
    process = subprocess.Popen([sys.executable, TRAIN, "--data-dir", str(mnist_dir), "--save", str(saved)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("correctly recognized images after initialization"):
            time.sleep(0.5)  # into the first round, most likely (a round takes seconds)
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate()
    assert process.returncode == 130 and "Traceback" not in err, out + err
    if "interrupted in round 1" in out:  # else the Ctrl-C came before training began: "train.py: interrupted"
        assert f"no training round was completed: nothing saved ({saved} is unchanged)" in out
    assert saved.read_bytes() == b"a good model"


def test_quiet_prints_only_the_accuracy_even_when_saving_and_drawing(tmp_path, mnist_dir):
    result = run_train("--limit", "1000", "--hidden", "8", "--epochs", "1", "--quiet", "--data-dir", str(mnist_dir),
                       "--save", str(tmp_path / "m.npz"), "--plot-dir", str(tmp_path / "plots"))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"correctly recognized images after training: \d+\.\d\d%\n", result.stdout)
    assert (tmp_path / "m.npz").exists() and (tmp_path / "plots" / "training.png").exists()


@pytest.mark.parametrize("flag, target, complaint", [
    ("--save", "missing/m.npz", "no such folder"),
    ("--save", ".", "is a folder, not a file"),
    ("--checkpoint", "missing/run.npz", "no such folder"),
    ("--plot-dir", "file.txt", "is a file, not a folder"),
    ("--plot-dir", "file.txt/plots", "file.txt is a file, not a folder"),
])
def test_unwritable_outputs_are_refused_before_training(tmp_path, flag, target, complaint):
    (tmp_path / "file.txt").write_text("x")
    result = run_train(flag, str(tmp_path / target), "--data-dir", str(tmp_path / "no-data-needed"))
    assert result.returncode == 2 and complaint in result.stderr and flag in result.stderr
    assert result.stderr.splitlines()[-1].startswith("train.py: error: ")


def test_a_network_too_large_for_memory_is_refused_in_one_line(mnist_dir):
    result = run_train("--hidden", "10000000", "--data-dir", str(mnist_dir))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert re.fullmatch(r"train\.py: error: not enough memory to build this network \(.*GiB.*\): .*\n", result.stderr)


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """Flags made in this process choose their threads as on an idle machine: what other programs
    happen to be doing must not make two runs' flags differ (tests that care patch it themselves)."""
    from support import parallel

    monkeypatch.setattr(parallel, "busy_cores", lambda: 0)


def parse(*argv, trained_on="mnist"):
    """The Flags of a new run that the command line argv describes (with --load, of a small fully
    connected network trained on `trained_on`)."""
    import nn
    import train

    parser = train.build_parser()
    loaded = (nn.mlp([784, 10]), {"dataset": trained_on}) if "--load" in argv else None
    return train.new_flags(parser, train.given_flags(parser, list(argv)), loaded)


def command(*argv):
    import train

    return train.command_line(parse(*argv))


def test_a_recipe_supplies_its_flags_and_explicit_flags_override_them():
    flags = parse("--recipe", "mlp")
    assert (flags.hidden, flags.optimizer, flags.lr, flags.batch_size, flags.epochs) == ((512,), "adam", 0.002, 256, 20)
    flags = parse("--recipe", "mlp", "--epochs", "3", "--hidden", "--lr=0.01")
    assert (flags.hidden, flags.lr, flags.epochs, flags.batch_size) == ((), 0.01, 3, 256)
    line = command("--recipe", "mlp", "--epochs", "3", "--hidden", "--lr=0.01", "--threads", "2")
    assert line.startswith("--recipe mlp --hidden --activation relu --optimizer adam --lr-schedule cosine ")
    assert line.count("--lr ") == 1 and line.endswith("--lr 0.01 --threads 2")
    assert line.count("--epochs") == 1 and "--epochs 3" in line


def test_the_flags_line_repeats_the_run_it_describes():
    import train

    for argv in [(), ("--recipe", "cnn", "--epochs", "5"), ("--hidden", "--quiet", "--rotate", "2.5", "--seed", "7"),
                 ("--optimizer", "sgd"), ("--recipe", "fast", "--betas", "0.5", "0.6"),
                 ("--recipe", "fast", "--loss", "mse"),
                 ("--recipe", "original-128", "--lr", "1e-30", "--data-dir", "a folder/with spaces"),
                 ("--recipe", "cnn", "--elastic", "8", "3.5", "--ema", "0.999", "--label-smoothing", "0.1"),
                 ("--stroke", "0.5", "--slant", "0.25", "--blur", "1.2", "--continental", "0.2")]:
        flags = parse(*argv)
        assert parse(*shlex.split(train.command_line(flags))) == flags, argv


def test_without_threads_the_count_chosen_at_the_start_is_in_the_flags_line(monkeypatch):
    from support import parallel

    monkeypatch.setattr(parallel, "choose_threads", lambda convolutional: 4 if convolutional else 3)
    assert parse("--recipe", "mlp").threads == 3 and command("--recipe", "mlp").endswith(" --threads 3")
    assert parse().threads == 4 and command().endswith(" --threads 4")
    assert parse("--recipe", "cnn").threads == 4 and parse("--conv", "8", "--recipe", "mlp").threads == 4
    assert parse("--threads", "1").threads == 1 and command("--threads", "1").endswith(" --threads 1")


def test_without_lr_each_optimizer_trains_at_its_own_rate():
    import train

    for optimizer, rate in train.DEFAULT_LEARNING_RATES.items():
        for recipe in ("mlp", "cnn", "quick"):
            flags = parse("--recipe", recipe, "--optimizer", optimizer)
            if optimizer != "adam" or recipe != "quick":  # quick's is its own rate for Adam
                assert flags.lr == rate and f" --lr {rate:g} --threads " in train.command_line(flags)
    assert parse("--optimizer", "sgd", "--lr", "0.5").lr == 0.5
    assert parse("--recipe", "quick").lr == 0.01 and parse("--recipe", "quick", "--optimizer", "sgd").lr == 0.1
    assert parse("--optimizer", "momentum").betas == (0.9, 0.999) and parse().betas == (0.7, 0.9)


def test_the_cnn_recipe_is_two_convolutional_blocks_with_distortions():
    flags = parse("--recipe", "cnn")
    assert (flags.conv, flags.kernel, flags.padding, flags.hidden, flags.dropout) == ((32, 64), (3,), "valid", (256,),
                                                                                              0.4)
    assert (flags.shift, flags.rotate, flags.zoom, flags.batch_size, flags.epochs) == (2, 10, 0.1, 128, 15)
    assert parse("--recipe", "cnn", "--conv", "8").conv == (8,)


def test_the_best_recipe_is_the_cnn_recipe_with_a_third_block_same_padding_and_batch_norm():
    import conv
    import nn
    import train

    best, cnn = parse("--recipe", "best"), parse("--recipe", "cnn")
    assert (best.conv, best.padding, best.batch_norm, best.label_smoothing, best.epochs) == (
        (32, 64, 128), "same", True, 0.1, 30)
    for name in ("kernel", "pool", "hidden", "dropout", "shift", "rotate", "zoom", "batch_size", "lr", "lr_schedule"):
        assert getattr(best, name) == getattr(cnn, name), name
    blocks = [layer for layer in train.build_network(best).layers if isinstance(layer, conv.Conv2D)]
    assert [layer.output_shape for layer in blocks] == [(14, 14, 32), (7, 7, 64), (3, 3, 128)]
    assert sum(isinstance(layer, nn.BatchNorm) for layer in train.build_network(best).layers) == 4


def test_the_fast_and_quick_recipes_are_one_small_cnn_trained_one_round_or_three():
    fast, quick = parse("--recipe", "fast"), parse("--recipe", "quick")
    for flags in (fast, quick):
        assert (flags.conv, flags.kernel, flags.pool, flags.hidden) == ((24, 32), (5, 3), (2,), (256,))
        assert (flags.optimizer, flags.betas, flags.lr, flags.lr_schedule) == ("adam", (0.7, 0.9), 0.01, "one-cycle")
        assert (flags.batch_size, flags.rotate, flags.zoom, flags.dropout) == (256, 0, 0, 0)
    assert (fast.label_smoothing, quick.label_smoothing) == (0.1, 0.1)
    assert parse("--recipe", "fast", "--loss", "mse").label_smoothing == 0  # the recipe's is for its cross-entropy
    assert (fast.epochs, fast.shift, quick.epochs, quick.shift) == (1, 0, 3, 1)
    # Other blocks keep the recipe's kernel sizes when there are as many, else take the default size.
    assert parse("--conv", "8", "16").kernel == (5, 3) and parse("--conv", "8").kernel == (3,)
    assert parse("--conv", "8", "16", "32").kernel == (3,) and parse("--conv", "8", "--kernel", "7").kernel == (7,)


def test_the_default_recipe_is_quick_and_help_lists_every_recipe():
    import train

    assert parse() == parse("--recipe", "quick")
    result = run_train("--help")
    for name, values in train.RECIPES.items():
        flags = " ".join(train.recipe_words(values))
        assert re.search(rf"^  {re.escape(name)} +{re.escape(flags)}$", result.stdout, re.MULTILINE), name


def test_a_loaded_network_is_only_evaluated_unless_epochs_are_asked_for():
    assert parse("--load", "m.npz").epochs == 0
    assert parse("--load", "m.npz", "--epochs", "4").epochs == 4
    assert parse("--load", "m.npz", "--epochs=4").epochs == 4
    assert parse("--load", "m.npz", "--recipe", "cnn").hidden is None  # the file's own layers


def test_teaching_takes_a_tenth_of_the_optimizers_rate_whatever_the_recipe_would_start_a_network_at(tmp_path):
    (tmp_path / "7").mkdir()
    for recipe in ("quick", "mlp", "cnn"):
        teaching = parse("--load", "m.npz", "--samples", str(tmp_path), "--recipe", recipe)
        assert (teaching.lr, teaching.epochs, teaching.limit, teaching.label_smoothing) == (
            pytest.approx(0.0002), 3, 6000, 0), recipe
    assert parse("--load", "m.npz", "--samples", str(tmp_path), "--optimizer", "sgd").lr == pytest.approx(0.01)
    assert parse("--load", "m.npz", "--samples", str(tmp_path), "--lr", "0.003").lr == 0.003
    assert parse("--load", "m.npz", "--epochs", "2").lr == 0.01  # going on training: the recipe's


def test_each_rounds_line_reaches_a_pipe_before_the_next_round_ends(tmp_path, fake_mnist):
    """Python buffers stdout when it is a pipe; the rounds' lines must come through anyway. The run
    pauses inside round 2's checkpoint write, so round 1's line must be readable then."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # as for most users
    run = tmp_path / "run.npz"
    process = train_paused_in_write(run, 2, ["--data-dir", str(fake_mnist), "--hidden", "4", "--epochs", "3",
                                             "--checkpoint", str(run)], env=env)
    try:
        for line in process.stderr:
            if PAUSED in line:
                break
        os.set_blocking(process.stdout.fileno(), False)
        try:
            out = os.read(process.stdout.fileno(), 1 << 16).decode()
        except BlockingIOError:  # nothing has come
            out = ""
    finally:
        process.kill()
        process.communicate()
    assert "cost after training round 1:" in out and "round 2:" not in out


def documented_recipes():
    """The recipes as README's table of them lists them: {name: flags}."""
    readme = (ROOT / "README.md").read_text()
    return dict(re.findall(r"^\| `(original-[\w-]+)` \| `([^`]+)` \|", readme, re.MULTILINE))


def test_each_original_recipe_runs_the_flags_the_readme_documents():
    import train

    documented = documented_recipes()
    assert sorted(documented) == sorted(name for name in train.RECIPES if name.startswith("original-"))
    for name, flags in documented.items():
        assert flags == " ".join(train.recipe_words(train.RECIPES[name])), name
        from_recipe, from_flags = parse("--recipe", name), parse("--recipe", "mlp", *flags.split())
        assert dataclasses.replace(from_recipe, recipe="mlp") == from_flags, name


def test_the_original_recipes_are_the_original_networks_and_explicit_flags_override_them():
    flags = parse("--recipe", "original-128")
    assert (flags.hidden, flags.activation, flags.loss, flags.init, flags.optimizer, flags.epochs) == (
        (128,), "sigmoid", "mse", "plain", "sgd", 100)
    assert parse("--recipe", "original-random").epochs == 0
    assert parse("--recipe", "original-relu").loss == "mse-relu"
    flags = parse("--recipe", "original-128", "--epochs", "20", "--seed", "2")
    assert (flags.epochs, flags.seed, flags.hidden, flags.lr) == (20, 2, (128,), parse("--recipe", "original-128").lr)


def test_init_scale_multiplies_the_initial_weights():
    import train

    plain = train.build_network(parse("--recipe", "original-128"))
    scaled = train.build_network(parse("--recipe", "original-128", "--init-scale", "0.1"))
    for p, q in zip(plain.parameters(), scaled.parameters()):
        np.testing.assert_allclose(q, 0.1 * p, rtol=1e-6)
    assert abs(plain.layers[0].weights).max() > 0.45


def final_figures(result):
    """The last round's cost and the final test accuracy (%) from train.py's output."""
    assert result.returncode == 0, result.stderr
    cost = float(re.findall(r"cost after training round \d+: (\d+\.\d+)", result.stdout)[-1])
    accuracy = float(re.search(r"correctly recognized images after training: (\d+\.\d+)%", result.stdout).group(1))
    return cost, accuracy


# A tenth of the images in batches a tenth the size: as many steps per round as the full recipes take.
def quick_original(mnist_dir, recipe, epochs):
    return final_figures(run_train("--recipe", recipe, "--epochs", str(epochs), "--limit", "6000",
                                   "--batch-size", "100", "--data-dir", str(mnist_dir)))


def test_the_16_16_network_stays_on_the_plateau_answering_the_most_frequent_digit(mnist_dir):
    from support import mnist

    test_labels = mnist.load_split("test", mnist_dir)[1]
    cost, accuracy = quick_original(mnist_dir, "original-16-16", 20)
    assert abs(cost - 0.45) < 0.005  # half of 1 - sum of squared class shares: the best constant answer
    assert abs(accuracy - 100 * np.bincount(test_labels).max() / len(test_labels)) < 0.5


def test_the_final_accuracy_is_the_last_rounds_even_when_relu_outputs_all_die(mnist_dir):
    # Weights ten times the recipe's kill every ReLU output in the first round: all of them read 0.
    result = run_train("--recipe", "original-relu", "--init-scale", "1", "--lr", "0.1", "--epochs", "2",
                       "--limit", "6000", "--batch-size", "100", "--data-dir", str(mnist_dir))
    assert "output vector of first image: [0. 0. 0. 0. 0. 0. 0. 0. 0. 0.]" in result.stdout
    last_round = re.findall(r"test (\d+\.\d\d)%", result.stdout)[-1]
    assert f"correctly recognized images after training: {last_round}%" in result.stdout


def test_the_128_network_leaves_the_plateau(mnist_dir):
    cost, accuracy = quick_original(mnist_dir, "original-128", 3)
    assert cost < 0.35 and accuracy > 50


# ----------------------------------------------------------------------------------------------
# Fashion-MNIST. Its files have MNIST's names and format, so the small fake files serve for both.

FASHION_NAMES = "T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot"
FASHION_ROWS = [r"      class  precision  recall      f1  images",
                *(rf"{name:>11}" + r"(  +(-|\d+\.\d%)){3}  +\d+" for name in FASHION_NAMES.split("|"))]


def test_fashion_names_its_classes_in_every_line_and_its_model_remembers_it(tmp_path, fake_mnist):
    result = run_train("--dataset", "fashion", "--data-dir", str(fake_mnist), "--hidden", "8", "--epochs", "1",
                       "--save", str(tmp_path / "m.npz"), "--plot-dir", str(tmp_path / "plots"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # The fake test images are labelled 0, 1, 2, ...: the first is a T-shirt/top.
    first = [line for line in lines if line.startswith("classification of first image")]
    assert len(first) == 2 and all(re.fullmatch(rf"classification of first image: ({FASHION_NAMES}) with confidence "
                                                r"[01]\.\d\d; real label T-shirt/top", line) for line in first), first
    table = lines[lines.index(FASHION_ROWS[0]):][:11]
    assert all(re.fullmatch(row, line) for row, line in zip(FASHION_ROWS, table, strict=True)), table
    assert model.load(tmp_path / "m.npz")[1]["dataset"] == "fashion"
    assert sorted(path.name for path in (tmp_path / "plots").iterdir()) == sorted(
        ["training.png", "confusion.png", "mistakes.png", "weights.png"])


def test_a_loaded_network_keeps_its_dataset_and_another_one_is_refused(tmp_path, fake_mnist):
    saved = str(tmp_path / "m.npz")
    assert run_train("--dataset", "fashion", "--data-dir", str(fake_mnist), "--hidden", "8", "--epochs", "1",
                     "--save", saved).returncode == 0
    result = run_train("--load", saved, "--data-dir", str(fake_mnist))
    assert result.returncode == 0, result.stderr
    assert "real label T-shirt/top" in result.stdout and "      class  precision" in result.stdout
    result = run_train("--load", saved, "--dataset", "mnist", "--data-dir", str(fake_mnist))
    assert result.returncode == 2 and result.stdout == ""
    assert re.fullmatch(rf"train\.py: error: --dataset mnist: {re.escape(saved)} was trained on Fashion-MNIST, .*\n",
                        result.stderr.splitlines(keepends=True)[-1])


def test_a_fashion_run_resumes_as_fashion_to_the_same_network(tmp_path, fake_mnist):
    flags = ["--dataset", "fashion", "--data-dir", str(fake_mnist), "--hidden", "8", "--epochs", "3"]
    assert run_train(*flags, "--save", str(tmp_path / "whole.npz")).returncode == 0
    run = tmp_path / "run.npz"
    # Killed inside round 2's checkpoint write: round 1's checkpoint is the one left.
    process = train_paused_in_write(run, 2, [*flags, "--checkpoint", str(run), "--save", str(tmp_path / "resumed.npz")])
    assert PAUSED in process.stderr.readline()
    process.kill()
    process.wait()
    assert model.load(run)[1]["dataset"] == "fashion"
    result = run_train("--resume", str(run), "--data-dir", str(fake_mnist))
    assert result.returncode == 0, result.stderr
    assert "1 of 3 rounds done" in result.stdout and "real label T-shirt/top" in result.stdout
    whole, resumed = model.load(tmp_path / "whole.npz"), model.load(tmp_path / "resumed.npz")
    assert resumed[1]["dataset"] == "fashion"
    for a, b in zip(whole[0].parameters(), resumed[0].parameters(), strict=True):
        assert np.array_equal(a, b)
    result = run_train("--resume", str(run), "--dataset", "mnist")
    assert result.returncode == 2 and "--dataset cannot change them" in result.stderr


def test_fashion_files_are_looked_for_in_their_own_folder(tmp_path):
    if (ROOT / "data" / "fashion").exists():
        pytest.skip("data/fashion/ exists here: the files would be found")
    environ = {name: value for name, value in os.environ.items() if name != "MNIST_DIR"}
    result = run_train("--dataset", "fashion", "--epochs", "0", env=environ, cwd=tmp_path)
    assert result.returncode == 1
    assert f"{ROOT / 'data' / 'fashion'}/" in result.stderr and "./download-mnist.sh --dataset fashion" in result.stderr


def test_trains_on_real_fashion_mnist(fashion_dir):
    result = run_train("--dataset", "fashion", "--data-dir", str(fashion_dir), "--limit", "5000", "--hidden", "64",
                       "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert re.search(r"classification of first image: Ankle boot with confidence [01]\.\d\d; real label Ankle boot\n",
                     result.stdout)
    accuracy = float(re.search(r"correctly recognized images after training: (\d+\.\d\d)%", result.stdout).group(1))
    assert 70 < accuracy < 95


def test_fashion_mnists_files_given_as_mnist_are_refused_in_one_line(tmp_path, fashion_dir):
    saved = tmp_path / "m.npz"
    result = run_train("--save", str(saved), env={**os.environ, "MNIST_DIR": str(fashion_dir)})
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and not saved.exists()
    assert re.fullmatch(rf"train\.py: error: {fashion_dir}/train-images-idx3-ubyte\.gz: Fashion-MNIST's images, not "
                        r"MNIST's \(.*\): give --dataset fashion for them, .*\n", result.stderr)


def test_mnists_files_given_as_fashion_mnist_are_refused_in_one_line(tmp_path, mnist_dir):
    result = run_train("--dataset", "fashion", "--data-dir", str(mnist_dir), "--save", str(tmp_path / "m.npz"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and not (tmp_path / "m.npz").exists()
    assert "MNIST's images, not Fashion-MNIST's" in result.stderr and "give --dataset mnist" in result.stderr
