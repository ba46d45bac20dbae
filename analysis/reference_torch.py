"""Reference-style PyTorch models for benchmarks and baselines (torch is optional, imported here).

- :class:`ReferenceRRN` is the paper's RRN written the way the paper's own code does it: a
  per-step Python loop over time with PyTorch autograd, float64 (DESIGN.md, "The paper's
  formulation"). It is what rrnsim's own engines are timed and checked against.
- :class:`ReferenceLSTM` and :class:`ReferenceRNN` are the paper's matched baselines:
  ``torch.nn.LSTM`` / ``torch.nn.RNN`` on the (batch, time, 1) input, last hidden state, then the
  same head as the RRN (batch-norm with learned scale and shift, linear readout). With that head
  a 6-unit LSTM has 216 + 12 + 70 = 298 parameters, the paper's count (a bare linear readout
  would give 286).
- :func:`time_training_batches` times training batches; :func:`train_reference` trains with
  AdamW and a one-cycle schedule and reports test accuracy.

Run ``python analysis/reference_torch.py --help``: by default it times training batches; with
``--train rrn|lstm|rnn`` it trains that model on sequential MNIST (55,000/5,000 split, the 10,000
test images) as the paper does and appends the record to ``results/smnist.jsonl``.
"""
import argparse
import copy
import math
import os
import time

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:
    raise SystemExit("the reference models need PyTorch: pip install -e '.[bench]' "
                     "(torch==2.13.0, CPU)") from None

import rrnsim
from _common import (HERE, add_mnist_argument, append_record, int_at_least, load_mnist_or_exit,
                     positive_int, results_file)


#: The paper's training settings (AdamW), which ``--train`` uses.
PAPER_LR, PAPER_WEIGHT_DECAY = 3e-3, 1e-2

__all__ = ["ReferenceRRN", "ReferenceLSTM", "ReferenceRNN", "count_parameters",
           "time_training_batches", "train_reference"]


def count_parameters(model):
    """Number of trainable scalars in ``model`` (the RRN stores only off-diagonal W_res)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _as_sequence(u, dtype):
    """Inputs as a (batch, time) tensor of ``dtype``; accepts (batch, time) or (batch, time, 1)."""
    u = torch.as_tensor(u, dtype=dtype)
    if u.dim() == 3 and u.shape[2] == 1:
        u = u[..., 0]
    if u.dim() != 2:
        raise ValueError(f"inputs must have shape (batch, time) or (batch, time, 1), got "
                         f"{tuple(u.shape)}")
    return u


class ReferenceRRN(nn.Module):
    """The paper's RRN classifier as a per-step PyTorch loop (autograd through time).

    Per step n, starting at rest (x[-1] = x[-2] = 0), for K nodes::

        g[n]     = W_in * u[n]                                  (K,)
        drive[n] = g[n] + W_res @ tanh(x[n-1] * g[n])           ("gated" coupling)
        x[n]     = w1 * x[n-1] + w2 * x[n-2] + drive[n]
        A[n]**2  = x[n]**2 + ((v[n] + beta_p*x[n]) / omega_p)**2,  v[n] = (x[n] - x[n-1]) * Fs

    features = mean over the T steps of A**2 (one "power" per node), then BatchNorm1d (affine)
    and a linear readout to ``n_classes`` scores.

    Parameters
    ----------
    network : str, path or rrnsim.RRN
        A spec name/path for :meth:`rrnsim.RRN.from_spec` (e.g. ``"golden"``) or a network;
        it supplies the frequencies (Hz), ``w1``, ``w2``, ``w_in``, ``paper_constants``
        (omega_p in rad/s, beta_p in 1/s) and ``fs`` (Hz). Its coupling must be ``"gated"`` and
        it must be noiseless.
    n_classes : int
        Number of class scores.
    w_res : (K, K) array or None
        Initial recurrent weights, zero diagonal. ``None`` draws the off-diagonal entries from
        a normal distribution of standard deviation ``init_std`` (the paper's initialisation
        is not published; small random weights start close to the uncoupled network while
        breaking the symmetry between entries; ``init_std=0`` gives zeros).
    init_std : float
        Standard deviation of the random W_res entries when ``w_res`` is None.
    seed : int
        Seed of all initial weights (W_res and the readout).
    dtype : torch.dtype
        Floating type of the whole model; float64 by default (DESIGN.md).

    Trainable: the K*(K-1) off-diagonal W_res entries (stored as a vector, so the diagonal is
    zero by construction), the batch-norm scale and shift (2K), the readout ((K+1)*n_classes):
    252 for golden with 10 classes. W_in and the node constants are fixed buffers.
    """

    def __init__(self, network="golden", n_classes=10, w_res=None, init_std=0.01, seed=0,
                 dtype=torch.float64):
        super().__init__()
        net = network if isinstance(network, rrnsim.RRN) else rrnsim.RRN.from_spec(network)
        if net.coupling != "gated":
            raise ValueError(f"ReferenceRRN implements the 'gated' coupling only, got "
                             f"{net.coupling!r}")
        if net.noise != 0:
            raise ValueError(f"ReferenceRRN is noiseless, the network has noise={net.noise}")
        if net.w_in.shape[1] != 1:
            raise ValueError(f"ReferenceRRN takes one input channel, w_in has shape "
                             f"{net.w_in.shape}")
        K = net.n_nodes
        self.frequencies_hz = net.frequencies.copy()
        self.fs = float(net.fs)
        omega_p, beta_p = net.paper_constants
        as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=float), dtype=dtype)  # noqa: E731
        for name, value in [("w_in", net.w_in[:, 0]), ("w1", net.w1), ("w2", net.w2),
                            ("omega_p", omega_p), ("beta_p", beta_p)]:
            self.register_buffer(name, as_t(value))
        off = ~np.eye(K, dtype=bool)
        self.register_buffer("_rows", torch.as_tensor(np.nonzero(off)[0]))
        self.register_buffer("_cols", torch.as_tensor(np.nonzero(off)[1]))

        generator = torch.Generator().manual_seed(seed)
        if w_res is None:
            initial = torch.randn(K * (K - 1), generator=generator, dtype=dtype) * init_std
        else:
            # validated by rrnsim (shape (K, K), finite, zero diagonal)
            w_res = rrnsim.RRN(net.frequencies, net.radius, net.fs, w_res=w_res).w_res
            initial = as_t(w_res[off])
        self.w_res_offdiag = nn.Parameter(initial)
        self.norm = nn.BatchNorm1d(K, dtype=dtype)
        self.readout = nn.Linear(K, n_classes, dtype=dtype)
        with torch.no_grad():  # seeded readout init (same scheme as nn.Linear's default)
            bound = 1.0 / math.sqrt(K)
            self.readout.weight.uniform_(-bound, bound, generator=generator)
            self.readout.bias.uniform_(-bound, bound, generator=generator)

    @property
    def n_nodes(self):
        return self.w1.numel()

    @property
    def w_res(self):
        """Recurrent weights (K, K) tensor, zero diagonal (differentiable)."""
        W = self.w_res_offdiag.new_zeros(self.n_nodes, self.n_nodes)
        return W.index_put((self._rows, self._cols), self.w_res_offdiag)

    def features(self, u):
        """The paper's features: mean over time of A**2, shape (batch, K).

        ``u`` is (batch, time) or (batch, time, 1), one input sample per 1/fs s.
        """
        u = _as_sequence(u, self.w1.dtype).to(self.w1.device)
        B, T = u.shape
        W_t = self.w_res.t()                              # drive = gate @ W.T
        x1 = u.new_zeros(B, self.n_nodes)                 # x[n-1]
        x2 = u.new_zeros(B, self.n_nodes)                 # x[n-2]
        power = u.new_zeros(B, self.n_nodes)
        for n in range(T):
            g = u[:, n:n + 1] * self.w_in                 # (B, K)
            drive = g + torch.tanh(x1 * g) @ W_t
            x = self.w1 * x1 + self.w2 * x2 + drive
            quadrature = ((x - x1) * self.fs + self.beta_p * x) / self.omega_p
            power = power + x * x + quadrature * quadrature
            x2, x1 = x1, x
        return power / T

    def forward(self, u):
        """Class scores (batch, n_classes) for inputs ``u`` (batch, time[, 1])."""
        return self.readout(self.norm(self.features(u)))


class _RecurrentBaseline(nn.Module):
    """A torch recurrent layer on (batch, time, 1), last hidden state -> batch-norm -> readout."""

    def __init__(self, layer, n_units, n_classes, seed, dtype):
        super().__init__()
        torch.manual_seed(seed)  # nn.LSTM/nn.RNN take no generator; this seeds their init
        self.recurrent = layer(input_size=1, hidden_size=n_units, batch_first=True, dtype=dtype)
        self.norm = nn.BatchNorm1d(n_units, dtype=dtype)
        self.readout = nn.Linear(n_units, n_classes, dtype=dtype)

    def forward(self, u):
        """Class scores (batch, n_classes) for inputs ``u`` (batch, time[, 1])."""
        u = _as_sequence(u, self.readout.weight.dtype).to(self.readout.weight.device)
        out, _ = self.recurrent(u.unsqueeze(-1))
        return self.readout(self.norm(out[:, -1]))


class ReferenceLSTM(_RecurrentBaseline):
    """The paper's LSTM baseline: ``torch.nn.LSTM`` (fused kernel), float32 by default.
    6 units and 10 classes: 216 (LSTM) + 12 (norm) + 70 (readout) = 298 parameters."""

    def __init__(self, n_units=6, n_classes=10, seed=0, dtype=torch.float32):
        super().__init__(nn.LSTM, n_units, n_classes, seed, dtype)


class ReferenceRNN(_RecurrentBaseline):
    """The paper's vanilla RNN baseline: ``torch.nn.RNN`` (tanh), float32 by default.
    11 units and 10 classes: 154 (RNN) + 22 (norm) + 120 (readout) = 296 parameters."""

    def __init__(self, n_units=11, n_classes=10, seed=0, dtype=torch.float32):
        super().__init__(nn.RNN, n_units, n_classes, seed, dtype)


def _dtype_of(model):
    return next(model.parameters()).dtype


def time_training_batches(model, n_batches=10, batch_size=128, n_steps=784, n_classes=10,
                          lr=PAPER_LR, weight_decay=PAPER_WEIGHT_DECAY, seed=0, threads=None,
                          X=None, y=None):
    """Wall-clock time of training batches (forward, cross-entropy backward, AdamW step).

    Inputs are consecutive batches of ``X`` (samples, time) with labels ``y`` when given (the
    first batch again for the warm-up), else uniform random in [0, 1], shape
    (batch_size, n_steps), labels uniform over ``n_classes``. One warm-up batch runs first and is
    not counted. ``threads`` sets
    ``torch.set_num_threads`` for the run (restored afterwards). The model's weights change.

    Returns
    -------
    dict with ``seconds_total`` (s, the ``n_batches`` timed batches), ``seconds_per_batch``
    (s, mean), ``batch_seconds`` (list of s, one per batch), ``n_batches``, ``batch_size``,
    ``n_steps``, ``threads``.
    """
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        loss_fn = nn.CrossEntropyLoss()
        model.train()
        batch_seconds = []
        for i in range(n_batches + 1):
            if X is None:
                u = torch.rand(batch_size, n_steps, generator=generator, dtype=_dtype_of(model))
                labels = torch.randint(n_classes, (batch_size,), generator=generator)
            else:
                rows = slice(max(i - 1, 0) * batch_size, max(i, 1) * batch_size)
                u = torch.as_tensor(np.asarray(X[rows]), dtype=_dtype_of(model))
                labels = torch.as_tensor(np.asarray(y[rows]), dtype=torch.long)
            start = time.perf_counter()
            optimizer.zero_grad()
            loss_fn(model(u), labels).backward()
            optimizer.step()
            if i > 0:  # batch 0 is the warm-up
                batch_seconds.append(time.perf_counter() - start)
        total = float(sum(batch_seconds))
        return dict(seconds_total=total, seconds_per_batch=total / n_batches,
                    batch_seconds=batch_seconds, n_batches=n_batches, batch_size=batch_size,
                    n_steps=n_steps, threads=torch.get_num_threads())
    finally:
        torch.set_num_threads(previous_threads)


@torch.no_grad()
def _accuracy(model, X, y, batch_size=1000):
    """Fraction of samples of ``X`` (samples, time) whose top score is ``y`` (eval mode)."""
    model.eval()
    correct = 0
    for start in range(0, len(X), batch_size):
        scores = model(X[start:start + batch_size])     # converted to the model's dtype
        correct += int((scores.argmax(1) == torch.as_tensor(y[start:start + batch_size])).sum())
    return correct / len(X)


def train_reference(model, X_train, y_train, X_val, y_val, X_test, y_test, epochs,
                    batch_size=128, lr=PAPER_LR, weight_decay=PAPER_WEIGHT_DECAY, seed=0,
                    progress=True):
    """Train ``model`` as in the paper and report test accuracy.

    AdamW (``lr`` is the one-cycle schedule's peak, ``weight_decay`` decoupled), one-cycle
    learning-rate schedule over all batches (``OneCycleLR``), cross-entropy loss, training set
    shuffled every epoch (``seed``). After each epoch the validation accuracy is measured; the
    weights of the best-validation epoch are restored at the end (the last epoch when
    ``X_val`` is None) and the test accuracy is measured with them.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (batch, time) inputs to (batch, n_classes) scores, e.g. :class:`ReferenceRRN`.
    X_train, X_val, X_test : numpy arrays (samples, time)
        Input sequences, one sample per time step (e.g. sequential MNIST scaled to [0, 1]).
    y_train, y_val, y_test : integer numpy arrays (samples,)
        Class labels.
    epochs : int
    progress : bool
        Show a tqdm bar per epoch and a line per epoch.

    Returns
    -------
    dict with ``test_accuracy`` (float), ``val_accuracy`` (list, one per epoch),
    ``train_loss`` (list, mean cross-entropy per epoch), ``best_epoch`` (0-based),
    ``seconds`` (s, wall clock of training and evaluation).
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    dtype = _dtype_of(model)
    X_train = torch.as_tensor(np.asarray(X_train), dtype=dtype)
    y_train = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    n_train = len(X_train)
    steps_per_epoch = math.ceil(n_train / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, epochs=epochs,
                                                   steps_per_epoch=steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    val_accuracy, train_loss = [], []
    best = (-1.0, -1, None)  # (val accuracy, epoch, state dict)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n_train, generator=generator)
        total = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{epochs}", leave=False,
                   disable=not progress)
        for i in bar:
            idx = order[i * batch_size:(i + 1) * batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(X_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        train_loss.append(total / n_train)
        acc = _accuracy(model, X_val, y_val) if X_val is not None else float("nan")
        val_accuracy.append(acc)
        if X_val is None or acc > best[0]:
            best = (acc, epoch, copy.deepcopy(model.state_dict()))
        if progress:
            tqdm.write(f"epoch {epoch + 1}/{epochs}: train loss {train_loss[-1]:.4f}, "
                       f"val accuracy {acc:.4f}, {time.perf_counter() - start:.0f} s")
    model.load_state_dict(best[2])
    test_accuracy = _accuracy(model, X_test, y_test)
    return dict(test_accuracy=test_accuracy, val_accuracy=val_accuracy, train_loss=train_loss,
                best_epoch=best[1], seconds=time.perf_counter() - start)


#: The models ``--train`` can train.
TRAINABLE = {"rrn": lambda spec, seed: ReferenceRRN(spec, seed=seed),
             "lstm": lambda spec, seed: ReferenceLSTM(seed=seed),
             "rnn": lambda spec, seed: ReferenceRNN(seed=seed)}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Seconds per training batch (forward, backward, AdamW step) of the "
                    "reference RRN (per-step PyTorch loop, float64) and the reference LSTM "
                    "on random sequential-MNIST-sized inputs; or, with --train, train one of "
                    "them on sequential MNIST.")
    parser.add_argument("--batches", type=positive_int, default=10, help="timed batches (default 10)")
    parser.add_argument("--batch-size", type=positive_int, default=128, help="default 128")
    parser.add_argument("--steps", type=positive_int, default=784,
                        help="time steps per input (784)")
    parser.add_argument("--spec", default="golden", help="RRN spec name or path (golden)")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch threads (default: torch's choice)")
    parser.add_argument("--train", choices=list(TRAINABLE),
                        help="train this model on sequential MNIST instead of timing: the paper's "
                             "settings (AdamW at lr 3e-3, one-cycle, weight decay 1e-2, best "
                             "validation epoch kept; the first 5,000 training images validate)")
    parser.add_argument("--epochs", type=positive_int, default=30,
                        help="with --train: epochs (%(default)s)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="with --train: initial weights and batch order (%(default)s)")
    add_mnist_argument(parser)
    parser.add_argument("--results", default=str(HERE / "results/smnist.jsonl"),
                        help="with --train: JSON-lines file the record is appended to "
                             "(%(default)s)")
    args = parser.parse_args(argv)
    try:
        rrnsim.load_spec(args.spec)   # a bad spec is a usage error, before MNIST is read
    except (OSError, ValueError) as error:
        parser.error(str(error))
    print(f"torch {torch.__version__}, threads {args.threads or torch.get_num_threads()}, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.train:
        results = results_file(parser, args.results)
        data = load_mnist_or_exit(parser, args.data)
        n_val = 5000
        model = TRAINABLE[args.train](args.spec, args.seed)
        out = train_reference(model, data.X_train[n_val:], data.y_train[n_val:],
                              data.X_train[:n_val], data.y_train[:n_val], data.X_test,
                              data.y_test, args.epochs, batch_size=args.batch_size,
                              seed=args.seed)
        record = {"run": f"reference {args.train}", "epochs": args.epochs, "seed": args.seed,
                  "n_train": len(data.y_train) - n_val, "n_val": n_val, "n_test": len(data.y_test),
                  "test_accuracy": out["test_accuracy"], "train_seconds": round(out["seconds"], 1),
                  "n_parameters": count_parameters(model), "best_epoch": out["best_epoch"] + 1,
                  "val_accuracy": out["val_accuracy"],
                  "params": {"spec": args.spec if args.train == "rrn" else None,
                             "batch_size": args.batch_size, "lr": PAPER_LR,
                             "weight_decay": PAPER_WEIGHT_DECAY,
                             "threads": torch.get_num_threads()}}
        print(append_record(results, record), flush=True)
        return
    models = {f"ReferenceRRN ({args.spec}, float64)": ReferenceRRN(args.spec),
              "ReferenceLSTM (6 units, float32)": ReferenceLSTM()}
    for name, model in models.items():
        timing = time_training_batches(model, n_batches=args.batches, batch_size=args.batch_size,
                                       n_steps=args.steps, threads=args.threads)
        print(f"{name}: {count_parameters(model)} parameters, "
              f"{timing['seconds_per_batch']:.3f} s per batch of {args.batch_size} "
              f"(min {min(timing['batch_seconds']):.3f}, max {max(timing['batch_seconds']):.3f}, "
              f"{args.batches} batches)")


if __name__ == "__main__":
    main()
