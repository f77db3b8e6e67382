"""One formatter per unit, so every verdict and figure writes a time or a size the same way;
and the shape of a verdict: one headline sentence, details on demand."""
from __future__ import annotations

import html

BINARY_UNITS = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))
DECIMAL_UNITS = (("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def ms(seconds: float) -> str:
    """0.0042 → '4.2 ms', 0.0123 → '12 ms', 1.5 → '1,500 ms': whole ms from 10 up, two digits below."""
    milliseconds = seconds * 1000
    return f"{milliseconds:,.0f} ms" if milliseconds >= 10 else f"{milliseconds:.2g} ms"


def us(seconds: float) -> str:
    """0.000042 → '42 µs': for costs too small to read in milliseconds."""
    return f"{seconds * 1e6:,.0f} µs"


def rate(bytes_per_second: float) -> str:
    """9.1e9 → '9.1 GB/s', 1.234e9 → '1.2 GB/s', 8.5e8 → '850 MB/s': decimal units, as bandwidth is quoted."""
    if bytes_per_second >= 1e9:
        return f"{bytes_per_second / 1e9:.1f} GB/s"
    return f"{bytes_per_second / 1e6:,.0f} MB/s"


def size(nbytes: float) -> str:
    """4096 → '4 KiB', 1.5 * 2**20 → '1.5 MiB', 10**8 → '100 MB', 1234 → '1.23 kB'.

    A size chosen in binary units (a whole number of tenths of one) is named in them; any
    other size, such as the decimal sizes notebook 02 sends, in decimal units.
    """
    nbytes = round(nbytes)
    for unit, scale in BINARY_UNITS:
        if nbytes >= scale and nbytes * 10 % scale == 0:
            return f"{nbytes / scale:g} {unit}"
    for unit, scale in DECIMAL_UNITS:
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} B"


def times(ratio: float, more: str, less: str, same: str) -> str:
    """A ratio in words that agree with it: times(3.2, "slower", "faster", …) → '3.2× slower',
    times(0.5, …) → '2.0× faster', and `same` within 10 % either way. The ratio is new ÷ old."""
    if ratio >= 1.1:
        return f"{ratio:.0f}× {more}" if ratio >= 10 else f"{ratio:.1f}× {more}"
    if ratio <= 1 / 1.1:
        return f"{1 / ratio:.0f}× {less}" if ratio <= 0.1 else f"{1 / ratio:.1f}× {less}"
    return same


class Verdict(str):
    """A verdict: one headline sentence (the claim, with this machine's figure) and the details
    behind it. As a str it is the headline and then the details, so print() and the try-it
    panels show all of it; a notebook cell that ends with one shows the headline in bold and the
    details folded underneath, opened on demand."""

    headline: str
    details: str

    def __new__(cls, headline: str, details: str = "") -> Verdict:
        verdict = super().__new__(cls, f"{headline}\n{details}" if details else headline)
        verdict.headline, verdict.details = headline, details
        return verdict

    def __repr__(self) -> str:  # the notebook's plain-text view: as print() shows it
        return str(self)

    def _repr_html_(self) -> str:
        headline = f"<p><b>{html.escape(self.headline)}</b></p>"
        if not self.details:
            return headline
        lines = "<br>".join(html.escape(line) for line in self.details.splitlines())
        return f"{headline}<details><summary>details</summary><p>{lines}</p></details>"
