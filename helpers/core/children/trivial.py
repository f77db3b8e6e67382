"""Targets for measuring start costs: this module imports nothing, so a child that must import
it to find the target pays only for starting, not for the lab's own imports."""


def noop(_=None) -> None:
    """The cheapest possible task: what is left is the cost of getting there and back."""


def loaded_modules(_=None) -> list[str]:
    """The modules this process has imported: what a child paid for before its first task."""
    import sys  # always loaded already: importing it costs nothing

    return sorted(sys.modules)
