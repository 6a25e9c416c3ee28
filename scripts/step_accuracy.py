#!/usr/bin/env python3
"""How far compares run with coarser time steps are from a reference compare of the same config
(docs/verification.md, "Time steps of the main job").

    scripts/step_accuracy.py REFERENCE RUN [RUN ...]

Each argument is a `swellfield compare` output folder (`buffered/` and `pristine/` with their
`timeseries.csv`). For each RUN and each of its two cells: the steps, the
electrode swelling at the SOC both reached last (linear in SOC between rows), and the largest
and mean distance of the voltage and of the swelling from the reference's at the rows whose
times both share (the output times, which every run lands on), over the rows after the first
hour. Only the standard library.
"""

import csv
import sys
from pathlib import Path


def read(folder):
    with open(Path(folder) / "timeseries.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: float(v) if v not in ("", "NaN") else float("nan") for k, v in r.items()} for r in rows]


def at_soc(rows, soc, key):
    """The column `key` at `soc`, linear between the rows that bracket it."""
    for a, b in zip(rows, rows[1:]):
        if a["soc"] <= soc <= b["soc"]:
            w = (soc - a["soc"]) / (b["soc"] - a["soc"]) if b["soc"] > a["soc"] else 0.0
            return a[key] + w * (b[key] - a[key])
    return float("nan")


def compare(reference, run):
    ref = {round(r["time"], 6): r for r in reference}
    shared = [(r, ref[round(r["time"], 6)]) for r in run if round(r["time"], 6) in ref]
    shared = [(r, q) for r, q in shared if r["time"] > 3600.0]
    if not shared:
        sys.exit("no output rows after the first hour in common with the reference")
    dv = [abs(r["voltage"] - q["voltage"]) * 1e3 for r, q in shared]
    ds = [abs(r["swelling"] - q["swelling"]) * 100.0 for r, q in shared]
    soc = min(reference[-1]["soc"], run[-1]["soc"])
    swell = at_soc(run, soc, "swelling") * 100.0
    swell_ref = at_soc(reference, soc, "swelling") * 100.0
    return {
        "steps": int(run[-1]["step"]),
        "soc": soc,
        "swelling": swell,
        "d_swelling_end": swell - swell_ref,
        "max_dv": max(dv),
        "mean_dv": sum(dv) / len(dv),
        "max_ds": max(ds),
        "rows": len(shared),
    }


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: scripts/step_accuracy.py REFERENCE RUN [RUN ...] (compare output folders)")
    reference = sys.argv[1]
    print("| run | cell | steps | swelling at SOC (%) | minus reference (% points) "
          "| voltage: max / mean distance (mV) | swelling: max distance (% points) |")
    print("|---|---|---|---|---|---|---|")
    for run in sys.argv[1:]:
        for cell in ("buffered", "pristine"):
            r = compare(read(Path(reference) / cell), read(Path(run) / cell))
            name = "reference" if run == reference else Path(run).name
            print(f"| {name} | {cell} | {r['steps']} | {r['swelling']:.3f} at "
                  f"{r['soc']:.4f} | {r['d_swelling_end']:+.3f} | {r['max_dv']:.1f} / "
                  f"{r['mean_dv']:.2f} | {r['max_ds']:.3f} |")


if __name__ == "__main__":
    main()
