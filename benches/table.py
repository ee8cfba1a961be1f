#!/usr/bin/env python3
"""Prints criterion's medians as a Markdown table: simmer beside its baseline, with the ratio.

Run after `cargo bench` (it reads target/criterion/*/.../new/{benchmark,estimates}.json):

    taskset -c 0 cargo bench --bench runtime --bench timers && python3 benches/table.py
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def medians():
    """{group: {function_id (with parameter): median ns}}"""
    out = {}
    for bench in ROOT.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        name = meta["function_id"] or ""
        if meta.get("value_str"):
            name = f"{name} ({meta['value_str']})"
        out.setdefault(meta["group_id"], {})[name] = est["median"]["point_estimate"]
    return out


def main():
    groups = medians()
    if not groups:
        sys.exit(f"no criterion results under {ROOT}: run cargo bench first")
    print("| benchmark | simmer | baseline | simmer / baseline |")
    print("| --- | ---: | ---: | ---: |")
    for group in sorted(groups):
        results = groups[group]
        mine = {k: v for k, v in results.items() if "simmer" in k}
        for name, ns in sorted(mine.items()):
            variant = name.replace("simmer", "").replace("heap", "").strip(" ()")
            others = {k: v for k, v in results.items() if k not in mine}
            base = [(k, v) for k, v in others.items() if variant in k] or list(others.items())
            label = f"{group} [{variant}]" if variant else group
            for base_name, base_ns in sorted(base):  # one row per baseline
                print(f"| {label} | {fmt(ns)} | {fmt(base_ns)} ({base_name}) | **{ns / base_ns:.2f}x** |")


if __name__ == "__main__":
    main()
