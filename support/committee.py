"""A committee of networks: several trained networks that answer as one, with the mean of their
probabilities.

    network, metadata = load(["m1.npz", "m2.npz", "m3.npz"])   # a Committee; for one file, its network
    network.probabilities(x)    # (N, 10): the mean of the three networks' probabilities
    network.predict(x)          # (N,): the most probable class of that mean

Networks trained from different seeds (or of different kinds, fully connected and convolutional)
make partly different mistakes: where one is unsure or wrong, the others are often surer and right,
so the mean of their probabilities can be right more often than the best of them alone (README:
"Committees"). Every member must have been trained on the same dataset, so that their ten outputs
are the same ten classes.
"""

import nn
from support import mnist, model


class Committee:
    """Trained networks (nn.Network) that classify as one, by the mean of their probabilities: for
    classifying, a Committee stands in for a network (probabilities and predict, as nn.Network's);
    it is never trained."""

    def __init__(self, members):
        self.members = list(members)

    def probabilities(self, x, batch_size=nn.EVALUATION_BATCH):
        """x: (N, inputs) -> (N, classes), the mean of the members' probabilities."""
        return sum(member.probabilities(x, batch_size) for member in self.members) / len(self.members)

    def predict(self, x, batch_size=nn.EVALUATION_BATCH):
        """x: (N, inputs) -> (N,) the most probable class of each sample by the mean probabilities."""
        return self.probabilities(x, batch_size).argmax(axis=1)


def name(paths):
    """What the messages call the network of the model files `paths`: the file's name for one,
    "the committee of a.npz, b.npz" for several."""
    return paths[0] if len(paths) == 1 else f"the committee of {', '.join(map(str, paths))}"


def load(paths):
    """Read the model files `paths` (model.load each): for one file, its (network, metadata); for
    several, (their Committee, {"dataset": the dataset all were trained on, "members": each file's
    metadata}). Raises model.ModelError naming the first file that cannot be read, or naming the
    files when they were trained on different datasets."""
    loaded = [model.load(path) for path in paths]
    if len(loaded) == 1:
        return loaded[0]
    datasets = [metadata["dataset"] for _, metadata in loaded]
    if len(set(datasets)) > 1:
        trained = ", ".join(f"{path} on {mnist.DATASETS[dataset].title}" for path, dataset in zip(paths, datasets))
        raise model.ModelError(f"a committee's networks must have been trained on the same dataset, to answer with "
                               f"the same classes: {trained}")
    return Committee(network for network, _ in loaded), {"dataset": datasets[0],
                                                          "members": [metadata for _, metadata in loaded]}
