#!/usr/bin/env python3
"""Render a Lichen trace (Trace Event Format JSON) as a per-CPU timeline picture.

    tools/trace/render.py TRACE.json OUT.{png,svg} [--from MS] [--to MS] [--title TEXT]

One row per CPU: each task's stays as bars in the task's colour (the same task keeps its
colour on every CPU, so migrations show), the idle task greyed (WFI, the CPU asleep, lighter),
arrows for migrations and steals (task handed to another CPU) and IPIs (CPU to CPU). Reads the files kernel/trace/export.cc writes: `sim-run --trace x.json`
and the kernel's dump (`./lichen trace`). Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import json
import sys
import zlib

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

IDLE_COLOUR = "#d9d9d9"
WFI_COLOUR = "#f2f2f2"
# Arrow colours outside the task palette (tab20), so an arrow never reads as a task.
MIGRATE_COLOUR = "#000000"
IPI_COLOUR = "#000080"


def load(path):
    with open(path, encoding="ascii") as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    return doc, events


def slices(events):
    """Per CPU: (start_us, end_us, name, task, depth) of every B/E pair."""
    stacks, out = {}, {}
    for e in events:
        ph = e.get("ph")
        if ph not in ("B", "E"):
            continue
        tid = e["tid"]
        stack = stacks.setdefault(tid, [])
        if ph == "B":
            stack.append(e)
        elif stack:
            b = stack.pop()
            task = b.get("args", {}).get("task", -1)
            out.setdefault(tid, []).append((b["ts"], e["ts"], b["name"], task, len(stack), b.get("cat")))
    return out


def flows(events):
    """(cat, start_us, start_cpu, end_us, end_cpu) of every matched flow arrow."""
    starts, out = {}, []
    for e in events:
        if e.get("ph") == "s":
            starts[e["id"]] = e
        elif e.get("ph") == "f" and e["id"] in starts:
            s = starts.pop(e["id"])
            out.append((e.get("cat"), s["ts"], s["tid"], e["ts"], e["tid"]))
    return out


COLOURS = {}


def task_colour(task):
    # The 20 colours of tab20 in the order tasks first run (so the first 20 tasks all differ),
    # then a hash of the task id; the same task keeps its colour on every CPU.
    if task not in COLOURS:
        n = len(COLOURS)
        COLOURS[task] = n if n < 20 else zlib.crc32(str(task).encode()) % 20
    return plt.get_cmap("tab20")(COLOURS[task])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace")
    parser.add_argument("out")
    parser.add_argument("--from", dest="start", type=float, default=None, help="window start, ms")
    parser.add_argument("--to", dest="end", type=float, default=None, help="window end, ms")
    parser.add_argument("--title", default=None)
    parser.add_argument("--max-arrows", type=int, default=300)
    args = parser.parse_args()

    doc, events = load(args.trace)
    per_cpu = slices(events)
    for e in events:  # colours by first switch-in, in time order
        if e.get("ph") == "B" and e.get("cat") == "task":
            task_colour(e.get("args", {}).get("task", -1))
    if not per_cpu:
        sys.exit("render: no task slices in %s" % args.trace)
    cpus = sorted(per_cpu)
    t0 = min(s[0] for spans in per_cpu.values() for s in spans)
    t1 = max(s[1] for spans in per_cpu.values() for s in spans)
    start = t0 if args.start is None else t0 + args.start * 1000
    end = t1 if args.end is None else min(t1, t0 + args.end * 1000)
    if end <= start:
        sys.exit("render: the window --from %s --to %s holds no events" % (args.start, args.end))

    def ms(us):
        return (us - t0) / 1000.0

    height = 1.0 + 0.55 * len(cpus)
    fig, ax = plt.subplots(figsize=(12, height), dpi=100)
    names = {}
    for row, cpu in enumerate(cpus):
        y = len(cpus) - 1 - row
        bars = {}
        for b, e, name, task, depth, cat in per_cpu[cpu]:
            if e < start or b > end:
                continue
            b, e = max(b, start), min(e, end)
            if cat == "wfi":
                colour = WFI_COLOUR
            elif cat == "idle":
                colour = IDLE_COLOUR
            else:
                colour = task_colour(task)
                names.setdefault(task, (name, 0.0))
                names[task] = (name, names[task][1] + (e - b))
            bars.setdefault(colour, []).append((ms(b), max(ms(e) - ms(b), 1e-4)))
        for colour, spans in bars.items():
            inset = 0.12 if colour == WFI_COLOUR else 0.0
            ax.broken_barh(spans, (y - 0.4 + inset, 0.8 - 2 * inset), facecolors=colour, linewidth=0)

    def y_of(cpu):
        return len(cpus) - 1 - cpus.index(cpu) if cpu in cpus else None

    # Migrations (balance pushes, steals) and IPIs across CPUs; evenly thinned past the limit.
    arrows = [f for f in flows(events)
              if f[0] in ("migrate", "ipi") and start <= f[1] <= end and f[2] != f[4]]
    step = max(1, (len(arrows) + args.max_arrows - 1) // args.max_arrows)
    drawn = 0
    for cat, ts, src, tf, dst in arrows[::step]:
        ys, yd = y_of(src), y_of(dst)
        if ys is None or yd is None:
            continue
        colour = MIGRATE_COLOUR if cat == "migrate" else IPI_COLOUR
        ax.annotate("", xy=(ms(tf), yd), xytext=(ms(ts), ys),
                    arrowprops=dict(arrowstyle="->", color=colour, lw=0.8, alpha=0.8,
                                    shrinkA=0, shrinkB=0, mutation_scale=6))
        drawn += 1

    ax.set_yticks(range(len(cpus)))
    ax.set_yticklabels(["CPU %d" % c for c in reversed(cpus)])
    ax.set_xlim(ms(start), ms(end))
    ax.set_ylim(-0.6, len(cpus) - 0.4)
    ax.set_xlabel("time (ms)")
    title = args.title
    if title is None and isinstance(doc, dict):
        title = doc.get("otherData", {}).get("title")
    if title:
        lost = doc.get("otherData", {}).get("lost", 0) if isinstance(doc, dict) else 0
        ax.set_title(title + ("" if not lost else "  (%d events lost to ring overflow)" % lost), fontsize=10)
    top = sorted(names.items(), key=lambda kv: -kv[1][1])[:8]
    handles = [Patch(color=task_colour(t), label="%s (%s)" % (n, t)) for t, (n, _) in top]
    handles += [Patch(color=IDLE_COLOUR, label="idle"), Patch(color=WFI_COLOUR, label="idle, WFI"),
                Patch(color=MIGRATE_COLOUR, label="migration / steal"), Patch(color=IPI_COLOUR, label="IPI")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    # Reproducible files: no creation date in the metadata, fixed SVG ids.
    matplotlib.rcParams["svg.hashsalt"] = "lichen"
    metadata = {"Date": None} if args.out.endswith(".svg") else {"Software": None}
    fig.savefig(args.out, metadata=metadata)
    print("render: %s: %d CPUs, %.3f ms, %d of %d arrows" % (args.out, len(cpus), ms(end) - ms(start),
                                                             drawn, len(arrows)))


if __name__ == "__main__":
    main()
