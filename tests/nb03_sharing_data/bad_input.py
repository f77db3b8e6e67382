"""Bad input to notebook 03's experiments and panel."""
from refusals import BAD_COUNTS, BEYOND_MEMORY, HUGE, START_METHODS, WORKERS, each, panel_cases

from helpers.nb03_sharing_data import panels, sharing

def job_panel():  # at 1 MiB, so no case depends on free memory
    return panels.job_panel(megabytes=1)


CASES = [
    *each("sharing.in_place sizes_mib", ((0,), (-1,), (HUGE,), (2.5,), (True,)),
          lambda v: sharing.in_place(sizes_mib=v), r"each size \(MiB\) must be an integer from 1 to"),
    *each("sharing.in_place workers", BAD_COUNTS, lambda v: sharing.in_place(workers=v), WORKERS),
    *each("sharing.in_place repeats", BAD_COUNTS, lambda v: sharing.in_place(repeats=v),
          "repeats must be an integer from 1 to 100"),
    *each("sharing.payload_sizes largest", (0, -1, BEYOND_MEMORY, 2.5), sharing.payload_sizes,
          r"largest payload \(bytes\) must be an integer from 1 to"),
    *each("sharing.transfers largest", (0, BEYOND_MEMORY), lambda v: sharing.transfers(largest=v),
          r"largest payload \(bytes\) must be an integer from 1 to"),
    *each("sharing.transfers channels", (("carrier pigeon",), ("Pipe", "pipe")),
          lambda v: sharing.transfers(largest=1024, channels=v), "allowed: Queue, Pipe"),
    *each("sharing.transfers method", ("teleport",),
          lambda v: sharing.transfers(largest=1024, channels=("Pipe",), method=v), START_METHODS),
    *each("sharing.memcpy_bandwidth nbytes", (0, -1, BEYOND_MEMORY, 2.5), sharing.memcpy_bandwidth,
          "nbytes must be an integer from 1 to"),
    *each("sharing.memcpy_bandwidth repeats", BAD_COUNTS, lambda v: sharing.memcpy_bandwidth(1024, v),
          "repeats must be an integer from 1 to 100"),
    *each("sharing.shared_state workers", BAD_COUNTS, lambda v: sharing.shared_state(workers=v), WORKERS),
    *each("sharing.shared_state methods", (("telepathy",),), lambda v: sharing.shared_state(methods=v),
          "allowed: SharedMemory"),
    *each("sharing.shared_state scale", (0, -1, 100), lambda v: sharing.shared_state(scale=v), "from 0.001 to 10"),
    *each("sharing.shared_state method", ("teleport",), lambda v: sharing.shared_state(method=v), START_METHODS),
    *each("sharing.job megabytes", (0, -1, HUGE, 2.5, True), lambda v: sharing.job(megabytes=v),
          "megabytes must be an integer from 1 to"),
    *each("sharing.job workers", BAD_COUNTS, lambda v: sharing.job(megabytes=1, workers=v), WORKERS),
    *each("sharing.job methods", (("magic",),), lambda v: sharing.job(megabytes=1, methods=v), "allowed: sequential"),
    *each("sharing.job method", ("teleport",), lambda v: sharing.job(megabytes=1, method=v), START_METHODS),
    *each("sharing.job_trial way", ("magic",), lambda v: sharing.job_trial(v, 1, 2), "allowed: sequential"),
    *each("sharing.job_trial megabytes", (0, HUGE), lambda v: sharing.job_trial("shared memory", v, 2),
          "megabytes must be an integer from 1 to"),
    *each("sharing.job_trial workers", BAD_COUNTS, lambda v: sharing.job_trial("shared memory", 1, v), WORKERS),
    *each("sharing.pipeline items", BAD_COUNTS, lambda v: sharing.pipeline(items=v),
          "items must be an integer from 1 to 100,000"),
    *each("sharing.pipeline consumers", BAD_COUNTS, lambda v: sharing.pipeline(consumers=v), WORKERS),
    *each("sharing.pipeline pause", (-1, 1), lambda v: sharing.pipeline(pause=v), "from 0 to 0.1 seconds"),
    *each("sharing.pipeline method", ("teleport",), lambda v: sharing.pipeline(method=v), START_METHODS),
    *panel_cases("job", job_panel, "way", ("magic",), "allowed: sequential"),
    *panel_cases("job", job_panel, "megabytes", (0, HUGE), "megabytes must be an integer from 1 to"),
    *panel_cases("job", job_panel, "workers", (0, HUGE), WORKERS),
]
