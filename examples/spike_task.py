"""Train the golden RRN on the paper's spike-train task and compare it with the Bayes-optimal
observer on the same test trains.

    python examples/spike_task.py
"""
import rrnsim
from rrnsim.data import spike_task

train, test = spike_task(1000, seed=0), spike_task(5000, seed=1)
clf = rrnsim.RRNClassifier(spec="golden", verbose=False).fit(train.X, train.y)
# the paper's model, trained as the paper's code trains it (one learning rate for every weight,
# no prior on the readout's weights)
paper = rrnsim.RRNClassifier(spec="golden", verbose=False, **rrnsim.PAPER_SETTINGS)
paper.fit(train.X, train.y)
ideal = rrnsim.IdealObserver("paper")
print(f"RRN (default, {clf.n_parameters_} parameters): {clf.score(test.X, test.y):.3f}")
print(f"RRN (the paper's model, {paper.n_parameters_} parameters): {paper.score(test.X, test.y):.3f}")
print(f"Bayes-optimal observer:                  {ideal.score(test.X, test.y):.3f}")
