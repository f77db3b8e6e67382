"""Bad input to notebook 00's experiments and panel."""
from refusals import BACKENDS, BAD_COUNTS, HUGE, KINDS, WORKERS, each, panel_cases

from helpers.nb00_start_here import first_look, panels

compare_panel = panels.compare_panel

CASES = [
    *each("first_look.default_workers usable_cpus", (0, -1, 2.5, True), first_look.default_workers,
          "usable_cpus must be an integer of at least 1"),
    *each("first_look.experiment kinds", (["gpu"], ["io", "gpu"]),
          lambda v: first_look.experiment(kinds=v, workers=[1], repeats=1), KINDS),
    *each("first_look.experiment workers", ([0], [-1], [HUGE], [2.5], [True]),
          lambda v: first_look.experiment(kinds=["io"], workers=v, repeats=1), WORKERS),
    *each("first_look.experiment workers", ([],), lambda v: first_look.experiment(kinds=["io"], workers=v),
          "at least one worker count"),
    *each("first_look.experiment repeats", (0, HUGE, 2.5),
          lambda v: first_look.experiment(kinds=["io"], workers=[1], repeats=v), "repeats must be a positive integer, at most"),
    *each("first_look.compare workers", BAD_COUNTS, lambda v: first_look.compare("io", workers=v), WORKERS),
    *each("first_look.compare sequential workers", (2,),
          lambda v: first_look.compare("io", workers=v, backend="sequential"), "from 1 to 1,"),
    *each("first_look.compare kind", ("gpu",), lambda v: first_look.compare(v, workers=2), KINDS),
    *each("first_look.compare backend", ("gpu",), lambda v: first_look.compare("io", workers=2, backend=v), BACKENDS),
    *each("first_look.compare tasks_per_worker", (0, -1, HUGE, 2.5),
          lambda v: first_look.compare("io", workers=2, tasks_per_worker=v), "tasks must be a positive integer, at most"),
    *each("first_look.side_by_side workers", BAD_COUNTS, lambda v: first_look.side_by_side("io", workers=v), WORKERS),
    *each("first_look.side_by_side kind", ("gpu",), lambda v: first_look.side_by_side(v, workers=2), KINDS),
    *each("first_look.side_by_side tasks_per_worker", (0, HUGE, 2.5),
          lambda v: first_look.side_by_side("io", workers=2, tasks_per_worker=v), "tasks must be a positive integer, at most"),
    *panel_cases("compare", compare_panel, "workers", (0, -1, HUGE), WORKERS),
    *panel_cases("compare", compare_panel, "kind", ("gpu",), KINDS),
    *panel_cases("compare", compare_panel, "backend", ("gpu",), BACKENDS),
    *panel_cases("compare", compare_panel, "backend", ("sequential",), "from 1 to 1,"),
    *each("first_look.four_ways_verdict seconds", ({}, None, {"sequential": 1.0}),
          first_look.four_ways_verdict, "seconds must map each of sequential, threading.Thread"),
    *each("first_look.four_ways_verdict a time", (0, -1.0, "1 s", True),
          lambda v: first_look.four_ways_verdict({**dict.fromkeys(first_look.FOUR_WAYS, 1.0), "sequential": v}),
          "must be a positive number of seconds"),
]
