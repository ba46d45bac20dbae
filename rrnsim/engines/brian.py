"""The Brian2 engine: the RRN in continuous time, as Brian2 objects a neuroscientist can extend.

Every (sample, node) pair is one oscillator of a single ``NeuronGroup``::

    dx/dt = v                              (x: dimensionless)
    dv/dt = -2*beta*v - omega0**2 * x      (v: 1/s)

integrated with ``rk4`` at ``dt = 1/(fs*substeps)``. At each sample time ``n/fs`` the network
gathers the input ``g = W_in @ u[n]`` (plus spikes summed since the last sample time), each node's
coupling output ``gate`` (``tanh(x*g)`` or ``expit(cos(phase))``), sums ``W_res @ gate`` over the
nodes of the same sample through ``Synapses``, and kicks ``v += drive * gain`` with
``gain = omega_d / (r*sin(theta))`` (DESIGN.md): the discrete engine's recursion, exactly, up to
the integration error. Events at a time step (spikes, kicks) act before the oscillators integrate
onward from that time (the state updater runs in the ``end`` slot).

Spike sources (``SpikeGeneratorGroup``, ``PoissonGroup``, any group) connect through
:meth:`BrianRRN.connect_spikes`. With coupling ``"none"`` each spike kicks ``v`` at its own time;
otherwise spikes are summed into the next sample time's input ``u[n]``, as the gate needs it:
spikes in ``((n-1)/fs, n/fs]`` count in ``u[n]``, which is what :func:`bin_spike_times` does
(a ``SpikeGeneratorGroup`` first moves each spike down to its own time step: pass that step as
``source_dt``).
"""
from .._brian2 import brian2 as b2
from brian2.devices.device import RuntimeDevice
import numpy as np
import quantities as pq

from .. import oscillator
from ..validation import as_input, count, in_unit, n_bins, positive

__all__ = ["BrianRRN", "bin_spike_times"]

EQUATIONS = """
dx/dt = v : 1
dv/dt = -2*beta*v - omega0**2*x : Hz
beta : Hz (constant)                 # damping rate
omega0 : Hz (constant)               # natural angular frequency, sqrt(omega_d**2 + beta**2)
gain : Hz (constant)                 # velocity kick per unit drive
omega_p : Hz (constant)              # the paper's constants (phase coupling)
beta_p : Hz (constant)
sample : integer (constant)          # which input sample this oscillator belongs to
node : integer (constant)            # which network node it is
g : 1                                # input W_in @ u[n] at the last sample time
u_spikes : 1                         # spike input summed since the last sample time
gate : 1                             # coupling output at the last sample time
coupling : 1                         # W_res @ gate over the nodes of this sample
x_prev : 1                           # x at the previous sample time
t_start : second (shared)            # when the engine first ran: its tables start there
started : boolean (shared)
"""

_GATES = {
    "gated": "gate = tanh(x*g)",
    # expit(cos(atan2(y, ox))) with cos(atan2(y, ox)) = ox/sqrt(ox**2 + y**2), and 1 at the origin
    "phase": """ox = omega_p*x
                y = (x - x_prev)*fs + beta_p*x
                a2 = (ox**2 + y**2)*second**2
                gate = 1/(1 + exp(-(ox*second/sqrt(a2 + int(a2 == 0)) + int(a2 == 0))))""",
}


class BrianRRN:
    """An :class:`rrnsim.RRN` built as Brian2 objects for ``n_samples`` parallel input samples.

    Parameters
    ----------
    net : rrnsim.RRN
        The network to build (frequencies, damping, weights, coupling, noise and its seed).
    n_samples : int
        Independent copies of the network (the batch), one per input sample.
    n_steps : int or Brian2 time
        Length of the run in samples (``n_steps/fs`` seconds), or as a duration (e.g.
        ``100*ms``, a whole number of samples); fixes the input and noise tables.
    inputs : (n_samples, n_steps[, channels]) array or None
        Analog input ``u``; ``None`` for spike input only.
    substeps : int
        Integration steps per sample interval (rk4). rk4's phase error grows with run length and
        node frequency: over 10 s of white noise the golden network's 246 Hz node drifts to
        3.7e-3 of its RMS from the exact discrete states at 20 substeps (152 Hz: 4e-4; the
        others below 4e-5), and to 2.3e-4 at 40 (error ~ substeps**-4). With coupling, small
        differences also grow by the network's own sensitivity: compare the engines on short
        runs, and raise ``substeps`` for long runs of fast nodes.

    Attributes
    ----------
    oscillators : brian2.NeuronGroup — all oscillators, index ``sample*K + node``
    coupling_synapses : brian2.Synapses or None — ``W_res`` within each sample
    monitor : brian2.StateMonitor — ``x`` at every sample time
    network : brian2.Network — add your own groups and monitors to it (Brian2's magic
        ``run()`` does not see these objects: run :attr:`network` or a Network holding them)

    The engine may join a Network that has run already: its input and noise tables start at
    its first sample time there (the first multiple of ``1/fs`` at or after the Network's time),
    and its run ends ``n_steps/fs`` later.

    Brian2's runtime device only: a standalone device (``cpp_standalone``) is refused, because
    the engine reads its monitor and tables between and after runs.
    """

    def __init__(self, net, n_samples, n_steps, inputs=None, substeps=20):
        if not isinstance(b2.get_device(), RuntimeDevice):   # standalone: see the class doc
            raise RuntimeError(f"BrianRRN runs on Brian2's runtime device; the current device is "
                               f"{type(b2.get_device()).__name__} (set_device('runtime'))")
        substeps = count("substeps", substeps)    # whole: kicks land on integration steps
        if isinstance(n_steps, b2.Quantity):      # a duration: whole samples at fs
            n_steps = n_bins(positive("n_steps", n_steps, unit=pq.s), net.fs)
        self.net, self.n_samples, self.n_steps = (net, count("n_samples", n_samples),
                                                  count("n_steps", n_steps))
        K, fs = net.n_nodes, net.fs
        n_total = self.n_samples * K
        self.sample_clock = b2.Clock(dt=b2.second / fs, name="rrn_sample_clock*")
        omega_d, omega0 = oscillator.angular_frequencies(net.frequencies, net.radius, fs)
        omega_p, beta_p = net.paper_constants
        # the tables and constants live in the group's own namespace, and every object has a
        # unique name: several engines (and the user's groups) can share one Network. dt is
        # (1/fs)/substeps, a divisor of 1/fs in floating point as Brian2's TimedArray checks it
        G = b2.NeuronGroup(n_total, EQUATIONS, method="rk4", dt=self.sample_clock.dt / substeps,
                           namespace={"fs": fs * b2.Hz}, name="rrn_oscillators*")
        G.sample = np.repeat(np.arange(self.n_samples), K)
        G.node = np.tile(np.arange(K), self.n_samples)
        per_node = lambda values: np.tile(values, self.n_samples)  # noqa: E731
        G.beta = per_node(net.beta) * b2.Hz
        G.omega0 = per_node(omega0) * b2.Hz
        G.gain = per_node(oscillator.kick_gain(net.frequencies, net.radius, fs)) * b2.Hz
        G.omega_p = per_node(omega_p) * b2.Hz
        G.beta_p = per_node(beta_p) * b2.Hz
        G.state_updater.when = "end"  # kicks at time t act before integrating from t
        self.oscillators = G

        drive = "g + coupling"
        if inputs is not None:
            inputs = as_input(inputs, net.w_in.shape[1], name="inputs")
            if inputs.shape[:2] != (self.n_samples, self.n_steps):
                raise ValueError(f"inputs must have shape ({self.n_samples}, {self.n_steps}, "
                                 f"channels), got {inputs.shape}")
            g = np.einsum("btc,kc->tbk", inputs, net.w_in).reshape(self.n_steps, n_total)
            G.namespace["input_table"] = b2.TimedArray(g, dt=self.sample_clock.dt)
        noise = net.drive_noise(np.random.default_rng(net.seed), self.n_samples, self.n_steps)
        if noise is not None:
            table = noise.transpose(1, 0, 2).reshape(self.n_steps, n_total)
            G.namespace["noise_table"] = b2.TimedArray(table, dt=self.sample_clock.dt)
            drive += " + noise_table(t - t_start, i)"
        # the tables start at the first sample time the engine runs, which is not t = 0 when
        # its objects join a Network that has run already
        gather = ("t_start = t_start + int(not started)*(t - t_start)\nstarted = True\n"
                  + ("g = input_table(t - t_start, i) + u_spikes" if inputs is not None
                     else "g = u_spikes"))
        objects = [G]
        self.coupling_synapses = None
        if net.coupling != "none":
            gather += "\n" + _GATES[net.coupling]
            rows, cols = np.nonzero(net.w_res)  # w_res[post, pre]
            if rows.size:
                S = b2.Synapses(G, G, "w : 1\ncoupling_post = w*gate_pre : 1 (summed)",
                                name="rrn_coupling*")
                offsets = np.repeat(np.arange(self.n_samples) * K, rows.size)
                S.connect(i=np.tile(cols, self.n_samples) + offsets,
                          j=np.tile(rows, self.n_samples) + offsets)
                S.w = np.tile(net.w_res[rows, cols], self.n_samples)
                updater = S.summed_updaters["coupling_post"]
                updater.when, updater.order = "synapses", 2  # after gather, before the kick
                self.coupling_synapses = S
                objects.append(S)
        # 'synapses' slot: spike synapses (order -1), gather (1), W_res sum (2), kick (3).
        objects.append(G.run_regularly(gather, clock=self.sample_clock, when="synapses", order=1,
                                       name="rrn_gather*"))
        objects.append(G.run_regularly(f"v += ({drive})*gain\nu_spikes = 0\nx_prev = x",
                                       clock=self.sample_clock, when="synapses", order=3,
                                       name="rrn_kick*"))
        self.monitor = b2.StateMonitor(G, "x", record=True, clock=self.sample_clock, when="start",
                                       name="rrn_monitor*")
        objects.append(self.monitor)
        self.network = b2.Network(*objects)

    def connect_spikes(self, source, sample, channel=0):
        """Connect a Brian2 spike source: its neuron ``j`` drives sample ``sample[j]`` through
        input channel ``channel[j]`` with weights ``W_in[:, channel]``.

        Brian2 delivers spikes on the source's clock, whatever the ``Synapses``' own dt. Give
        the source the oscillators' clock (``clock=engine.oscillators.clock``) and each spike
        acts at its own time; a source on another dt delivers at its own time steps, and Brian2
        warns (``synapses_dt_mismatch``).

        Returns the ``brian2.Synapses`` (already added to :attr:`network`).
        """
        K = self.net.n_nodes
        sample, channel = np.asarray(sample), np.asarray(channel)
        for name, indices in (("sample", sample), ("channel", channel)):
            if indices.dtype.kind not in "iu":
                raise ValueError(f"{name} must hold integer indices, got dtype {indices.dtype}")
        try:
            sample = np.broadcast_to(sample, (len(source),))
            channel = np.broadcast_to(channel, (len(source),))
        except ValueError:
            raise ValueError(f"sample and channel must be one value or one per neuron of the "
                             f"source ({len(source)}), got shapes {np.shape(sample)} and "
                             f"{np.shape(channel)}") from None
        if sample.min() < 0 or sample.max() >= self.n_samples:
            raise ValueError(f"sample indices must be in [0, {self.n_samples}), got "
                             f"{sample.min()}..{sample.max()}")
        if channel.min() < 0 or channel.max() >= self.net.w_in.shape[1]:
            raise ValueError(f"channel indices must be in [0, {self.net.w_in.shape[1]}), got "
                             f"{channel.min()}..{channel.max()}")
        on_pre = "v_post += w*gain_post" if self.net.coupling == "none" else "u_spikes_post += w"
        S = b2.Synapses(source, self.oscillators, "w : 1", on_pre=on_pre, dt=source.clock.dt,
                        name="rrn_spike_input*")
        S.connect(i=np.repeat(np.arange(len(source)), K),
                  j=(sample[:, None] * K + np.arange(K)).ravel())
        S.w = self.net.w_in[:, channel].T.ravel()
        self.network.add(S)
        return S

    def run(self, **run_kwargs):
        """Run :attr:`network` for ``n_steps/fs``; return :meth:`states`.

        Keyword arguments go to ``brian2.Network.run`` (e.g. ``report="text"``, or
        ``namespace=`` for external names that objects you added use: the engine's own names are
        in its groups' namespaces, and the run namespace is empty by default). Runs once: the
        input and noise tables cover ``n_steps`` samples. To run several engines together, put
        their objects in one Network (``brian2.Network(a.network.objects, b.network.objects)``,
        after any ``connect_spikes`` and with your spike sources), run it for at least the
        longest engine's ``n_steps/fs`` and read each engine's :meth:`states`.
        """
        if len(self.monitor.t):     # run already, here or in another Network
            raise RuntimeError("this BrianRRN has run already; build a new one for another run")
        run_kwargs.setdefault("namespace", {})
        self.network.run(self.n_steps * self.sample_clock.dt, **run_kwargs)
        return self.states()

    def states(self):
        """The states x after a run, (n_samples, n_steps, K) float64: ``x[:, n]`` is the state at
        ``(n+1)/fs``, after the n-th kick, as in the discrete engine."""
        recorded = np.asarray(self.monitor.x)  # (oscillator, time): x at 0, 1/fs, ...
        if recorded.shape[1] < self.n_steps:
            raise RuntimeError(f"the network has run {recorded.shape[1]} of the {self.n_steps} "
                               f"sample times: run it for n_steps/fs, with run() or a "
                               f"brian2.Network holding network.objects (Brian2's magic "
                               f"run() does not see the engine's objects)")
        if recorded.shape[1] > self.n_steps:    # run on (with other engines): x at n_steps/fs
            states = recorded[:, 1:self.n_steps + 1]  # was recorded before the next kick
        else:   # the run stopped at n_steps/fs: the last state is the group's current x
            last = self.monitor.t[0] + self.n_steps * self.sample_clock.dt
            now = self.oscillators.clock.t_ * b2.second
            if abs(now - last) > self.oscillators.clock.dt / 2:
                raise RuntimeError(
                    f"the network stopped at {now}, not at the engine's last "
                    f"sample time {last}: it ran from its first sample time "
                    f"{self.monitor.t[0]} (the first multiple of 1/fs when it joined the "
                    f"Network), so run it on to {last} or beyond")
            states = np.concatenate([recorded[:, 1:], np.asarray(self.oscillators.x)[:, None]],
                                    axis=1)
        return states.reshape(self.n_samples, self.net.n_nodes, self.n_steps).transpose(0, 2, 1).copy()


def bin_spike_times(times_s, fs, n_steps, source_dt=None):
    """Spike counts per sample interval as the Brian2 engine sums them, (n_steps,) float64;
    ``times_s`` in s (or a time quantity), ``fs`` in Hz.

    A spike at time ``t`` (s) counts in ``u[n]`` with ``n = ceil(t*fs)`` (to within 1e-6 of a
    sample interval, so spikes on the sample grid count at their own sample): spikes in
    ``((n-1)/fs, n/fs]`` kick at ``n/fs``. Spikes past the last sample are an error.

    ``source_dt`` (s, or a time quantity): the time step of a Brian2 ``SpikeGeneratorGroup``
    that replays these times. Brian2 moves each spike down to the start of its step (to within
    1e-3 of a step), so a spike just after ``n/fs`` acts at ``n/fs``; the times are moved the
    same way before counting, and the counts are then what the engine sums. ``None``: the exact
    times (the same for spikes on that grid, as rrnsim's generators make them).
    """
    fs, n_steps = positive("fs", fs, unit=pq.Hz), count("n_steps", n_steps)
    times_s = np.asarray(in_unit("times_s", times_s, pq.s), dtype=float)
    if not np.isfinite(times_s).all():
        raise ValueError(f"spike times must be finite, got {times_s[~np.isfinite(times_s)][0]}")
    if source_dt is not None:   # as brian2.SpikeGeneratorGroup bins its spike times
        source_dt = positive("source_dt", source_dt, unit=pq.s)
        times_s = np.floor(times_s / source_dt + 1e-3) * source_dt
    steps = np.ceil(times_s * fs - 1e-6).astype(int)
    bad = (steps < 0) | (steps >= n_steps)
    if bad.any():
        raise ValueError(f"spike time {times_s[bad][0]} s is outside the run of "
                         f"{n_steps} samples at {fs} Hz")
    return np.bincount(steps, minlength=n_steps).astype(float)
