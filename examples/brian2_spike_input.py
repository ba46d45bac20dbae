"""Drive the golden RRN in Brian2 from a rhythmic Poisson population, and check it against the
exact discrete engine on the binned spikes.

    python examples/brian2_spike_input.py
"""
import brian2 as b2
import numpy as np

import rrnsim
from rrnsim.engines.brian import BrianRRN, bin_spike_times

b2.seed(0)  # the Poisson spikes: the same seed gives the same run
fs, n_steps, n_samples = 1000.0, 500, 2
net = rrnsim.RRN.from_spec("golden")
engine = BrianRRN(net, n_samples, n_steps)      # the RRN as Brian2 objects, no analog input

# One Poisson neuron per sample, its rate modulated at 22 Hz (beta): a Brian2 group like any other,
# on the oscillators' clock so that each spike reaches them at its own time.
source = b2.PoissonGroup(n_samples, rates="50*Hz*(1 + sin(2*pi*22*Hz*t))",
                         clock=engine.oscillators.clock)
spikes = b2.SpikeMonitor(source)
engine.network.add(source, spikes)
engine.connect_spikes(source, sample=np.arange(n_samples))
states = engine.run()                           # (samples, time, node)

counts = np.stack([bin_spike_times(spikes.t[spikes.i == k] / b2.second, fs, n_steps)
                   for k in range(n_samples)])
exact = net.run(counts).x
error = np.abs(states - exact).max() / np.sqrt(np.mean(exact ** 2))
print(f"{spikes.num_spikes} spikes; Brian2 vs discrete: max difference {error:.1e} of the RMS")
