"""How long each notebook takes a learner: reading, predicting, running, exercises.

    python benchmarks/pacing.py            print the table from the text and the last recorded run
    python benchmarks/pacing.py --run      execute every notebook first and record its run time
    python benchmarks/pacing.py --write    also rewrite each notebook's minutes line to match
    python benchmarks/pacing.py --run --keep /tmp/run   keep the executed notebooks there

How the minutes are counted (the README's "Pacing" section says the same):
- reading: words a learner reads (Markdown, and code cells that are not hidden solutions) at
  READING_WORDS_PER_MINUTE, a pace for technical text with code;
- predicting: PREDICT_MINUTES per "Predict" question;
- running: a Run All of the notebook, timed by --run on the machine named in pacing.json;
- exercises: EXERCISE_MINUTES per exercise (each has one hidden solution cell).
The tests check that each notebook's minutes line matches this count and the recorded run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
RECORD = ROOT / "benchmarks" / "pacing.json"
READING_WORDS_PER_MINUTE = 150
PREDICT_MINUTES = 1
EXERCISE_MINUTES = 6
MOST_MINUTES = 45  # the longest a notebook may take a learner
LINE = re.compile(r"^\*About \d+ minutes: .*\*$", re.MULTILINE)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def hidden(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def words(path: Path) -> int:
    """Words a learner reads: Markdown and visible code, leaving out the minutes line itself."""
    text = [LINE.sub("", "".join(c["source"])) for c in cells(path) if not hidden(c)]
    return sum(len(part.split()) for part in text)


def counts(path: Path) -> dict[str, int]:
    found = cells(path)
    return {
        "words": words(path),
        "predictions": sum("".join(c["source"]).count("**Predict") for c in found
                           if c["cell_type"] == "markdown"),
        "exercises": sum(1 for c in found if c["cell_type"] == "code" and hidden(c)),
    }


def minutes(path: Path, run_seconds: float) -> dict[str, int]:
    found = counts(path)
    parts = {
        "reading": math.ceil(found["words"] / READING_WORDS_PER_MINUTE),
        "predicting": found["predictions"] * PREDICT_MINUTES,
        "running": math.ceil(run_seconds / 60),
        "exercises": found["exercises"] * EXERCISE_MINUTES,
    }
    return {"total": sum(parts.values()), **parts}


def minutes_line(path: Path, run_seconds: float) -> str:
    m = minutes(path, run_seconds)
    return (f"*About {m['total']} minutes: {m['reading']} reading, {m['predicting']} predicting, "
            f"{m['running']} running, {m['exercises']} exercises "
            f"([how these are counted](../README.md#pacing)).*")


def recorded() -> dict:
    return json.loads(RECORD.read_text()) if RECORD.exists() else {"notebooks": {}}


def run_all(path: Path, keep: Path | None = None) -> float:
    """Seconds a Run All takes, in a fresh kernel started from the notebooks folder; with
    `keep`, the executed notebook is saved in that folder (never in notebooks/)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, keep / path.name)
    return seconds


def record_runs(keep: Path | None = None) -> dict:
    runs = {}
    for path in NOTEBOOKS:
        runs[path.name] = round(run_all(path, keep), 1)
        print(f"{path.name}: Run All took {runs[path.name]} s", flush=True)
    record = {"machine": f"{platform.system()}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} "
                         f"usable CPUs, Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d"), "notebooks": runs}
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    return record


def write_line(path: Path, line: str) -> None:
    notebook = json.loads(path.read_text())
    title = "".join(notebook["cells"][0]["source"])
    if LINE.search(title):
        title = LINE.sub(line, title)
    else:
        heading, _, rest = title.partition("\n")
        title = f"{heading}\n\n{line}\n{rest}"
    lines = title.split("\n")
    notebook["cells"][0]["source"] = [x + "\n" for x in lines[:-1]] + [lines[-1]]
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="store_true", help="execute every notebook and record its run time")
    parser.add_argument("--write", action="store_true", help="rewrite each notebook's minutes line")
    parser.add_argument("--keep", type=Path, help="with --run: save the executed notebooks in this folder")
    options = parser.parse_args()
    if options.keep and options.keep.resolve() == (ROOT / "notebooks").resolve():
        parser.error("--keep must not be notebooks/: notebooks are stored without outputs")
    record = record_runs(options.keep) if options.run else recorded()
    print(f"run times recorded on {record.get('machine', '?')} ({record.get('date', '?')})")
    print(f"{'notebook':24} {'words':>6} {'read':>5} {'predict':>8} {'run':>4} {'exercises':>10} {'total':>6}")
    too_long = []
    for path in NOTEBOOKS:
        seconds = record["notebooks"].get(path.name, 0.0)
        m, c = minutes(path, seconds), counts(path)
        print(f"{path.name:24} {c['words']:>6} {m['reading']:>5} {m['predicting']:>8} {m['running']:>4} "
              f"{m['exercises']:>10} {m['total']:>6}")
        if m["total"] > MOST_MINUTES:
            too_long.append(path.name)
        if options.write:
            write_line(path, minutes_line(path, seconds))
    if too_long:
        print(f"longer than {MOST_MINUTES} minutes: {', '.join(too_long)}")
    return 1 if too_long else 0


if __name__ == "__main__":
    sys.exit(main())
