"""The two engines on the same input: Brian2 (continuous time) against the exact discrete engine.

1,000 samples x 11 nodes (golden layout, gated coupling, random W_res) x 100 ms of random input
at 1 kHz. Brian2 runs once first so that its code generation and compilation are not counted.

    python analysis/bench_engines.py
"""
import argparse
import os
import time

import numpy as np

import rrnsim
from _common import positive_int


def best_of(repeats, run):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=positive_int, default=1000,
                        help="input samples, each its own copy of the network (%(default)s)")
    parser.add_argument("--steps", type=positive_int, default=100, help="samples at 1 kHz (100 = 100 ms)")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="timed runs of each engine, best kept (%(default)s)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    w_res = rng.normal(0.0, 0.1, (11, 11)) * (1 - np.eye(11))
    net = rrnsim.RRN.from_spec("golden", w_res=w_res)
    X = rng.random((args.samples, args.steps))
    net.run(X[:2], engine="brian2")  # compile
    net.run(X[:2])
    brian_s, brian = best_of(args.repeats, lambda: net.run(X, engine="brian2").x)
    discrete_s, discrete = best_of(args.repeats, lambda: net.run(X).x)
    error = np.abs(brian - discrete).max() / np.sqrt(np.mean(discrete ** 2))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.samples} samples x 11 nodes x "
          f"{args.steps} ms, golden, gated coupling")
    print(f"Brian2 engine (rk4, 20 substeps): {brian_s:.3f} s")
    print(f"discrete engine:                  {discrete_s * 1e3:.1f} ms "
          f"({brian_s / discrete_s:.0f}x faster)")
    print(f"agreement: max |brian2 - discrete| = {error:.1e} of the RMS")


if __name__ == "__main__":
    main()
