"""The two engines that run an :class:`rrnsim.RRN`: exact discrete AR(2) and Brian2 continuous time."""
