"""The resonant recurrent network: node parameters, coupling, and runs on either engine."""
from dataclasses import dataclass

import numpy as np
import quantities as pq

from . import oscillator
from .engines import discrete
from .specs import load_spec
from .validation import as_input, count, flag, float_array, in_unit, positive

__all__ = ["RRN", "RunResult"]

_BLOCK = 2048  # samples per block: bounds the memory of converted inputs, noise and states


@dataclass
class RunResult:
    """Node states of a run: ``x`` (batch, time, node), ``x[:, n]`` the state at ``(n+1)/fs`` s;
    ``fs`` the sampling rate (Hz), ``frequencies`` (node,) the node frequencies (Hz), ``engine``
    the engine that ran it ('discrete' or 'brian2')."""

    x: np.ndarray
    fs: float
    frequencies: np.ndarray
    engine: str

    @property
    def t(self):
        """Time (s) of each state sample, shape (time,): ``(n+1)/fs``."""
        return np.arange(1, self.x.shape[1] + 1) / self.fs

    def __repr__(self):
        batch, time, nodes = self.x.shape
        return (f"RunResult({batch} sample(s) x {time / self.fs:g} s x {nodes} nodes at "
                f"{self.fs:g} Hz, {self.engine} engine)")


class RRN:
    """A resonant recurrent network of damped oscillator nodes.

    Parameters
    ----------
    frequencies : sequence of float
        Node frequencies (Hz), each in (0, fs/2).
    radius : float or sequence of float
        AR(2) pole radius of each node, in (0, 1); damping rate ``beta = -ln(radius)*fs`` (1/s).
    fs : float
        Sampling rate (Hz) of inputs and states.
    w_res : (K, K) array or None
        Recurrent weights, zero diagonal; ``None`` is no coupling weights (zeros).
    w_in : (K, C) array or None
        Input weights for C input channels; ``None`` is ones, shape (K, 1).
    coupling : {"gated", "phase", "none"}
        How node outputs feed back (DESIGN.md): ``tanh(x*g)`` or ``expit(cos(phase))``.
    noise : float
        Standard deviation of Gaussian noise added to every node's drive at every step
        (dimensionless, as the drive; default 0: none).
    seed : int or None
        Seed of that noise: the same seed and the same batch give the same run. The noise is one
        stream over the batch in order, so a sample's noise depends on its place in the batch.
    """

    def __init__(self, frequencies, radius=0.99999, fs=1000.0, w_res=None, w_in=None,
                 coupling="gated", noise=0.0, seed=None):
        self.fs = positive("fs", fs, unit=pq.Hz)
        frequencies = np.atleast_1d(float_array("frequencies", in_unit("frequencies", frequencies, pq.Hz)))
        if frequencies.ndim != 1 or frequencies.size == 0:
            raise ValueError(f"frequencies must be a non-empty 1-d list of Hz, got shape "
                             f"{frequencies.shape}")
        radius = float_array("radius", in_unit("radius", radius, pq.dimensionless))
        try:
            radius = np.broadcast_to(radius, frequencies.shape).copy()
        except ValueError:
            raise ValueError(f"radius must be one value or one per node ({frequencies.size}), got "
                             f"shape {np.shape(radius)}") from None
        problems = [why for why in oscillator.stability_violations(frequencies, radius, self.fs) if why]
        if problems:
            raise ValueError("unstable node(s): " + "; ".join(problems))
        self.frequencies = frequencies
        self.radius = radius
        K = frequencies.size
        self.w_res = self._check_w_res(np.zeros((K, K)) if w_res is None else w_res, K)
        self.w_in = self._check_w_in(np.ones((K, 1)) if w_in is None else w_in, K)
        if not isinstance(coupling, str) or coupling not in discrete.COUPLINGS:
            raise ValueError(f"coupling must be one of {', '.join(discrete.COUPLINGS)}, got "
                             f"{coupling!r}")
        self.coupling = coupling
        self.noise = positive("noise", noise, allow_zero=True)  # std of the drive noise
        self.seed = None if seed is None else count("seed", seed, minimum=0)

    @staticmethod
    def _check_w_res(w_res, K):
        w_res = np.array(w_res, dtype=float)
        if w_res.shape != (K, K):
            raise ValueError(f"w_res must have shape ({K}, {K}) for {K} nodes, got {w_res.shape}")
        if not np.isfinite(w_res).all():
            raise ValueError("w_res has non-finite values")
        if np.any(np.diag(w_res) != 0):
            k = int(np.flatnonzero(np.diag(w_res))[0])
            raise ValueError(f"w_res must have a zero diagonal; w_res[{k}, {k}] = {w_res[k, k]}")
        return w_res

    @staticmethod
    def _check_w_in(w_in, K):
        w_in = np.array(w_in, dtype=float)
        if w_in.ndim == 1:
            w_in = w_in[:, None]
        if w_in.ndim != 2 or w_in.shape[0] != K:
            raise ValueError(f"w_in must have shape ({K}, channels) for {K} nodes, got {w_in.shape}")
        if not np.isfinite(w_in).all():
            raise ValueError("w_in has non-finite values")
        return w_in

    @classmethod
    def from_spec(cls, spec, **overrides):
        """A network from a shipped spec name ('golden', 'binary', 'e', 'linear', 'bands', or the
        paper's aliases 'two', 'log') or a TOML file path; keyword arguments override its settings.
        The node frequencies are the spec's layout at the spec's own ``fs_hz`` and ``radius``:
        overriding ``fs`` or ``radius`` keeps them (the golden spec keeps its 11 nodes at
        ``fs=2000``); pass ``frequencies=`` to change them."""
        spec = load_spec(spec)
        settings = dict(frequencies=spec.layout.frequencies_hz, radius=spec.radius, fs=spec.fs_hz,
                        coupling=spec.coupling, noise=spec.noise)
        settings.update(overrides)
        return cls(**settings)

    # --- derived node constants (plain float arrays, one value per node) ---
    @property
    def n_nodes(self):
        """Number of nodes K (int)."""
        return self.frequencies.size

    @property
    def dt(self):
        """Sample interval (s)."""
        return 1.0 / self.fs

    @property
    def w1(self):
        """AR(2) coefficient ``2*r*cos(2*pi*f/fs)`` of each node, (K,) dimensionless."""
        return oscillator.ar2_coefficients(self.frequencies, self.radius, self.fs)[0]

    @property
    def w2(self):
        """AR(2) coefficient ``-r**2`` of each node, (K,) dimensionless."""
        return oscillator.ar2_coefficients(self.frequencies, self.radius, self.fs)[1]

    @property
    def beta(self):
        """Damping rate of each node (1/s)."""
        return oscillator.damping_rate(self.radius, self.fs)

    @property
    def paper_constants(self):
        """The paper's ``(omega_p, beta_p)`` per node (rad/s, 1/s) for the amplitude feature."""
        return oscillator.paper_constants(self.w1, self.w2, self.fs)

    def __repr__(self):
        freqs = ", ".join(f"{f:.4g}" for f in self.frequencies)
        return (f"RRN(frequencies=[{freqs}] Hz, radius={np.unique(self.radius)}, fs={self.fs:g} Hz, "
                f"coupling={self.coupling!r}, noise={self.noise:g})")

    # --- running ---
    def drive_noise(self, rng, n_batch, n_time):
        """Noise added to the drive, (batch, time, K); ``None`` when the network is noiseless."""
        if self.noise == 0:
            return None
        return self.noise * rng.standard_normal((n_batch, n_time, self.n_nodes))

    def _blocks(self, X, record, n_windows=0, products=None, resonance=False):
        """Run the discrete engine block by block over the batch; yield its output dicts."""
        X = as_input(X, self.w_in.shape[1])
        n_windows = count("n_windows", n_windows, minimum=0)
        if products is not None:
            products = count("products", products, minimum=0)
        resonance = flag("resonance", resonance)
        rng = np.random.default_rng(self.seed)
        omega_p, beta_p = self.paper_constants
        w1, w2 = self.w1, self.w2
        for start in range(0, X.shape[0], _BLOCK):
            u = np.ascontiguousarray(X[start:start + _BLOCK], dtype=np.float64)
            noise = self.drive_noise(rng, u.shape[0], u.shape[1])
            out = discrete.simulate(u, self.w_in, w1, w2, self.w_res, self.coupling, omega_p,
                                    beta_p, self.fs, noise=noise, record=record,
                                    n_windows=n_windows, skip_silent=not record,
                                    products=products, resonance=resonance)
            overflowed = [key for key, value in out.items() if not np.isfinite(value).all()]
            if overflowed:
                raise FloatingPointError(
                    f"the network's {overflowed[0]} overflowed (not finite) for samples "
                    f"{start}-{start + u.shape[0] - 1}, whose input reaches {np.abs(u).max():g}: "
                    "scale the input down")
            yield out

    def run(self, X, engine="discrete", **engine_options):
        """Node states driven by inputs ``X`` (batch, time[, channels]).

        ``engine="discrete"`` runs the exact AR(2) recursion; ``engine="brian2"`` builds and runs
        the same network in Brian2 (:class:`rrnsim.engines.brian.BrianRRN`; options: ``substeps``
        (20) and those of ``brian2.Network.run``, e.g. ``report="text"``).
        Returns a :class:`RunResult` with ``x`` of shape (batch, time, node), float64.
        """
        if engine == "discrete":
            if engine_options:
                raise TypeError(f"the discrete engine takes no options, got {sorted(engine_options)}")
            states = np.concatenate([out["states"] for out in self._blocks(X, record=True)])
        elif engine == "brian2":
            from .engines.brian import BrianRRN
            if "duration" in engine_options:
                raise TypeError("the Brian2 engine runs for the input's length, X.shape[1]/fs; "
                                "give no duration")
            X = as_input(X, self.w_in.shape[1])
            substeps = engine_options.pop("substeps", 20)
            states = BrianRRN(self, X.shape[0], X.shape[1], inputs=X,
                              substeps=substeps).run(**engine_options)
        else:
            raise ValueError(f"engine must be 'discrete' or 'brian2', got {engine!r}")
        return RunResult(states, self.fs, self.frequencies.copy(), engine)

    def features(self, X):
        """The paper's feature per node: mean over time of A**2, shape (batch, K), float64.

        Streams over time: beyond the input, memory is O(batch x K) plus the engine's
        closed-form tables, at most K x 4097 entries whatever the length of the run. A noisy
        network (``noise`` > 0) also draws the noise of each block of up to 2,048 samples whole:
        2,048 x time x K floats.
        """
        return self.summaries(X)["power"]

    def summaries(self, X, n_windows=0, products=None, resonance=False):
        """Streamed summaries of the states (discrete engine), without keeping the states.

        Returns a dict: ``power`` (batch, K), the paper's mean A**2; with ``n_windows`` > 0 also
        ``window_x`` and ``window_q`` (batch, n_windows, K): the mean of x and of its quadrature
        ``q = (v + beta_p*x)/omega_p`` in consecutive equal windows of the run — they keep the
        phase that the power discards; with ``products`` (an int band) also ``products``
        (batch, F): the mean products of the x and q of nodes at most ``products`` apart in node
        order (:mod:`rrnsim.engines.products`); with ``resonance`` also ``resonance_x`` and
        ``resonance_q`` (batch, K): the means over time of ``g[n]*x[n-1]`` and ``g[n]*q[n-1]``,
        g = W_in @ u the node's input. For a spike train they sample each node's oscillation at
        the spike times: positive when spikes arrive in step with the rhythm that earlier spikes
        set up, so they measure the train's periodicity at each node's frequency.
        """
        blocks = list(self._blocks(X, record=False, n_windows=n_windows, products=products,
                                   resonance=resonance))
        return {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}

    def n_parameters(self, n_classes=10):
        """Trainable parameters of the paper's classifier: W_res off-diagonal (none with coupling
        "none", where it has no effect), normalisation (scale and shift per node) and the linear
        readout (weights and biases)."""
        K, n_classes = self.n_nodes, count("n_classes", n_classes, minimum=2)
        return K * (K - 1) * (self.coupling != "none") + 2 * K + (K + 1) * n_classes
