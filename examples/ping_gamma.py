"""A PING network's emergent gamma rhythm, found with Elephant spectra and checked against the
autocorrelation of its population rate.

    python examples/ping_gamma.py
"""
from rrnsim import spectral
from rrnsim.data import autocorrelation_frequency, ping_network

for tau in (5.0, 10.0):  # inhibitory decay time (ms): slower inhibition, slower rhythm
    block = ping_network(duration=1.0, tau_inh_decay=tau, seed=1)
    rate = block.segments[0].analogsignals[0]          # excitatory population rate (Hz)
    freqs, psd = spectral.power_spectrum(rate, frequency_resolution=2.0)
    peak, prominence = spectral.peak_frequency(freqs, psd, fmin=20.0, fmax=100.0)
    print(f"tau_inh_decay {tau:4.1f} ms: spectral peak {float(peak[0]):.1f} Hz "
          f"({prominence[0]:.1f} dB), autocorrelation {float(autocorrelation_frequency(rate)):.1f} Hz")
