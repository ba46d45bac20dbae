"""Named RRN specifications (TOML), shipped as package data ``rrnsim.models``."""
