"""``RRNClassifier``: a resonant recurrent network trained by back-propagation through time.

The model (DESIGN.md): oscillator network -> per-node summaries of its states -> batch-norm-style
normalisation (learned scale and shift) -> softmax readout. ``features="power"`` with one readout
component is the paper's model exactly; ``RRNClassifier(**PAPER_SETTINGS)`` also trains it as the
paper's code does (``lr=3e-3`` for every weight, no prior on the readout). The default
``features="centred"`` adds the phase-keeping window means of x and of its quadrature, each
node's resonance with the fluctuations of its input about the trial's mean (second-order:
whether the input arrives in step with the node's oscillation; :mod:`rrnsim.engines.centring`),
the trial's mean input, and a mixture readout that combines them non-linearly.
"""
import contextlib
import functools
import importlib
import inspect
import json
import os
import re
import warnings
from types import MappingProxyType

import numpy as np
from scipy.special import expit, log_softmax, logit
from threadpoolctl import ThreadpoolController

from . import __version__
from .engines import centring, discrete, products as state_products
from .io import load_arrays, save_arrays
from .network import RRN
from .validation import as_input, count, flag, fraction, positive
from .optim import AdamW, clip_grad_norm, one_cycle_lr
from .readout import BatchNorm, MixtureReadout, cross_entropy, ridge_penalty, ridge_refit
from .specs import load_spec

__all__ = ["RRNClassifier", "FEATURES", "PAPER_SETTINGS"]

#: Feature sets: the paper's mean A**2 per node; log power plus phase-keeping window means
#: (plus, with ``products``, the time-averaged products of neighbouring nodes' states); those
#: plus each node's resonance with its input; and (the default) those with the resonance
#: centred on the trial's mean drive, plus the trial's mean input.
FEATURES = ("power", "phase", "resonance", "centred")
#: The paper's model, trained as the paper's code trains it: ``RRNClassifier(**PAPER_SETTINGS)``
#: (read-only).
PAPER_SETTINGS = MappingProxyType(
    {"features": "power", "lr": 3e-3, "recurrent_lr_scale": 1.0, "readout_alpha": 0.0})
_MAX_GRAD_NORM = 1.0
_POWER_FLOOR = 1e-30  # keeps log(power) finite for an input without any drive (power 0)


def _validation_split(y_index, n_val, rng):
    """Validation and training indices (each (n,) int) for class indices ``y_index``: each
    class gives its share of the ``n_val`` validation samples in proportion to its size (the
    largest remainders round up) and keeps at least one training sample; its samples are drawn
    at random from ``rng``. Fewer than ``n_val`` only where classes are too small to give."""
    counts = np.bincount(y_index)
    share = n_val * counts / counts.sum()
    take = np.floor(share).astype(int)
    take[np.argsort(take - share, kind="stable")[:n_val - take.sum()]] += 1
    take = np.minimum(take, counts - 1)
    members = [rng.permutation(np.flatnonzero(y_index == c)) for c in range(counts.size)]
    return (np.concatenate([m[:k] for m, k in zip(members, take)]),
            np.concatenate([m[k:] for m, k in zip(members, take)]))


def _sklearn_exception(name, fallback):
    """scikit-learn's exception or warning class ``name`` (a subclass of ``fallback``) when it is
    installed, so that its tools and user code that catch it do; else ``fallback``. Imported
    only when needed: scikit-learn takes most of a second to import."""
    try:
        return getattr(importlib.import_module("sklearn.exceptions"), name)
    except ImportError:
        return fallback


def _labels(y, n_samples):
    """Class labels ``y`` as an array of shape (n_samples,); a column vector (n_samples, 1) is
    flattened with scikit-learn's DataConversionWarning, anything else is an error."""
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None: give the class "
                         "labels")
    y = np.asarray(y)
    if y.shape == (n_samples, 1):
        warnings.warn(_sklearn_exception("DataConversionWarning", UserWarning)(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples,), for example using ravel()."), stacklevel=3)
        y = y.ravel()
    if y.shape != (n_samples,):
        raise ValueError(f"y must have shape ({n_samples},) to match X, got {y.shape}")
    return y


def _label_kind(labels):
    """'number', 'string' or 'bytes': the kind of an array of class labels (object arrays by
    their items)."""
    kinds = {"U": "string", "S": "bytes"}
    if labels.dtype.kind != "O":
        return kinds.get(labels.dtype.kind, "number")
    items = {type(v) for v in labels.tolist()}
    return "string" if items <= {str} else "bytes" if items <= {bytes} else "number"


@functools.cache
def _thread_pools():
    """The process's thread pools, found once (3 ms); limiting them then costs microseconds."""
    return ThreadpoolController()


class RRNClassifier:
    """Classify sequences with a gradient-trained resonant recurrent network (scikit-learn API).

    Parameters
    ----------
    spec : str
        Network spec name or TOML path (``rrnsim models`` lists them).
    features : {"centred", "power", "phase", "resonance"}
        ``"power"``: the paper's feature, the mean over time of A**2 per node (K features).
        ``"phase"``: log power plus the mean of x and of its quadrature in ``windows`` consecutive
        windows (K*(1 + 2*windows) features): keeps the phase relative to the sequence start.
        ``"resonance"``: the ``"phase"`` features plus each node's resonance with its input, the
        means over time of ``g[n]*x[n-1]`` and ``g[n]*q[n-1]`` (g the node's input; 2K more
        features): positive when the input arrives in step with the node's ongoing oscillation,
        so for a spike train they measure its periodicity at each node's frequency.
        ``"centred"`` (the default): the ``"resonance"`` features with the resonance taken with
        the input's fluctuations about the trial's mean: the trial's mean drive gbar times the
        node's own response to it, linear in the input and large (a node rings after a constant
        drive starts), is taken out (:mod:`rrnsim.engines.centring`); plus the trial's mean
        input per channel (C more features). On the spike task 0.7065 against 0.700 with
        ``"resonance"`` over seeds 5-19 (14 of 15 seeds higher).
    windows : int
        Windows of the ``"phase"``, ``"resonance"`` and ``"centred"`` features.
    components : int or None
        Linear templates per class in the readout, combined by log-sum-exp (a mixture); ``None``
        is 1 for ``"power"`` (the paper's linear readout) and 2 otherwise.
    products : int or None
        With other features than ``"power"``, also the mean over time of the products of
        the state signals x and q of every pair of nodes at most ``products`` apart in node order
        (:mod:`rrnsim.engines.products`; 109 more features for 11 nodes and ``products=2``).
        More accurate (sequential MNIST, spike task); an epoch of sequential MNIST takes about
        2.5x as long. ``None``: none.
    refit_alpha : float or None
        After training (and the choice of the kept epoch), refit the readout's weights and
        biases on the trained network's normalised features of all the training data (the
        validation split included) by L-BFGS, from the trained readout, minimising the mean
        cross-entropy plus ``refit_alpha / n_samples * sum(weights**2)`` (a ridge prior whose
        strength shrinks as the data grow); ``None``: keep the gradient-trained readout.
    train_recurrent : bool
        Train W_res (off-diagonal) by back-propagation through time; else only the normalisation
        and the readout train, on fixed oscillators (W_res stays at its random start, std
        ``w_res_init``). A spec with coupling ``"none"`` has no W_res to train: it neither
        trains nor counts in ``n_parameters_``.
    train_input, train_nodes : bool
        Also train W_in, and the node frequencies and damping (kept stable and below Nyquist by
        ``f = fs/2 * sigmoid(a)``, ``beta = exp(b)``, ``r = exp(-beta/fs)``). Training the nodes
        is the most accurate setting measured here (sequential MNIST 0.971 after 30 epochs
        against the default's 0.954; spike task 0.709 against 0.702; five bands 0.620 against
        0.587), at more time per epoch (30 sMNIST epochs: 107 s against 75 s; more with
        ``products``, whose node gradients step through input-free stretches).
    epochs, batch_size, lr, weight_decay, label_smoothing : training settings (AdamW with a
        one-cycle schedule peaking at ``lr``; gradient norm clipped at 1; weight decay on the
        weights, not on normalisation or node parameters). ``batch_size`` >= 2, and every batch
        holds at least two samples: the normalisation needs batch statistics.
    readout_alpha : float
        A Gaussian prior on the readout's weights: the training loss adds
        ``readout_alpha / n_train * sum(readout_weight**2)`` (n_train: the samples trained on,
        the validation split excluded), a ridge penalty whose strength fades as the data grow,
        as ``refit_alpha``'s. It keeps a mixture readout from fitting the noise of a small data
        set: on the spike task (900 trains, 0.033 per squared weight) 0.696 against 0.688
        without, on the five-band task 0.572 against 0.531; on sequential MNIST (55,000 images)
        0.952 against 0.954 (measured with ``features="resonance"``, before the validation
        split was stratified). AdamW's
        weight decay cannot do this: it shrinks by ``lr * weight_decay`` per step, which the
        one-cycle schedule anneals away. 0: none, as the paper.
    recurrent_lr_scale : float
        W_res learns at ``recurrent_lr_scale * lr``. Adam moves every weight by about the
        learning rate per step whatever its size, and W_res starts at std ``w_res_init`` (0.01)
        where the readout's weights are of order 1: at the full rate it leaves that range within
        a few epochs and overfits (spike task at ``lr=1e-2``, before the readout prior: 0.69
        against 0.70 at 0.1x).
    validation_fraction : float
        Fraction of the training data held out (at least one sample if > 0), stratified: each
        class gives its share in proportion to its size and keeps at least one training sample
        (so a class of one sample is never held out), to pick the best epoch by its validation
        loss (cross-entropy): the latest epoch whose loss is within one
        standard error of the lowest (the one-standard-error rule). Later epochs of the
        one-cycle schedule are annealed; on a small split, a lower loss earlier is mostly noise.
        0: keep the last epoch.
    w_res_init : float
        Standard deviation of the initial random W_res (off-diagonal).
    seed : int or None
        Seeds every random choice: same seed, same model (``None``: fresh entropy each fit).
    verbose : bool
        A progress bar per epoch with the training loss, then the validation loss and accuracy.

    Attributes (after ``fit``)
    --------------------------
    classes_, network_ (the trained :class:`rrnsim.RRN`), params_, best_epoch_ (the kept epoch),
    n_channels_, n_steps_ (the training trials' length in samples; ``None`` for files from
    before it was saved), n_parameters_, history_ (one dict per epoch: ``epoch``, ``train_loss`` (the
    batches' mean cross-entropy plus the readout prior), and with a validation split
    ``val_accuracy``, ``val_loss`` (cross-entropy) and its standard error ``val_loss_se``)
    """

    _estimator_type = "classifier"  # scikit-learn before 1.6 reads this; later, the tags

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (asked for by its model selection; sklearn >= 1.6)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags, TransformerTags
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags(three_d_array=True),
                    transformer_tags=TransformerTags(preserves_dtype=["float64"]))

    def __init__(self, spec="golden", features="centred", windows=2, components=None,
                 products=None, refit_alpha=None,
                 train_recurrent=True, train_input=False, train_nodes=False, epochs=30,
                 batch_size=128, lr=1e-2, weight_decay=1e-2, readout_alpha=30.0,
                 label_smoothing=0.0,
                 recurrent_lr_scale=0.1, validation_fraction=0.1, w_res_init=0.01, seed=0,
                 verbose=True):
        self.spec = spec
        self.features = features
        self.windows = windows
        self.components = components
        self.products = products
        self.refit_alpha = refit_alpha
        self.train_recurrent = train_recurrent
        self.train_input = train_input
        self.train_nodes = train_nodes
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.readout_alpha = readout_alpha
        self.label_smoothing = label_smoothing
        self.recurrent_lr_scale = recurrent_lr_scale
        self.validation_fraction = validation_fraction
        self.w_res_init = w_res_init
        self.seed = seed
        self.verbose = verbose

    # --- scikit-learn parameter protocol ---
    @classmethod
    def _param_names(cls):
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        """The constructor's arguments as a dict (scikit-learn's protocol; ``deep`` is unused)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor arguments by name; returns self. An unknown name is an error."""
        for name, value in params.items():
            if name not in self._param_names():
                raise ValueError(f"unknown parameter {name!r} for RRNClassifier")
            setattr(self, name, value)
        return self

    def __repr__(self):
        changed = {k: v for k, v in self.get_params().items()
                   if v != inspect.signature(type(self).__init__).parameters[k].default}
        return f"RRNClassifier({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # --- model pieces ---
    @property
    def _n_windows(self):
        return 0 if self.features == "power" else int(self.windows)

    @property
    def _products_band(self):
        """Band of the products features, or None (off; always off for "power")."""
        if self.features == "power" or self.products is None:
            return None
        return int(self.products)

    @property
    def _resonance(self):
        """Whether the engine computes the resonance summaries (which the centred ones use)."""
        return self.features in ("resonance", "centred")

    @property
    def _n_components(self):
        if self.components is not None:
            return int(self.components)
        return 1 if self.features == "power" else 2

    def _check_model_settings(self):
        """The settings that shape a fitted model (what ``load`` must understand)."""
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, got {self.features!r}")
        if self.features != "power":
            count("windows", self.windows)
        if self.products is not None:
            count("products", self.products, minimum=0)
        if self.components is not None:
            count("components", self.components)

    def _check_settings(self):
        self._check_model_settings()
        for name in ("train_recurrent", "train_input", "train_nodes", "verbose"):
            flag(name, getattr(self, name))
        count("epochs", self.epochs)
        count("batch_size", self.batch_size, minimum=2)  # batch statistics need two samples
        if self.seed is not None:  # None: fresh entropy, as numpy's default_rng(None)
            count("seed", self.seed, minimum=0)
        if self.refit_alpha is not None:
            positive("refit_alpha", self.refit_alpha)
        positive("lr", self.lr)
        positive("recurrent_lr_scale", self.recurrent_lr_scale)
        for name in ("weight_decay", "readout_alpha", "w_res_init"):
            positive(name, getattr(self, name), allow_zero=True)
        for name in ("validation_fraction", "label_smoothing"):
            fraction(name, getattr(self, name))

    def _trainable(self):
        """Names of the trained parameters (after ``_init``: W_res only where it couples)."""
        names = ["bn_scale", "bn_shift", "readout_weight", "readout_bias"]
        if self.train_recurrent and self.network_.coupling != "none":
            names.append("w_res")
        if self.train_input:
            names.append("w_in")
        if self.train_nodes:
            names += ["node_f", "node_beta"]
        return names

    def _summaries_to_features(self, out):
        """(batch, D) features from the engine's summaries."""
        if self.features == "power":
            return out["power"]
        n = out["power"].shape[0]
        parts = [np.log(out["power"] + _POWER_FLOOR), out["window_x"].reshape(n, -1),
                 out["window_q"].reshape(n, -1)]
        if self._products_band is not None:
            parts.append(out["products"])
        if self.features == "resonance":
            parts += [out["resonance_x"], out["resonance_q"]]
        elif self.features == "centred":
            parts += [out["centred_x"], out["centred_q"], out["mean_input"]]
        return np.concatenate(parts, axis=1)

    def _add_centred(self, u, out):
        """For ``features="centred"``: add the centred resonance and the mean inputs of inputs
        ``u`` (batch, time, channels) to the engine's summaries ``out`` of them, and return the
        :class:`rrnsim.engines.centring.CentredResonance` that back-propagates through them;
        else None."""
        if self.features != "centred":
            return None
        net = self.network_
        centred = centring.CentredResonance(u, net.w_in, net.w1, net.w2, *net.paper_constants,
                                            net.fs, out)
        out.update(centred.features())
        return centred

    def _scores(self, F, training):
        z, bn_cache = BatchNorm().forward(F, {"scale": self.params_["bn_scale"],
                                              "shift": self.params_["bn_shift"]},
                                          self.bn_state_, training)
        readout = MixtureReadout(self._n_components)
        logits, ro_cache = readout.forward(z, {"weight": self.params_["readout_weight"],
                                               "bias": self.params_["readout_bias"]})
        return logits, (bn_cache, ro_cache)

    def _sync_network(self):
        """Copy the trainable oscillator parameters into ``network_``."""
        net, p = self.network_, self.params_
        net.w_res = p["w_res"] * (1 - np.eye(net.n_nodes))
        net.w_in = p["w_in"]
        if self.train_nodes:
            net.frequencies = net.fs / 2 * expit(p["node_f"])
            net.radius = np.exp(-np.exp(p["node_beta"]) / net.fs)

    def _n_features(self, K, n_channels):
        """Features per sample for K nodes and ``n_channels`` input channels."""
        n_features = K * (1 + 2 * self._n_windows + 2 * self._resonance)
        if self.features == "centred":
            n_features += n_channels      # the trials' mean inputs
        if self._products_band is not None:
            n_features += state_products.n_features(K, self._products_band)
        return n_features

    def _param_shapes(self, n_classes):
        """The shape of every parameter array and running statistic of the fitted model."""
        K = self.network_.n_nodes
        D = self._n_features(K, self.n_channels_)
        return {"w_res": (K, K), "w_in": (K, self.n_channels_), "node_f": (K,),
                "node_beta": (K,), "bn_scale": (D,), "bn_shift": (D,),
                "readout_weight": (n_classes, self._n_components, D),
                "readout_bias": (n_classes, self._n_components),
                "running_mean": (D,), "running_var": (D,)}

    def _init(self, n_channels, n_classes, rng):
        spec = load_spec(self.spec)
        if spec.coupling not in ("gated", "none"):
            raise ValueError(f"training supports coupling 'gated' or 'none'; spec {self.spec!r} "
                             f"has {spec.coupling!r}")
        if spec.noise != 0:
            raise ValueError(f"training runs noiseless networks; spec {self.spec!r} has noise "
                             f"{spec.noise}")
        K = spec.layout.frequencies_hz.size
        w_res = rng.normal(0.0, self.w_res_init, (K, K)) * (1 - np.eye(K))
        self.network_ = RRN(spec.layout.frequencies_hz, radius=spec.radius, fs=spec.fs_hz,
                            w_res=w_res, w_in=np.ones((K, n_channels)), coupling=spec.coupling)
        net = self.network_
        n_features = self._n_features(K, n_channels)
        bn, self.bn_state_ = BatchNorm.init(n_features)
        readout = MixtureReadout(self._n_components).init(n_features, n_classes, rng)
        self.params_ = {"w_res": w_res, "w_in": net.w_in.copy(),
                        "node_f": logit(2 * net.frequencies / net.fs),
                        "node_beta": np.log(net.beta),
                        "bn_scale": bn["scale"], "bn_shift": bn["shift"],
                        "readout_weight": readout["weight"], "readout_bias": readout["bias"]}

    # --- training ---
    @property
    def _fixed_oscillators(self):
        """True when only normalisation and readout train: the features never change."""
        return not {"w_res", "w_in", "node_f", "node_beta"} & set(self._trainable())

    def _readout_gradients(self, F, y, l2):
        """Loss (with the ridge penalty ``l2`` on the readout's weights), gradients (dict) of
        normalisation and readout, and dL/dF on features F (batch, D) with labels ``y``
        (batch,)."""
        p = self.params_
        logits, (bn_cache, ro_cache) = self._scores(F, training=True)
        loss, d_logits = cross_entropy(logits, y, self.label_smoothing)
        penalty, d_penalty = ridge_penalty(p["readout_weight"], l2)
        d_z, g_ro = MixtureReadout.backward(d_logits, {"weight": p["readout_weight"]}, ro_cache)
        d_F, g_bn = BatchNorm.backward(d_z, {"scale": p["bn_scale"]}, bn_cache)
        return loss + penalty, {"bn_scale": g_bn["scale"], "bn_shift": g_bn["shift"],
                                "readout_weight": g_ro["weight"] + d_penalty,
                                "readout_bias": g_ro["bias"]}, d_F

    def _gradients(self, u, y, l2):
        """Loss and gradients (dict) on one batch ``u`` (batch, time, channels), through the
        oscillators; ``l2``: the ridge penalty on the readout's weights."""
        net, p = self.network_, self.params_
        omega_p, beta_p = net.paper_constants
        w1, w2 = net.w1, net.w2
        skip = not discrete.steps_through_silence(self.train_nodes, self._products_band)
        out = discrete.simulate(u, net.w_in, w1, w2, net.w_res, net.coupling, omega_p, beta_p,
                                net.fs, record=True, record_gates=True, n_windows=self._n_windows,
                                skip_silent=skip, products=self._products_band,
                                resonance=self._resonance)
        centred = self._add_centred(u, out)
        loss, grads, d_F = self._readout_gradients(self._summaries_to_features(out), y, l2)
        K, W, n = net.n_nodes, self._n_windows, u.shape[0]
        d = {}  # dL/d(summary), split in the order of _summaries_to_features
        if self.features == "power":
            d["power"] = d_F
        else:
            sizes = {"power": K, "window_x": W * K, "window_q": W * K}
            if self._products_band is not None:
                sizes["products"] = out["products"].shape[1]
            if self.features == "resonance":
                sizes.update(resonance_x=K, resonance_q=K)
            elif self.features == "centred":   # the mean inputs have no parameters
                sizes.update(centred_x=K, centred_q=K, mean_input=u.shape[2])
            parts = np.split(d_F, np.cumsum(list(sizes.values()))[:-1], axis=1)
            d = dict(zip(sizes, parts))
            d["power"] = d["power"] / (out["power"] + _POWER_FLOOR)
            d["window_x"] = d["window_x"].reshape(n, W, K)
            d["window_q"] = d["window_q"].reshape(n, W, K)
            if self.features == "centred":
                d_summaries, g_centred = centred.backward(d["centred_x"], d["centred_q"],
                                                          nodes=self.train_nodes)
                d["resonance_x"] = d_summaries["resonance_x"]
                d["resonance_q"] = d_summaries["resonance_q"]
                d["window_x"] = d["window_x"] + d_summaries["window_x"]
                d["window_q"] = d["window_q"] + d_summaries["window_q"]
        g_osc = discrete.backward(u, net.w_in, w1, w2, net.w_res, net.coupling, omega_p, beta_p,
                                  net.fs, out["states"], out["gates"], d["power"],
                                  d.get("window_x"), d.get("window_q"), nodes=self.train_nodes,
                                  products=self._products_band, d_products=d.get("products"),
                                  d_resonance_x=d.get("resonance_x"),
                                  d_resonance_q=d.get("resonance_q"), skip_silent=skip)
        if self.features == "centred":   # the paths through the mean drive and step response
            for name, g in g_centred.items():
                g_osc[name] += g
        if "w_res" in self._trainable():
            grads["w_res"] = g_osc["w_res"] * (1 - np.eye(K))
        if self.train_input:
            grads["w_in"] = g_osc["w_in"]
        if self.train_nodes:
            theta = 2 * np.pi * net.frequencies / net.fs
            r = net.radius
            d_theta = g_osc["w1"] * (-2 * r * np.sin(theta))
            d_r = g_osc["w1"] * 2 * np.cos(theta) - g_osc["w2"] * 2 * r
            s = expit(p["node_f"])
            grads["node_f"] = d_theta * np.pi * s * (1 - s)
            grads["node_beta"] = d_r * r * (-net.beta / net.fs)
        return loss, grads

    def fit(self, X, y):
        """Train on ``X`` (samples, time[, channels]) with class labels ``y`` (samples,):
        integers, strings or whole-number floats. Returns self."""
        self._check_settings()
        X = as_input(X)
        y = _labels(y, X.shape[0])
        if y.dtype.kind in "fc" and not np.isfinite(y).all():
            bad = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(f"y must hold finite labels, got {y[bad]} at index {bad}")
        if y.dtype.kind in "fc" and (y != np.round(y)).any():  # as scikit-learn: not a target
            bad = int(np.flatnonzero(y != np.round(y))[0])
            raise ValueError(f"y must hold class labels, got the continuous value {y[bad]} at "
                             f"index {bad} (Unknown label type: continuous)")
        try:
            classes, y_index = np.unique(y, return_inverse=True)
        except TypeError:  # e.g. None among the labels, or numbers mixed with strings
            raise ValueError("y must hold labels of one kind (all integers or all strings), got "
                             f"types {sorted({type(v).__name__ for v in y.tolist()})}") from None
        if classes.dtype == object:  # e.g. Python ints: a plain dtype, saved without pickle
            classes = np.asarray(classes.tolist())
        if len(classes) < 2:
            raise ValueError(f"need at least two classes, got 1 class: {classes.tolist()}")
        n_val = int(round(self.validation_fraction * len(y_index)))
        if self.validation_fraction > 0:
            n_val = max(n_val, 1)   # a small data set still gets a validation sample
        if len(y_index) - n_val < 2:
            raise ValueError(f"only {len(y_index) - n_val} training sample(s) after the "
                             "validation split")
        self._check_windows(X.shape[1])
        with self._unchanged_on_failure():
            self._train(X, classes, y_index, n_val)
        return self

    @contextlib.contextmanager
    def _unchanged_on_failure(self):
        """On an error (or an interrupt) inside, put the fitted attributes back as they were:
        the previous model, or none. A failed fit never leaves a half-initialised model."""
        fitted = {name: value for name, value in vars(self).items() if name.endswith("_")}
        try:
            yield
        except BaseException:
            for name in [name for name in vars(self) if name.endswith("_")]:
                delattr(self, name)
            vars(self).update(fitted)
            raise

    def _check_windows(self, n_steps):
        """Trials of ``n_steps`` samples must hold at least one sample per window."""
        if n_steps < self._n_windows:
            raise ValueError(f"windows={self.windows} needs trials of at least {self._n_windows} "
                             f"samples, got {n_steps} (n_features={n_steps}: X's columns are "
                             "time steps)")

    def _train(self, X, classes, y_index, n_val):
        """Initialise the model and train it on ``X`` (samples, time, channels) with class
        indices ``y_index`` (samples,), holding ``n_val`` samples out for validation."""
        rng = np.random.default_rng(self.seed)
        self.classes_, self.n_channels_, self.n_steps_ = classes, X.shape[2], X.shape[1]
        self._init(self.n_channels_, len(self.classes_), rng)
        val, train = _validation_split(y_index, n_val, rng)
        n_val = len(val)
        l2 = self.readout_alpha / len(train)
        # fixed oscillators: the features never change, so compute them once
        features = self.transform(X) if self._fixed_oscillators else None
        trainable = self._trainable()
        optimiser = AdamW({k: self.params_[k] for k in trainable},
                          decay=[k for k in ("w_res", "w_in", "readout_weight") if k in trainable],
                          lr_scale={"w_res": self.recurrent_lr_scale} if "w_res" in trainable
                          else None)
        # at least two samples per batch (batch statistics), else batch_size at most
        steps_per_epoch = min(int(np.ceil(len(train) / self.batch_size)), len(train) // 2)
        total_steps = self.epochs * steps_per_epoch
        self.history_, snapshots = [], []
        step = 0
        # one BLAS thread while training: the readout's small matrix products gain nothing from
        # more, and BLAS threads left spinning after them slow numba's threads up to 2x
        with _thread_pools().limit(limits=1, user_api="blas"):
            for epoch in range(self.epochs):
                batches = np.array_split(rng.permutation(train), steps_per_epoch)
                losses = []
                bar = _progress(batches, f"epoch {epoch + 1}/{self.epochs}", self.verbose)
                for batch in bar:
                    batch = np.sort(batch)
                    if features is None:
                        u = np.ascontiguousarray(X[batch], dtype=np.float64)
                        loss, grads = self._gradients(u, y_index[batch], l2)
                    else:
                        loss, grads, _ = self._readout_gradients(features[batch], y_index[batch],
                                                                 l2)
                    clip_grad_norm(grads, _MAX_GRAD_NORM)
                    lr = one_cycle_lr(step, total_steps, self.lr)
                    optimiser.step(self.params_, grads, lr, self.weight_decay)
                    self._sync_network()
                    losses.append(loss)
                    step += 1
                    if self.verbose:
                        bar.set_postfix(loss=f"{np.mean(losses):.4f}")
                record = {"epoch": epoch + 1, "train_loss": float(np.mean(losses))}
                if n_val:
                    logits = self._scores(self.transform(X[val]) if features is None
                                          else features[val], training=False)[0]
                    val_losses = -log_softmax(logits, axis=1)[np.arange(n_val), y_index[val]]
                    record["val_accuracy"] = float(np.mean(logits.argmax(1) == y_index[val]))
                    record["val_loss"] = float(val_losses.mean())
                    record["val_loss_se"] = float(val_losses.std() / np.sqrt(n_val))
                    snapshots.append(self._snapshot())
                self.history_.append(record)
                if self.verbose:
                    bar.close()
                    print(f"epoch {epoch + 1}/{self.epochs}: loss {record['train_loss']:.4f}"
                          + (f", validation loss {record['val_loss']:.4f}, accuracy "
                             f"{record['val_accuracy']:.4f}" if n_val else ""))
        self.best_epoch_ = int(_one_standard_error_epoch(self.history_) if n_val else self.epochs)
        if n_val:
            self._restore(snapshots[self.best_epoch_ - 1])
        if self.refit_alpha is not None:
            self._refit(X, y_index)
        self.n_parameters_ = int(sum(self.params_[k].size for k in trainable)
                                 - (self.network_.n_nodes if "w_res" in trainable else 0))

    def _refit(self, X, y_index):
        """Refit the readout on the normalised features of all of ``X`` by L-BFGS with the L2
        penalty ``refit_alpha / n`` (see the class docstring), from the trained readout."""
        p = self.params_
        z = BatchNorm().forward(self.transform(X), {"scale": p["bn_scale"], "shift": p["bn_shift"]},
                                self.bn_state_, training=False)[0]
        refit = ridge_refit(z, y_index, {"weight": p["readout_weight"], "bias": p["readout_bias"]},
                            self.refit_alpha / len(y_index))
        p["readout_weight"][...] = refit["weight"]
        p["readout_bias"][...] = refit["bias"]

    def _snapshot(self):
        return ({k: v.copy() for k, v in self.params_.items()},
                {k: v.copy() for k, v in self.bn_state_.items()})

    def _restore(self, snapshot):
        params, bn_state = snapshot
        for k in params:
            self.params_[k][...] = params[k]
        for k in bn_state:
            self.bn_state_[k][...] = bn_state[k]
        self._sync_network()

    # --- prediction ---
    def _check_fitted(self):
        """Before fit: scikit-learn's NotFittedError (a ValueError) when it is installed, which
        its tools and user code catch; else a ValueError."""
        if not hasattr(self, "params_"):
            raise _sklearn_exception("NotFittedError", ValueError)(
                "this RRNClassifier is not fitted yet: call fit(X, y) first")

    def transform(self, X):
        """The features the readout sees, before normalisation: (samples, D) float64.

        ``X`` (samples, time[, channels]) may be longer or shorter in time than the training
        data, and every feature is a mean over time (the windows split each sequence into
        equal parts). But the oscillators barely decay (r close to 1): their states build up
        over a trial, so over another length the same input gives other features, and a
        warning says so."""
        return self._summaries_to_features(self._summaries(self._prediction_input(X)))

    def summaries(self, X):
        """The fitted network's summaries of ``X`` (samples, time[, channels]) that the
        features are made of, a dict of float64 arrays: ``power`` (samples, K); with windows
        ``window_x``, ``window_q`` (samples, windows, K); with ``products`` ``products``; with
        ``"resonance"`` or ``"centred"`` ``resonance_x``, ``resonance_q`` (samples, K); with
        ``"centred"`` also ``centred_x``, ``centred_q`` (samples, K) and ``mean_input``
        (samples, channels). Other trial lengths than the training one warn, as in
        :meth:`transform`."""
        return self._summaries(self._prediction_input(X))

    def _prediction_input(self, X):
        """``X`` checked against the fitted model, as (samples, time, channels); another trial
        length than the training one warns (at the public method's caller)."""
        self._check_fitted()
        X = as_input(X, self.n_channels_)
        self._check_windows(X.shape[1])
        if self.n_steps_ is not None and X.shape[1] != self.n_steps_:
            warnings.warn(f"the trials have {X.shape[1]} samples, the model was trained on "
                          f"{self.n_steps_}: its features are means over time of states that "
                          "build up over a trial, so over another length they measure something "
                          "else", stacklevel=3)
        return X

    def _summaries(self, X):
        """The summaries behind the features of checked inputs ``X`` (samples, time, channels)."""
        out = self.network_.summaries(X, self._n_windows, self._products_band, self._resonance)
        self._add_centred(X, out)
        return out

    def fit_transform(self, X, y):
        """:meth:`fit`, then :meth:`transform` of the same ``X``: (samples, D) float64."""
        return self.fit(X, y).transform(X)

    def _logits(self, X):
        """Class scores (samples, classes)."""
        return self._scores(self.transform(X), training=False)[0]

    def decision_function(self, X):
        """Class scores (logits), (samples, classes); with two classes, as scikit-learn's
        classifiers, the score of ``classes_[1]`` minus that of ``classes_[0]``, (samples,)."""
        logits = self._logits(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X):
        """Class probabilities (samples, classes), columns in the order of ``classes_``."""
        scores = self._logits(X)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted labels (samples,)."""
        self._check_fitted()
        return self.classes_[self._logits(X).argmax(axis=1)]

    def score(self, X, y):
        """Accuracy on ``X``, ``y``. Labels of another kind than the classes' (strings against
        numbers, bytes against strings) are an error, as in scikit-learn: they would never
        match, and the accuracy would be 0."""
        predicted = self.predict(X)
        y = _labels(y, len(predicted))
        if _label_kind(y) != _label_kind(self.classes_):
            raise ValueError(f"y holds {_label_kind(y)} labels, the model's classes are "
                             f"{_label_kind(self.classes_)}: {self.classes_.tolist()} (Mix of "
                             "label input types)")
        return float(np.mean(predicted == y))

    # --- model files ---
    def save(self, path):
        """Write the fitted model to ``path`` (.npz arrays + JSON metadata, atomically)."""
        self._check_fitted()
        net = self.network_
        arrays = {f"param_{k}": v for k, v in self.params_.items()}
        arrays.update({f"bn_{k}": v for k, v in self.bn_state_.items()})
        arrays.update({"frequencies_hz": net.frequencies, "radius": net.radius,
                       "classes": self.classes_})
        params = {k: v.item() if isinstance(v, np.generic)  # numpy scalars as JSON numbers
                  else os.fspath(v) if isinstance(v, os.PathLike) else v  # a spec's path
                  for k, v in self.get_params().items()}
        metadata = {"format": "rrnsim.RRNClassifier", "version": __version__,
                    "params": params, "fs_hz": net.fs, "coupling": net.coupling,
                    "n_channels": self.n_channels_, "n_steps": self.n_steps_,
                    "best_epoch": self.best_epoch_,
                    "n_parameters": self.n_parameters_, "history": self.history_}
        json.dumps(metadata)  # fail before writing anything if not serialisable
        return save_arrays(path, arrays, metadata)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`; it predicts exactly as the saved one did."""
        arrays, meta = load_arrays(path)
        if meta.get("format") != "rrnsim.RRNClassifier":
            raise ValueError(f"{str(path)!r} is not an rrnsim RRNClassifier file "
                             f"(format {meta.get('format')!r})")
        written_by = f"{str(path)!r} was written by rrnsim {meta.get('version')}"
        if not isinstance(meta.get("params"), dict):
            raise ValueError(f"{str(path)!r} is an incomplete or corrupt RRNClassifier file: no "
                             "settings ('params') in its metadata")
        unknown = sorted(set(meta["params"]) - set(cls._param_names()))
        if unknown:
            raise ValueError(f"{written_by} with settings this rrnsim ({__version__}) does not "
                             f"know: {', '.join(unknown)}")
        if _version_tuple(meta.get("version")) > _version_tuple(__version__):
            warnings.warn(f"{written_by}, newer than this rrnsim ({__version__}); it loads if "
                          "its format is unchanged", stacklevel=2)
        try:   # only what shapes the model: older files may hold training settings now refused
            cls(**meta["params"])._check_model_settings()
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{written_by} with settings this rrnsim ({__version__}) refuses: "
                             f"{err}") from None
        try:
            # files from before recurrent_lr_scale trained W_res at the full learning rate, and
            # those from before readout_alpha without a prior
            clf = cls(**{"recurrent_lr_scale": 1.0, "readout_alpha": 0.0, **meta["params"]})
            clf.classes_ = arrays["classes"]
            clf.params_ = {k[6:]: v.astype(float) for k, v in arrays.items() if k.startswith("param_")}
            clf.bn_state_ = {k[3:]: v.astype(float) for k, v in arrays.items() if k.startswith("bn_")}
            clf.n_channels_ = int(meta["n_channels"])
            clf.n_steps_ = meta.get("n_steps")
            clf.network_ = RRN(arrays["frequencies_hz"], radius=arrays["radius"], fs=meta["fs_hz"],
                               w_res=clf.params_["w_res"] * (1 - np.eye(arrays["radius"].size)),
                               w_in=clf.params_["w_in"], coupling=meta["coupling"])
            clf.best_epoch_, clf.n_parameters_ = meta["best_epoch"], meta["n_parameters"]
            clf.history_ = meta["history"]
            expected = {"w_res", "w_in", "node_f", "node_beta", "bn_scale", "bn_shift",
                        "readout_weight", "readout_bias"}
            missing = sorted({f"param_{k}" for k in expected - set(clf.params_)}
                             | {f"bn_{k}" for k in {"running_mean", "running_var", "initialised"}
                                - set(clf.bn_state_)})
            if missing:
                raise KeyError(f"missing arrays {', '.join(missing)}")
            arrays_by_name = {**clf.params_, **clf.bn_state_}
            for name, shape in clf._param_shapes(len(clf.classes_)).items():
                if arrays_by_name[name].shape != shape:
                    raise ValueError(f"array {name!r} has shape {arrays_by_name[name].shape}, "
                                     f"the settings and classes need {shape}")
                if not np.isfinite(arrays_by_name[name]).all():
                    raise ValueError(f"array {name!r} holds values that are not finite")
            if (clf.bn_state_["running_var"] < 0).any():
                raise ValueError("array 'running_var' holds negative variances")
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{str(path)!r} is an incomplete or corrupt RRNClassifier file: "
                             f"{err}") from None
        return clf


def _version_tuple(version):
    """The leading numbers of a version string ('0.2.0rc1', 'v1.0+g12ab' -> (0, 2, 0), (1, 0));
    (0,) if there are none."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", str(version))
    return tuple(int(part) for part in match.group(1).split(".")[:3]) if match else (0,)


def _one_standard_error_epoch(history):
    """The latest epoch (1-based) whose validation loss is within one standard error of the
    lowest, from ``history`` records with ``val_loss`` and ``val_loss_se``; the last epoch if no
    validation loss is finite."""
    finite = [record for record in history if np.isfinite(record["val_loss"])]
    if not finite:
        return history[-1]["epoch"]
    lowest = min(finite, key=lambda record: record["val_loss"])
    threshold = lowest["val_loss"] + np.nan_to_num(lowest["val_loss_se"])
    return max(record["epoch"] for record in finite if record["val_loss"] <= threshold)


def _progress(iterable, desc, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, desc=desc, leave=False, unit="batch")
