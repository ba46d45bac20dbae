import re
import warnings
from importlib import resources

import numpy as np
import pytest
import quantities as pq

import rrnsim
from rrnsim import rhythms
from rrnsim.specs import load_spec, spec_names

PAPER = {"golden": (11, 252), "binary": (7, 136), "e": (5, 90), "linear": (11, 252)}


@pytest.mark.parametrize("name", PAPER)
def test_paper_layouts_node_and_parameter_counts(name):
    net = rrnsim.RRN.from_spec(name)
    nodes, params = PAPER[name]
    assert net.n_nodes == nodes
    assert net.n_parameters(10) == params
    assert net.frequencies[0] == pytest.approx(2.0)
    assert np.all(net.w1 > 0)


def test_golden_layout_matches_paper_and_says_what_it_dropped():
    with pytest.warns(UserWarning, match="397.9"):
        layout = rhythms.make_layout("golden")
    np.testing.assert_allclose(layout.frequencies_hz, 2 * 1.618 ** np.arange(11))
    assert list(layout.dropped) == [pytest.approx(2 * 1.618 ** 11)]


def test_shipped_specs_load_quietly_and_user_specs_warn(tmp_path):
    """A shipped spec drops its nodes at or above fs/4 by design (``rrnsim models`` lists them):
    no warning on every load. The same spec from the user's own file still warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in spec_names():
            load_spec(name)
    spec = load_spec("golden")
    assert list(spec.layout.dropped) == [pytest.approx(2 * 1.618 ** 11)]
    own = tmp_path / "mine.toml"
    own.write_text(resources.files("rrnsim.models").joinpath("golden.toml").read_text())
    with pytest.warns(UserWarning, match="397.9"):
        load_spec(own)


def test_aliases_give_the_same_network():
    np.testing.assert_array_equal(rrnsim.RRN.from_spec("two").frequencies,
                                  rrnsim.RRN.from_spec("binary").frequencies)
    np.testing.assert_array_equal(rrnsim.RRN.from_spec("log").frequencies,
                                  rrnsim.RRN.from_spec("e").frequencies)


def test_bands_layout_one_node_per_band():
    net = rrnsim.RRN.from_spec("bands")
    assert [rrnsim.band_of(f) for f in net.frequencies] == list(rrnsim.BANDS)


def test_explicit_layout_rejects_unstable_frequency_by_name():
    with pytest.raises(ValueError, match="600 Hz"):
        rhythms.make_layout("explicit", hz=[10.0, 600.0])


def test_shipped_specs_listed():
    assert {"golden", "binary", "e", "linear", "bands"} <= set(spec_names())


def test_spec_from_file_and_explicit_list(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nfs_hz = 500.0\nradius = 0.99\n[frequencies]\nhz = [4.0, 40.0]\n')
    net = rrnsim.RRN.from_spec(str(path))
    np.testing.assert_array_equal(net.frequencies, [4.0, 40.0])
    assert net.fs == 500.0 and np.all(net.radius == 0.99)


@pytest.mark.parametrize("text, field", [
    ('name = "x"\nradius = "high"\n[frequencies]\nlayout = "golden"\n', "radius"),
    ('name = "x"\nspeed = 3\n[frequencies]\nlayout = "golden"\n', "speed"),
    ('name = "x"\n', "frequencies"),
    ('name = "x"\n[frequencies]\nlayout = "golden"\ncount = "many"\n', "frequencies.count"),
    ('name = "x"\n[frequencies]\nlayout = "spiral"\n', "spiral"),
    ('name = "x"\n[frequencies\n', "not valid TOML"),
    ('name = "x"\ncoupling = "foo"\n[frequencies]\nlayout = "golden"\n', "'coupling'.*'foo'"),
    ('name = "x"\nnoise = -1.0\n[frequencies]\nlayout = "golden"\n', "'noise'.*-1.0"),
    ('name = "x"\nfs_hz = 0.0\n[frequencies]\nlayout = "golden"\n', "field 'fs_hz'.*0.0"),
    ('name = "x"\nnoise = inf\n[frequencies]\nlayout = "golden"\n', "field 'noise'.*inf"),
    ('name = "x"\nradius = 1.5\n[frequencies]\nlayout = "golden"\n', r"field 'radius' must be in \(0, 1\), got 1.5"),
    ('name = "x"\n[frequencies]\nlayout = "golden"\nf0_hz = -1.0\n', "f0_hz.*-1.0"),
])
def test_malformed_spec_names_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_spec(str(path))
    assert "bad.toml" in str(err.value) and re.search(field, str(err.value))


def test_unknown_spec_name():
    with pytest.raises(ValueError, match="'platinum'"):
        rrnsim.RRN.from_spec("platinum")


def test_band_of():
    assert rrnsim.band_of(10.0) == "alpha" and rrnsim.band_of(150.0) == "high gamma"
    assert rrnsim.band_of(0.5) == ""
    assert rrnsim.band_of(0.01 * pq.kHz) == "alpha"
    with pytest.raises(ValueError, match="frequency_hz must be in units of .*Hz.*10.0 ms"):
        rrnsim.band_of(10 * pq.ms)


def test_layout_settings_are_checked():
    """fs/4 itself fails the paper's w1 > 0 rule (cos(pi/2) rounds to 6e-17, not 0)."""
    with pytest.warns(UserWarning, match="256 Hz gives w1 <= 0"):
        binary = rhythms.make_layout("binary", fs_hz=1024.0)
    assert binary.frequencies_hz.max() == 128.0
    with pytest.raises(ValueError, match="start_hz < stop_hz and count >= 2, got start_hz=100.0"):
        rhythms.make_layout("linear", count=3, start_hz=100.0, stop_hz=20.0)
    with pytest.raises(ValueError, match="count >= 2, .*count=1"):
        rhythms.make_layout("linear", count=1, start_hz=10.0, stop_hz=200.0)
    with pytest.raises(ValueError, match=r"flat list of frequencies \(hz\), got shape \(1, 2\)"):
        rhythms.make_layout("explicit", hz=[[10.0, 20.0]])
    with pytest.raises(TypeError, match=r"radius must be a number, got \[0.9, 0.9\]"):
        rhythms.make_layout("golden", radius=[0.9, 0.9])


def test_overriding_fs_keeps_the_specs_nodes():
    """The layout is the spec's, at the spec's fs: at 2 kHz the golden network keeps its 11 nodes
    (397.9 Hz, dropped at 1 kHz, would be allowed there) unless frequencies are given."""
    net = rrnsim.RRN.from_spec("golden", fs=2000.0)
    assert net.fs == 2000.0
    np.testing.assert_array_equal(net.frequencies, rrnsim.RRN.from_spec("golden").frequencies)
    assert rrnsim.RRN.from_spec("golden", fs=2000.0, frequencies=[2.0, 397.9]).n_nodes == 2


def test_layouts_read_quantities_in_hz_and_refuse_settings_they_do_not_use():
    explicit = rhythms.make_layout("explicit", hz=[0.01, 0.02] * pq.kHz)
    np.testing.assert_allclose(explicit.frequencies_hz, [10.0, 20.0])
    linear = rhythms.make_layout("linear", count=3, start_hz=10 * pq.Hz, stop_hz=0.03 * pq.kHz)
    np.testing.assert_allclose(linear.frequencies_hz, [10.0, 20.0, 30.0])
    np.testing.assert_allclose(rrnsim.RRN([0.01, 0.02] * pq.kHz).frequencies, [10.0, 20.0])
    with pytest.raises(ValueError, match="hz must be in units of Hz"):
        rhythms.make_layout("explicit", hz=[10.0, 20.0] * pq.s)
    with pytest.raises(ValueError, match="frequencies must be in units of Hz"):
        rrnsim.RRN([10.0] * pq.mV)
    for layout, setting, unused in (("golden", {"hz": [10.0]}, "hz"),
                                    ("bands", {"count": 2}, "count"),
                                    ("explicit", {"f0_hz": 3.0, "hz": [10.0]}, "f0_hz")):
        with pytest.raises(ValueError, match=f"layout '{layout}' does not use {unused}$"):
            rhythms.make_layout(layout, **setting)


def test_a_spec_field_its_layout_does_not_use_is_named(tmp_path):
    path = tmp_path / "mixed.toml"
    path.write_text('name = "mixed"\n[frequencies]\nlayout = "golden"\nhz = [10.0]\n')
    with pytest.raises(ValueError, match="mixed.toml.*layout 'golden' does not use hz"):
        load_spec(str(path))


def test_band_of_edges_belong_to_the_upper_band():
    """Bands are [low, high): each edge belongs to the band it starts."""
    for name, (low, high) in rrnsim.BANDS.items():
        assert rrnsim.band_of(low) == name
        assert rrnsim.band_of(np.nextafter(high, 0)) == name
    assert rrnsim.band_of(200.0) == "" and rrnsim.band_of(np.nextafter(1.0, 0)) == ""


def test_ratio_layouts_use_the_papers_constants():
    """binary: f0 * 2**n; e: f0 * 2.718**n (the paper's rounded e), up to the fs/4 limit."""
    e = rhythms.make_layout("e", count=5)
    np.testing.assert_allclose(e.frequencies_hz, 2.0 * 2.718 ** np.arange(5), rtol=1e-12)
    binary = rhythms.make_layout("binary", count=7)
    np.testing.assert_allclose(binary.frequencies_hz, 2.0 * 2.0 ** np.arange(7), rtol=1e-12)
