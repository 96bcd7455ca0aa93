"""train.py in-process, on the small fake MNIST files: which weights a run keeps (best validation
round, Ctrl-C), the learning rates it steps with, that --seed, --optimizer, --weight-decay and the
cost limit take effect, resuming from a checkpoint, --load, and what main prints and refuses.

These run in a fraction of a second each, so that a broken train.py fails fast (they were written
against deliberate mutants of train.py); tests/test_train.py and tests/test_checkpoint.py run the
script itself on real MNIST.
"""

import re
import time

import numpy as np
import pytest

import nn
import train
from support import checkpoint, mnist, model, parallel, training

SMALL = ["--recipe", "mlp", "--hidden", "6", "--batch-size", "4", "--shift", "0", "--epochs", "3", "--lr-schedule",
         "constant"]


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """Flags made in this process choose their threads as on an idle machine: what other programs
    happen to be doing must not make two runs' flags differ (tests that care patch it themselves)."""
    monkeypatch.setattr(parallel, "busy_cores", lambda: 0)


def parse(*argv):
    """The Flags of a new run that the command line argv describes."""
    parser = train.build_parser()
    return train.new_flags(parser, train.given_flags(parser, list(argv)))


def prepared(fake_mnist, *flags):
    """Everything training.train needs, as main makes it: (run, data)."""
    flags = parse(*SMALL, "--data-dir", str(fake_mnist), *flags)
    data = train.load_data(flags)
    return train.new_run(flags, data, None, lambda line: None), data


def recorder(run):
    """A log for train.train, and the list where it keeps the network's weights as each round's
    line is printed (after that round)."""
    after_round = []

    def log(line):
        if line.startswith("cost after training round"):
            after_round.append(run.weights())

    return log, after_round


def train_recording(run, data):
    """Train, and return the network's weights after each round."""
    log, after_round = recorder(run)
    training.train(run, data, log)
    return after_round


def assert_same_weights(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def differ(first, second):
    return any(not np.array_equal(a, b) for a, b in zip(first, second))


def scripted_validation(monkeypatch, data, accuracies):
    """Make the validation images score `accuracies`, one per round; other accuracies stay real."""
    scores, real = iter(accuracies), nn.accuracy

    def accuracy(network, x, labels):
        return next(scores) if x is data.validation_x else real(network, x, labels)

    monkeypatch.setattr(nn, "accuracy", accuracy)


def test_a_run_without_validation_ends_with_the_last_rounds_weights(fake_mnist):
    run, data = prepared(fake_mnist)
    after_round = train_recording(run, data)
    assert len(after_round) == 3 and differ(after_round[1], after_round[2])
    assert_same_weights(run.weights(), after_round[2])
    assert run.kept_round == run.rounds == 3
    assert [entry["round"] for entry in run.history] == [1, 2, 3]


@pytest.mark.parametrize("flags", [[], ["--batch-norm"]], ids=["mlp", "batch-norm"])
def test_the_best_validation_round_is_kept(fake_mnist, monkeypatch, flags):
    """With batch normalisation, its running statistics are kept with the weights (run.weights)."""
    run, data = prepared(fake_mnist, "--validation", "4", "--epochs", "4", *flags)
    assert len(run.weights()) == (4 + 4 * bool(flags))
    scripted_validation(monkeypatch, data, [0.25, 0.75, 0.75, 0.5])  # best in round 2; round 3 only ties it
    after_round = train_recording(run, data)
    assert run.kept_round == 2 and run.best_validation == 0.75
    assert differ(after_round[1], after_round[3]) and differ(after_round[1], after_round[2])
    assert_same_weights(run.weights(), after_round[1])
    assert [entry["validation"] for entry in run.history] == [0.25, 0.75, 0.75, 0.5]


def test_main_saves_the_best_validation_round(fake_mnist, monkeypatch, tmp_path, capsys):
    saved = tmp_path / "best.npz"
    scores, real = iter([0.5, 0.25, 0.25]), nn.accuracy  # the first round is the best

    def accuracy(network, x, labels):
        return next(scores) if len(x) == 4 else real(network, x, labels)  # the 4 validation images

    monkeypatch.setattr(nn, "accuracy", accuracy)
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--validation", "4", "--save", str(saved)])
    assert "keeping the weights after round 1, the best on the validation images" in capsys.readouterr().out
    assert model.load(saved)[1]["rounds"] == 1


def interrupt_in_round(monkeypatch, interrupted_round):
    """Make training round `interrupted_round` change the weights halfway, then get a Ctrl-C."""
    real = nn.train_epoch

    def train_epoch(network, optimizer, *arguments):
        train_epoch.calls += 1
        if train_epoch.calls == interrupted_round:
            for p in network.parameters():
                p += 1  # as the round's first steps would
            raise KeyboardInterrupt
        return real(network, optimizer, *arguments)

    train_epoch.calls = 0
    monkeypatch.setattr(nn, "train_epoch", train_epoch)


def test_ctrl_c_puts_back_the_weights_of_the_last_complete_round(fake_mnist, monkeypatch):
    run, data = prepared(fake_mnist)
    interrupt_in_round(monkeypatch, 3)
    log, after_round = recorder(run)
    with pytest.raises(KeyboardInterrupt):
        training.train(run, data, log)
    assert len(after_round) == 2 and run.rounds == run.kept_round == 2
    assert_same_weights(run.weights(), after_round[1])


def test_ctrl_c_with_validation_puts_back_the_best_rounds_weights(fake_mnist, monkeypatch):
    run, data = prepared(fake_mnist, "--validation", "4")
    scripted_validation(monkeypatch, data, [0.5, 0.25])
    interrupt_in_round(monkeypatch, 3)
    log, after_round = recorder(run)
    with pytest.raises(KeyboardInterrupt):
        training.train(run, data, log)
    assert run.kept_round == 1
    assert_same_weights(run.weights(), after_round[0])


def test_main_saves_the_last_complete_round_on_ctrl_c(fake_mnist, monkeypatch, tmp_path, capsys):
    saved, reference = tmp_path / "interrupted.npz", tmp_path / "two-rounds.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "2", "--save", str(reference), "--quiet"])
    interrupt_in_round(monkeypatch, 3)
    with pytest.raises(SystemExit) as exit_status:
        train.main([*SMALL, "--data-dir", str(fake_mnist), "--save", str(saved)])
    assert exit_status.value.code == 130
    out = capsys.readouterr().out
    assert "interrupted in round 3; keeping the weights after round 2" in out
    assert f"saved the network to {saved} (the weights after round 2 of 3)" in out
    # --lr-schedule constant: the first two rounds of a 3-round run are those of a 2-round run.
    assert model.load(saved)[1]["rounds"] == 2
    assert_same_weights(model.load(saved)[0].parameters(), model.load(reference)[0].parameters())


def test_ctrl_c_with_a_checkpoint_says_how_to_go_on(fake_mnist, monkeypatch, tmp_path, capsys):
    run = tmp_path / "run.npz"
    interrupt_in_round(monkeypatch, 3)
    with pytest.raises(SystemExit):
        train.main([*SMALL, "--data-dir", str(fake_mnist), "--checkpoint", str(run)])
    out = capsys.readouterr().out
    assert f"interrupted in round 3; keeping the weights after round 2\nto go on: ./train.py --resume {run}\n" in out
    monkeypatch.undo()
    interrupt_in_round(monkeypatch, 1)  # before any checkpoint was written: nothing to go on from
    with pytest.raises(SystemExit):
        train.main([*SMALL, "--data-dir", str(fake_mnist), "--checkpoint", str(tmp_path / "other.npz")])
    assert "to go on" not in capsys.readouterr().out


def test_a_second_ctrl_c_while_the_results_are_reported_keeps_the_saved_network(fake_mnist, monkeypatch, tmp_path,
                                                                                 capsys):
    """The network is saved before the test images are classified again for the report, so a Ctrl-C
    there (a second one, after the one that stopped training) cannot lose it, and says it is kept."""
    saved = tmp_path / "m.npz"
    interrupt_in_round(monkeypatch, 3)
    real_probabilities = nn.Network.probabilities

    def probabilities(network, x):
        if nn.train_epoch.calls == 3:  # training is over: this is the report
            raise KeyboardInterrupt
        return real_probabilities(network, x)

    monkeypatch.setattr(nn.Network, "probabilities", probabilities)
    with pytest.raises(SystemExit) as exit_status:
        train.main([*SMALL, "--data-dir", str(fake_mnist), "--save", str(saved)])
    assert exit_status.value.code == 130
    assert model.load(saved)[1]["rounds"] == 2
    err = capsys.readouterr().err
    assert err == f"train.py: interrupted; saved the network to {saved} (the weights after round 2 of 3)\n"


@pytest.mark.parametrize("schedule", ["linear", "cosine", "step"])
def test_each_step_uses_the_scheduled_learning_rate(fake_mnist, schedule):
    """12 images in batches of 5: 3 batches (the last of 2) a round, 4 rounds, 12 steps in all."""
    run, data = prepared(fake_mnist, "--lr-schedule", schedule, "--lr", "0.5", "--batch-size", "5",
                               "--epochs", "4", "--optimizer", "sgd")
    rates, step = [], run.optimizer.step

    def recording_step(gradients, learning_rate):
        rates.append(learning_rate)
        step(gradients, learning_rate)

    run.optimizer.step = recording_step
    training.train(run, data, lambda line: None)
    assert rates == pytest.approx([nn.learning_rate(schedule, 0.5, k / 12) for k in range(12)], rel=1e-12)
    assert len(set(rates)) > 2


def saved_weights(fake_mnist, tmp_path, *flags):
    path = tmp_path / "m.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--save", str(path), "--quiet", *flags])
    return model.load(path)[0].parameters()


@pytest.mark.parametrize("flags, other_flags", [
    (["--seed", "1"], ["--seed", "2"]),
    (["--optimizer", "sgd", "--lr", "0.1"], ["--optimizer", "adam", "--lr", "0.1"]),
    (["--optimizer", "momentum", "--lr", "0.1"], ["--optimizer", "nesterov", "--lr", "0.1"]),
    (["--optimizer", "sgd", "--lr", "0.1"], ["--optimizer", "momentum", "--lr", "0.1"]),
    (["--weight-decay", "0"], ["--weight-decay", "0.5"]),
    (["--optimizer", "sgd", "--weight-decay", "0"], ["--optimizer", "sgd", "--weight-decay", "0.5"]),
    (["--lr", "0.01"], ["--lr", "0.02"]),
    (["--label-smoothing", "0"], ["--label-smoothing", "0.2"]),
    (["--ema", "0"], ["--ema", "0.5"]),
    (["--elastic", "8", "3"], ["--elastic", "16", "3"]),
    (["--stroke", "0"], ["--stroke", "0.5"]),
    (["--continental", "0"], ["--continental", "0.9"]),
], ids=["seed", "sgd-adam", "momentum-nesterov", "sgd-momentum", "adam-decay", "sgd-decay", "lr", "label-smoothing",
        "ema", "elastic", "stroke", "continental"])
def test_a_flag_changes_the_trained_weights_and_a_repeated_run_does_not(fake_mnist, tmp_path, flags, other_flags):
    first = saved_weights(fake_mnist, tmp_path, *flags)
    assert_same_weights(first, saved_weights(fake_mnist, tmp_path, *flags))
    other = saved_weights(fake_mnist, tmp_path, *other_flags)
    assert differ(first[::2], other[::2])  # the weight matrices, not only the biases


def test_the_seed_decides_the_initial_weights_the_shuffling_and_the_dropout(fake_mnist):
    """Each of the three generators on its own: a seed that reached only some of them would show."""

    def draws(seed):
        run, _ = prepared(fake_mnist, "--seed", str(seed), "--dropout", "0.5")
        dropout = next(layer for layer in run.network.layers if isinstance(layer, nn.Dropout))
        return run.weights(), run.shuffle_rng.random(4), dropout.rng.random(4)

    (weights, shuffle, dropout), again, other = draws(1), draws(1), draws(2)
    # The generators are documented ones, so that a run can be repeated by anyone, by any version.
    built = model.build([6], dropout=0.5, rng=np.random.default_rng([1, 0]))
    assert_same_weights(weights, built.parameters())
    assert list(shuffle) == list(np.random.default_rng([1, 1]).random(4))
    assert list(dropout) == list(np.random.default_rng([1, 2]).random(4))
    assert_same_weights(weights, again[0])
    assert list(shuffle) == list(again[1]) and list(dropout) == list(again[2])
    assert differ(weights[::2], other[0][::2])
    assert not np.isin(shuffle, other[1]).any() and not np.isin(dropout, other[2]).any()
    assert not np.isin(shuffle, dropout).any()  # three generators, not one shared


@pytest.mark.parametrize("name, kind, momentum, nesterov", [
    ("sgd", nn.SGD, 0.0, False), ("momentum", nn.SGD, 0.9, False), ("nesterov", nn.SGD, 0.9, True),
    ("adam", nn.Adam, None, None),
])
def test_the_optimizer_is_the_one_the_flags_name_with_their_weight_decay(fake_mnist, name, kind, momentum, nesterov):
    run, data = prepared(fake_mnist, "--optimizer", name, "--weight-decay", "0.25")
    optimizer = run.optimizer
    assert type(optimizer) is kind and optimizer.weight_decay == 0.25
    assert all(p is q for p, q in zip(optimizer.parameters, run.network.parameters()))
    if kind is nn.SGD:
        assert (optimizer.momentum, optimizer.nesterov) == (momentum, nesterov)


@pytest.mark.parametrize("layers", [[], ["--batch-norm"]], ids=["plain", "batch-norm"])
def test_with_ema_each_round_is_measured_kept_and_saved_with_the_moving_average(fake_mnist, monkeypatch, tmp_path,
                                                                                layers):
    run, data = prepared(fake_mnist, "--ema", "0.6", *layers)
    measured, real_predict = [], run.network.predict

    def predict(x):  # each round's test figure
        measured.append(run.weights())
        return real_predict(x)

    monkeypatch.setattr(run.network, "predict", predict)
    after_round = []
    training.train(run, data, lambda line: after_round.append((run.weights(), run.average.steps)))
    average = run.average
    assert average.decay == 0.6 and average.steps == 3 * 3  # 10 images in batches of 4: 3 steps a round
    # The running statistics of a batch normalisation are averaged too: those of the last batches
    # would not fit the averaged weights.
    averaged = run.network.parameters() + run.network.statistics()
    assert len(average.parameters) == len(averaged) and all(p is q for p, q in zip(average.parameters, averaged))
    # The run ends with the last round's average (no validation: the last round is kept) ...
    ended = [np.divide(shadow, 1 - 0.6**9) for shadow in average.state()]
    assert_same_weights(run.weights(), ended)
    assert_same_weights(measured[-1], ended)  # ... with which the last round was measured
    assert differ(after_round[-1][0], ended)  # while the training went on with the weights themselves
    saved = tmp_path / "m.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--ema", "0.6", *layers, "--save", str(saved), "--quiet"])
    loaded = model.load(saved)[0]
    assert_same_weights(loaded.parameters() + loaded.statistics(), ended)


@pytest.mark.parametrize("layers", [[], ["--conv", "2"]], ids=["mlp", "cnn"])
def test_label_smoothing_reaches_the_network_and_its_replicas(fake_mnist, layers):
    run, _ = prepared(fake_mnist, "--label-smoothing", "0.25", *layers)
    assert run.network.label_smoothing == 0.25
    replicas = getattr(run.learner, "replicas", [])
    assert len(replicas) == (2 if layers else 0) and all(replica.label_smoothing == 0.25 for replica in replicas)
    assert prepared(fake_mnist, *layers)[0].network.label_smoothing == 0


def test_label_smoothing_with_a_quadratic_cost_is_refused_in_one_line(fake_mnist, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_status:
        parse("--loss", "mse", "--label-smoothing", "0.1")
    assert exit_status.value.code == 2 and "the loss is mse" in capsys.readouterr().err
    saved = tmp_path / "mse.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--loss", "mse-relu", "--epochs", "1", "--save", str(saved),
                "--quiet"])
    with pytest.raises(SystemExit) as exit_status:
        train.main(["--load", str(saved), "--label-smoothing", "0.1", "--data-dir", str(fake_mnist)])
    assert exit_status.value.code == 2 and "the loss is mse-relu" in capsys.readouterr().err


def test_the_cost_limit_is_a_thousand_times_the_first_cost_and_stops_training(fake_mnist):
    run, data = prepared(fake_mnist, "--init", "plain", "--hidden", "200", "--activation", "tanh")
    first = mnist.as_inputs(data.train_images[: training.COST_SAMPLES])
    first_cost = run.network.cost(run.network.forward(first), data.train_labels[: training.COST_SAMPLES])[0]
    assert first_cost > 1 and run.max_cost == pytest.approx(1000 * first_cost, rel=1e-6)
    run.max_cost = first_cost / 2  # as if the cost had grown a thousandfold
    with pytest.raises(nn.DivergenceError, match="in batch 1"):
        training.train(run, data, lambda line: None)
    assert run.rounds == 0


def test_a_first_cost_below_1_still_allows_a_cost_of_1000(fake_mnist):
    _, data = prepared(fake_mnist, "--loss", "mse")
    network = model.build([], loss="mse")
    network.layers[-1].weights[...] = 0
    network.layers[-1].bias[...] = -10  # every output near 0: a quadratic cost of about 1/2
    assert training.cost_limit(network, data.train_images, data.train_labels) == 1000


TRICKS = ["--ema", "0.7", "--label-smoothing", "0.1", "--elastic", "8", "3", "--validation", "2"]


@pytest.mark.parametrize("flags", [[], ["--conv", "2", "--dropout", "0.3", "--rotate", "10", "--zoom", "0.1"],
                                   ["--batch-norm"], ["--conv", "2", "--dropout", "0.3", "--batch-norm"], TRICKS],
                         ids=["mlp", "cnn", "mlp-batch-norm", "cnn-batch-norm", "tricks"])
def test_a_run_stopped_and_resumed_from_its_checkpoint_ends_as_the_uninterrupted_one(fake_mnist, tmp_path,
                                                                                    monkeypatch, flags):
    """The fast in-process twin of tests/test_checkpoint.py: every array of the final checkpoint
    (weights, optimizer state, moving average, kept weights) and every figure of its history but the
    times."""
    common = [*SMALL, "--data-dir", str(fake_mnist), "--epochs", "4", "--lr-schedule", "cosine", "--shift", "1",
              "--quiet", *flags]
    whole, stopped = tmp_path / "whole.npz", tmp_path / "stopped.npz"
    train.main([*common, "--checkpoint", str(whole)])
    with monkeypatch.context() as patch:
        interrupt_in_round(patch, 3)
        with pytest.raises(SystemExit):
            train.main([*common, "--checkpoint", str(stopped)])
    assert checkpoint.load(stopped).state["rounds"] == 2
    train.main(["--resume", str(stopped)])
    expected, resumed = checkpoint.load(whole), checkpoint.load(stopped)
    assert sorted(expected.arrays) == sorted(resumed.arrays)
    for name, array in expected.arrays.items():
        if name != "header":
            np.testing.assert_array_equal(array, resumed.arrays[name], err_msg=name)
    for state in (expected.state, resumed.state):
        for entry in state["history"]:
            entry.pop("seconds")
    assert len(expected.state["history"]) == 4
    assert {**expected.state, "flags": None} == {**resumed.state, "flags": None}


def test_main_prints_the_originals_lines_as_the_rounds_go(fake_mnist, tmp_path, capsys):
    saved = tmp_path / "m.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "2", "--save", str(saved)])
    out = capsys.readouterr().out
    network, metadata = model.load(saved)
    first = network.probabilities(mnist.as_inputs(mnist.load_split("test", fake_mnist)[0][:1]))[0]
    for line in [
        r"flags: --recipe mlp --hidden 6 .*--epochs 2 ",
        r"network: dense 784-6 relu, dense 6-10",
        r"output vector of first image: \[.*\]",
        r"correctly recognized images after initialization: \d+\.\d\d%",
        r"cost after training round 1: \d+\.\d{4}  train \d+\.\d\d%  test \d+\.\d\d%  \(\d+\.\d\d s\)",
        r"cost after training round 2: ",
        r"training took \d+\.\d s",
        rf"correctly recognized images after training: {metadata['test_accuracy']:.2%}",
        rf"saved the network to {saved}\n",
        rf"classification of first image: {first.argmax()} with confidence {first.max():.2f}; real label 0\n",
        r"digit +precision +recall +f1 +images\n",
        r"accuracy \d+\.\d% \(\d of 5 images\)",
    ]:
        assert re.search(line, out), f"missing {line!r} in:\n{out}"
    assert out.index("round 1:") < out.index("round 2:") < out.index("images after training")
    assert "keeping the weights" not in out
    assert metadata["rounds"] == 2 and metadata["flags"]["hidden"] == [6] and "--epochs 2" in metadata["command"]
    assert "save" not in metadata["flags"] and "quiet" not in metadata["flags"]


def test_a_loaded_network_is_evaluated_then_trained_on_counting_its_rounds(fake_mnist, tmp_path, capsys):
    saved = tmp_path / "m.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "2", "--save", str(saved), "--quiet"])
    accuracy = model.load(saved)[1]["test_accuracy"]
    train.main(["--data-dir", str(fake_mnist), "--load", str(saved)])
    out = capsys.readouterr().out
    assert f"loaded {saved}: dense 784-6 relu, dense 6-10; trained 2 rounds" in out
    assert "correctly recognized images after loading" in out and "training took" not in out
    assert f"correctly recognized images after training: {accuracy:.2%}" in out  # the same network
    more = tmp_path / "more.npz"
    train.main(["--data-dir", str(fake_mnist), "--load", str(saved), "--epochs", "1", "--save", str(more), "--quiet"])
    network, metadata = model.load(more)
    assert model.describe(network) == "dense 784-6 relu, dense 6-10" and metadata["rounds"] == 3
    assert "hidden" not in metadata["flags"] and metadata["flags"]["epochs"] == 1


def test_the_flags_line_of_a_loaded_network_tells_what_ran(fake_mnist, tmp_path, capsys):
    """Neither the recipe's layers nor its rounds: the network is the file's, and it is only evaluated."""
    saved = tmp_path / "m.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "1", "--save", str(saved), "--quiet"])
    train.main(["--data-dir", str(fake_mnist), "--load", str(saved)])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("flags: "))
    assert "--epochs 0" in line and f"--load {saved}" in line
    assert not re.search(r"--(hidden|activation|conv|kernel|dropout|loss|init)\b", line), line


@pytest.mark.parametrize("flag", [["--hidden", "64"], ["--conv", "8"], ["--activation", "tanh"], ["--init-scale", "2"],
                                  ["--batch-norm"]])
def test_layer_flags_with_load_are_refused_in_one_line(fake_mnist, tmp_path, capsys, flag):
    saved = tmp_path / "m.npz"
    model.save(model.build([6]), saved)
    with pytest.raises(SystemExit) as exit_status:
        train.main(["--data-dir", str(fake_mnist), "--load", str(saved), *flag])
    err = capsys.readouterr().err
    assert exit_status.value.code == 2 and err.count("\n") == 1
    assert f": error: {flag[0]} cannot apply with --load: the network in {saved} keeps its own layers" in err


def test_ctrl_c_in_the_first_round_saves_nothing(fake_mnist, tmp_path, monkeypatch, capsys):
    saved = tmp_path / "m.npz"
    saved.write_bytes(b"a good model")
    interrupt_in_round(monkeypatch, 1)
    with pytest.raises(SystemExit) as exit_status:
        train.main([*SMALL, "--data-dir", str(fake_mnist), "--save", str(saved)])
    assert exit_status.value.code == 130 and saved.read_bytes() == b"a good model"
    out = capsys.readouterr().out
    assert f"no training round was completed: nothing saved ({saved} is unchanged)" in out


@pytest.mark.parametrize("flags, copies", [((), 6), (("--ema", "0.9"), 8)], ids=["plain", "ema"])
def test_a_network_that_would_not_fit_in_memory_is_refused(fake_mnist, monkeypatch, capsys, flags, copies):
    run, data = prepared(fake_mnist, *flags)
    needed = copies * sum(p.nbytes for p in run.network.parameters())
    for free, refused in ((needed, False), (needed - 1, True)):
        pages = {"SC_PAGE_SIZE": 1, "SC_AVPHYS_PAGES": free}
        monkeypatch.setattr(train.os, "sysconf", pages.get)
        if refused:
            with pytest.raises(SystemExit) as exit_status:
                train.check_memory(run.network, run.flags)
            assert exit_status.value.code == 2 and "needs about" in capsys.readouterr().err
        else:
            train.check_memory(run.network, run.flags)


@pytest.mark.parametrize("flags, complaint", [
    (["--save", "{tmp}/missing/m.npz"], "--save {tmp}/missing/m.npz: no such folder"),
    (["--checkpoint", "{tmp}"], "--checkpoint {tmp}: is a folder, not a file"),
    (["--plot-dir", "{data}/train-labels-idx1-ubyte.gz"], "is a file, not a folder"),
    (["--validation", "12"], "--validation 12 leaves no training images (there are 12)"),
    (["--validation", "2", "--limit", "11"], "--limit 11 is more than the 10 training images available"),
])
def test_impossible_requests_exit_2_before_training(fake_mnist, tmp_path, capsys, flags, complaint):
    flags = [flag.format(tmp=tmp_path, data=fake_mnist) for flag in flags]
    with pytest.raises(SystemExit) as exit_status:
        train.main([*SMALL, "--data-dir", str(fake_mnist), *flags])
    assert exit_status.value.code == 2
    captured = capsys.readouterr()
    assert complaint.format(tmp=tmp_path) in captured.err and "cost after" not in captured.out


def spoiled_checkpoint(fake_mnist, tmp_path, spoil, *flags):
    """A one-round checkpoint rewritten with spoil(state, arrays) applied; returns its path."""
    path = tmp_path / "run.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "2", "--quiet", "--checkpoint", str(path), *flags])
    saved = checkpoint.load(path)
    arrays = {k: v for k, v in saved.arrays.items() if not k.startswith(("weights", "bias", "header"))}
    spoil(saved.state, arrays)
    model.save(saved.network, path, {"checkpoint": saved.state}, arrays)
    return path


@pytest.mark.parametrize("spoil, complaint", [
    (lambda state, arrays: state.update(version=99),
     "checkpoint version 99; this program resumes version 2 \\(start the run again, with the flags line it "
     "printed\\)$"),
    (lambda state, arrays: state.update(flags=None), "a damaged checkpoint \\(no flags\\)$"),
    (lambda state, arrays: state.pop("max_cost"), "a damaged checkpoint, or one from another version \\('max_cost'\\)"),
    (lambda state, arrays: arrays.update(optimizer0=np.zeros((3, 3), np.float32)),
     "optimizer0 has shape \\(3, 3\\), expected \\(784, 6\\)"),
    (lambda state, arrays: arrays.update(kept1=np.zeros(7, np.float32)), "kept1 has shape \\(7,\\), expected \\(6,\\)"),
    (lambda state, arrays: state["generators"].pop("dropout"),
     "random generators \\['shuffle'\\], expected \\['dropout', 'shuffle'\\]"),
])
def test_a_damaged_checkpoint_is_refused_in_one_line(fake_mnist, tmp_path, capsys, spoil, complaint):
    path = spoiled_checkpoint(fake_mnist, tmp_path, spoil, "--dropout", "0.2")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_status:
        train.main(["--resume", str(path)])
    err = capsys.readouterr().err
    assert exit_status.value.code == 1 and err.count("\n") == 1
    assert re.search(f": error: {path}: .*{complaint}", err.strip()), err


def test_a_model_file_cannot_be_resumed(fake_mnist, tmp_path, capsys):
    path = tmp_path / "m.npz"
    model.save(model.build([6]), path)
    with pytest.raises(SystemExit) as exit_status:
        train.main(["--resume", str(path)])
    assert exit_status.value.code == 1 and f"{path}: a model file, not a checkpoint" in capsys.readouterr().err


def test_resume_refuses_flags_that_would_change_the_run(capsys):
    parser = train.build_parser()
    with pytest.raises(SystemExit) as exit_status:
        train.check_resumable(train.given_flags(parser, ["--resume", "run.npz", "--data-dir", "d", "--lr=0.1",
                                                         "--epochs", "9"]))
    assert exit_status.value.code == 2
    assert ("--epochs, --lr cannot change them (only --data-dir, --threads, --save, --plot-dir, --quiet may be given)"
            in capsys.readouterr().err)
    train.check_resumable(train.given_flags(parser, ["--resume", "run.npz", "--data-dir", "d", "--threads", "1",
                                                     "--save", "m.npz", "--plot-dir", "p", "--quiet"]))


def test_a_resumed_run_saves_draws_and_keeps_quiet_as_asked(fake_mnist, tmp_path, capsys):
    """A run started without --save can still be saved: --save, --plot-dir and --quiet go with --resume."""
    run, saved, plots = tmp_path / "run.npz", tmp_path / "m.npz", tmp_path / "plots"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "2", "--checkpoint", str(run), "--quiet"])
    capsys.readouterr()
    train.main(["--resume", str(run), "--save", str(saved), "--plot-dir", str(plots), "--quiet"])
    assert re.fullmatch(r"correctly recognized images after training: \d+\.\d\d%\n", capsys.readouterr().out)
    assert model.load(saved)[1]["rounds"] == 2 and (plots / "training.png").exists()
    assert_same_weights(model.load(saved)[0].parameters(), model.load(run)[0].parameters())
    train.main(["--resume", str(run)])  # not quiet now, without being told
    assert "flags: " in capsys.readouterr().out


def test_the_flags_defaults_outside_the_recipe():
    flags = parse("--recipe", "mlp")
    assert (flags.conv, flags.kernel, flags.padding, flags.dropout, flags.rotate, flags.zoom) == ((), (3,), "valid", 0,
                                                                                                   0, 0)
    assert flags.betas == (0.9, 0.999) and flags.lr_schedule == "cosine" and flags.pool == (2,)
    assert (flags.weight_decay, flags.seed, flags.validation, flags.loss, flags.init) == (0, 1, 0, "cross-entropy",
                                                                                          "scaled")


@pytest.mark.parametrize("layers", [[], ["--conv", "2"]], ids=["mlp", "cnn"])
def test_a_run_trains_on_the_threads_it_is_given(fake_mnist, monkeypatch, layers):
    learners, real = [], parallel.learner

    def learner(network, threads):
        learners.append((network, threads))
        return real(network, threads)

    monkeypatch.setattr(parallel, "learner", learner)
    run, _ = prepared(fake_mnist, "--threads", "1", *layers)
    assert learners == [(run.network, 1)]


def test_the_flags_of_a_run_cannot_change():
    flags = parse()
    with pytest.raises(AttributeError):
        flags.epochs = 5


@pytest.mark.parametrize("flags, network", [
    (["--conv", "2"], "conv 2 3x3 relu, maxpool 2x2, flatten, dense 338-6 relu, dense 6-10"),
    (["--conv", "2", "--kernel", "5", "--padding", "same"],
     "conv 2 5x5 padding 2 relu, maxpool 2x2, flatten, dense 392-6 relu, dense 6-10"),
    (["--conv", "2", "3", "--kernel", "5", "3", "--padding", "same", "--hidden"],
     "conv 2 5x5 padding 2 relu, maxpool 2x2, conv 3 3x3 padding 1 relu, maxpool 2x2, flatten, dense 147-10"),
    (["--conv", "2", "3", "--kernel", "5", "3", "--hidden"],
     "conv 2 5x5 relu, maxpool 2x2, conv 3 3x3 relu, maxpool 2x2, flatten, dense 75-10"),
    (["--conv", "2", "3", "--pool", "1", "2", "--hidden"],
     "conv 2 3x3 relu, conv 3 3x3 relu, maxpool 2x2, flatten, dense 432-10"),
    (["--conv", "2", "--pool", "3", "--hidden"], "conv 2 3x3 relu, maxpool 3x3, flatten, dense 128-10"),
    (["--conv", "2", "3", "--stride", "2", "1", "--padding", "same", "--hidden"],  # 28 -> 14 -> 7 -> 7 -> 3
     "conv 2 3x3 padding 1 stride 2 relu, maxpool 2x2, conv 3 3x3 padding 1 relu, maxpool 2x2, flatten, dense 27-10"),
    (["--conv", "2", "--stride", "2", "--pool", "1", "--hidden"], "conv 2 3x3 stride 2 relu, flatten, dense 338-10"),
    (["--conv", "2", "3", "--padding", "same", "--dropout", "0.5", "--hidden"],
     "conv 2 3x3 padding 1 relu, maxpool 2x2, conv 3 3x3 padding 1 relu, maxpool 2x2, flatten, dropout 0.5, "
     "dense 147-10"),
])
def test_the_layer_flags_build_the_network_they_describe(fake_mnist, capsys, flags, network):
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "0", *flags])
    assert f"network: {network}\n" in capsys.readouterr().out


@pytest.mark.parametrize("flags, complaint", [
    (["--conv", "2", "3", "--kernel", "3", "3", "3"], "--conv 2 3 --kernel 3 3 3 --pool 2: 3 kernel sizes for 2 "
                                                      "convolutional blocks: give one, or one per block"),
    (["--conv", "2", "--pool", "2", "2"], "--conv 2 --kernel 3 --pool 2 2: 2 pooling sizes for 1 convolutional "
                                          "blocks: give one, or one per block"),
    (["--conv", "2", "--stride", "2", "2"], "--conv 2 --kernel 3 --pool 2 --stride 2 2: 2 strides for 1 convolutional "
                                            "blocks: give one, or one per block"),
    (["--conv", "2", "3", "--stride", "3"], "--conv 2 3 --kernel 3 --pool 2 --stride 3: 2 x 2 max-pooling needs "
                                            "images of at least 2 x 2 pixels, not the 1 x 1 that the convolution "
                                            "gives"),
    (["--optimizer", "sgd", "--betas", "0.7", "0.9"], "--betas are Adam's: they cannot apply to --optimizer sgd"),
    (["--dataset", "fashion", "--continental", "0.2"], "--continental draws forms of the digits 1, 4 and 7: it "
                                                       "cannot apply to --dataset fashion"),
])
def test_flags_that_do_not_fit_together_exit_2_in_one_line(fake_mnist, capsys, flags, complaint):
    with pytest.raises(SystemExit) as exit_status:
        train.main([*SMALL, "--data-dir", str(fake_mnist), "--epochs", "0", *flags])
    assert exit_status.value.code == 2 and capsys.readouterr().err.endswith(f": error: {complaint}\n")


def test_betas_reach_adam(fake_mnist):
    run, _ = prepared(fake_mnist, "--betas", "0.7", "0.9")
    assert (run.optimizer.beta1, run.optimizer.beta2) == (0.7, 0.9)
    run, _ = prepared(fake_mnist)
    assert (run.optimizer.beta1, run.optimizer.beta2) == (0.9, 0.999)


def test_a_network_too_large_to_build_exits_2(fake_mnist, monkeypatch, capsys):
    def build(*arguments):
        raise MemoryError("Unable to allocate 40 GiB")

    monkeypatch.setattr(model, "build", build)
    with pytest.raises(SystemExit) as exit_status:
        train.main([*SMALL, "--data-dir", str(fake_mnist)])
    assert exit_status.value.code == 2
    assert "not enough memory to build this network (Unable to allocate 40 GiB)" in capsys.readouterr().err


def test_the_training_time_is_that_of_the_training(fake_mnist, capsys):
    start = time.perf_counter()
    train.main([*SMALL, "--data-dir", str(fake_mnist)])
    elapsed = time.perf_counter() - start
    took = float(re.search(r"training took (\d+\.\d) s", capsys.readouterr().out).group(1))
    assert 0 <= took <= elapsed + 0.05


def test_batch_norm_builds_normalised_layers_and_shows_in_the_flags_line(fake_mnist, tmp_path, capsys):
    saved = tmp_path / "m.npz"
    train.main([*SMALL, "--data-dir", str(fake_mnist), "--conv", "2", "--batch-norm", "--init-scale", "2",
                "--epochs", "1", "--save", str(saved)])
    out = capsys.readouterr().out
    assert re.search(r"^flags: --recipe mlp .*--batch-norm", out, re.MULTILINE)
    assert "network: conv 2 3x3, maxpool 2x2, batchnorm relu, flatten, dense 338-6, batchnorm relu, dense 6-10\n" in out
    network, metadata = model.load(saved)
    assert metadata["flags"]["batch_norm"] is True and "--batch-norm" in metadata["command"]
    built = train.build_network(parse(*SMALL, "--conv", "2", "--batch-norm", "--init-scale", "2"))
    plain = train.build_network(parse(*SMALL, "--conv", "2", "--batch-norm"))
    np.testing.assert_array_equal(built.layers[0].weights, 2 * plain.layers[0].weights)
    assert (built.layers[1].gamma == 1).all()  # --init-scale scales weight matrices, not a normalisation's scale
