"""`make bench`: every figure, each against its reference measured in the same run, as a
one-screen summary and as JSON (bench/results.json) to compare across commits.

    python -m bench                  # everything (about 20 minutes on 2 cores)
    python -m bench --quick          # smaller files and folders, one run: a smoke test
    python -m bench --only walk,idle # some figures
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bench import bandwidth, batching, convert, find, fleet, latency, rate, upload, walk
from bench.harness import KEY
from mavi_sync import __version__
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer

GB = upload.GB


@dataclass(frozen=True)
class Sizes:
    runs: int
    upload_bytes: int
    rss_sizes: tuple[int, ...]
    restart_files: int
    restart_runs: int  # more than the others: a restart is short, and find's own time varies by 30 %
    first_start_files: tuple[int, ...]
    latency_files: int
    idle_files: int
    idle_s: float
    rate_files: int
    convert_files: int
    batch_files: int
    capped_bytes: int
    fleet_files: int
    find_videos: int


FULL = Sizes(runs=3, upload_bytes=GB, rss_sizes=(GB, 4 * GB), restart_files=100_000, restart_runs=7,
             first_start_files=(25_000, 50_000, 100_000), latency_files=20, idle_files=10_000, idle_s=60,
             rate_files=150, convert_files=10, batch_files=40,
             capped_bytes=160 << 20, fleet_files=20, find_videos=100_000)
# The RSS sizes stay over 500 MB even here: below that the asset store takes a direct upload.
QUICK = Sizes(runs=1, upload_bytes=GB // 10, rss_sizes=(GB * 6 // 10, GB * 12 // 10), restart_files=10_000,
              restart_runs=1,
              first_start_files=(2_500, 5_000, 10_000), latency_files=5, idle_files=1_000, idle_s=10,
              rate_files=40, convert_files=3, batch_files=20, capped_bytes=48 << 20,
              fleet_files=8, find_videos=10_000)


def _figures(url: str, s: Sizes) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "upload": lambda: upload.throughput_and_cpu(url, s.upload_bytes, s.runs),
        "memory": lambda: upload.memory(url, s.runs, s.rss_sizes),
        "restart": lambda: walk.restart(s.restart_files, url, s.restart_runs),
        "first_start": lambda: walk.first_start(list(s.first_start_files), url, s.runs),
        "latency": lambda: latency.measure(url, s.latency_files),
        "rate": lambda: rate.measure(per_minute=600, files=s.rate_files, runs=s.runs),
        "idle": lambda: latency.idle(url, s.idle_files, s.idle_s),
        "convert": lambda: convert.measure(s.runs, s.convert_files),
        "batching": lambda: batching.measure(s.batch_files, s.runs),
        "bandwidth": lambda: bandwidth.measure(url, "8M", s.capped_bytes, s.runs),
        "fleet": lambda: fleet.measure(240.0, s.fleet_files, s.runs),
        "fleet_restart": lambda: fleet.restart(s.restart_files, url, s.runs),
        "fleet_claims": lambda: fleet.claims(5.0, 20000 if s.runs > 1 else 5000, s.runs),
        "find": lambda: find.measure(s.find_videos, s.runs),
    }


def _m(spread: dict[str, float], fmt: str = "{:.3g}") -> str:
    return f"{fmt.format(spread['median'])} ({fmt.format(spread['min'])}–{fmt.format(spread['max'])})"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def summary(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, ours, reference, target, verdict) rows; medians with (min–max)."""
    rows = []
    if "upload" in results:
        u = results["upload"]
        rows.append((f"upload throughput, {u['size_mb'] / 1000:g} GB video (MB/s)", _m(u["daemon_mb_per_s"]),
                     "curl " + _m(u["curl_mb_per_s"]), "≥ 0.9 × curl: " + _m(u["throughput_ratio"], "{:.2f}"),
                     _verdict(u["throughput_ratio"]["median"] >= 0.9)))
        rows.append(("CPU s per GB (hash + send)", _m(u["daemon_cpu_s_per_gb"]),
                     "curl+sha256sum " + _m(u["reference_cpu_s_per_gb"]),
                     "≤ 1.5 ×: " + _m(u["cpu_ratio"], "{:.2f}"), _verdict(u["cpu_ratio"]["median"] <= 1.5)))
    if "memory" in results:
        m = results["memory"]
        keys = [k for k in m if k.endswith("gb_peak_mb") and k[0].isdigit()]
        by_size = lambda part: ", ".join(  # noqa: E731
            f"{k.split('gb')[0]} GB: {_m(m[k.replace('_peak', part)])}" for k in keys if k.replace('_peak', part) in m)
        worst = max(m[k]["max"] for k in keys)
        rows.append(("peak RSS of the daemon (VmHWM), v2 signed URL (MB)", by_size("_peak"), "—",
                     "≤ 80 MB; growth " + _m(m["growth"], "{:.2f}"),
                     _verdict(worst <= 80 and m["growth"]["median"] <= 1.10)))
        rows.append(("  of which its own memory (RssAnon peak)", by_size("_anon_peak"), "—", "", ""))
        if any(k.replace("_peak", "_helper_peak") in m for k in keys):
            rows.append(("  probe helper process (VmHWM)", by_size("_helper_peak"), "—", "", ""))
            rows.append(("  daemon + helper at once (PSS, sampled)", by_size("_pss_total_peak"), "—", "≤ 80 MB",
                         _verdict(max(m[k.replace("_peak", "_pss_total_peak")]["max"] for k in keys) <= 80)))
            rows.append(("  daemon + helper at once (RSS sum, sampled)", by_size("_rss_sum_peak"), "—", "report", ""))
    if "restart" in results:
        r = results["restart"]
        rows.append((f"restart, {r['files']:,} known files (s)", _m(r["walk_s"]), "find " + _m(r["find_s"]),
                     f"≤ 2 × find: {_m(r['ratio'], '{:.2f}')}; re-hashed {r['rehashed']}",
                     _verdict(r["ratio"]["median"] <= 2 and r["rehashed"] == 0)))
        if "unmarked_walk_s" in r:
            rows.append(("  first restart after the uploads (no marks yet)", f"{r['unmarked_walk_s']:.3g}", "find",
                         f"report: {r['unmarked_ratio']:.2f} × find", ""))
    if "first_start" in results:
        f = results["first_start"]
        for size in f["sizes"]:
            rows.append((f"first start, {size['files']:,} new files queued (s)", _m(size["queued_s"]),
                         "find " + _m(size["find_s"]), f"report: {_m(size['ratio'], '{:.2f}')} × find, "
                         f"{size['us_per_file']['median']:.0f} µs/file", ""))
        rows.append(("first start, cost per file largest/smallest", f"{f['growth']:.2f}", "1.0 = linear",
                     "no quadratic step", _verdict(f["growth"] < 1.5)))
    if "latency" in results:
        la = results["latency"]
        settle = la["settle_s"]
        for pattern, x in la["patterns"].items():
            rows.append((f"detection latency, {pattern} (s)", f"p95 {x['p95_s']:.2f}, max {x['max_s']:.2f}",
                         f"settle_s {settle:g} s", f"p95 ≤ settle + 0.5: +{x['p95_over_settle_s']:.2f}",
                         _verdict(x["p95_over_settle_s"] <= 0.5 and x["partial_uploads"] == 0)))
        rows.append((f"partial or extra uploads, {len(la['patterns'])} writer patterns", str(la["partial_uploads"]),
                     f"missing {la['missing']}", "none", _verdict(la["partial_uploads"] == 0 and not la["missing"])))
    if "rate" in results:
        ra = results["rate"]
        rows.append((f"rate-limit use, {ra['files']} backlog", _m(ra["share"], "{:.1%}"),
                     f"{ra['limit_per_minute']:g}/min", f"≥ 95 %, 0429: {ra['refused_0429']}",
                     _verdict(ra["share"]["median"] >= 0.95 and ra["refused_0429"] == 0)))
        st = ra.get("stalled")
        if st is not None:
            rows.append((f"  same, daemon stopped {st['stall_s']:g} s every {st['every_s']:g} s",
                         f"{st['share']:.1%}", "", f"report: 0429: {st['refused_0429']}", ""))
    if "idle" in results:
        i = results["idle"]
        rows.append((f"idle CPU, {i['files']:,} files, {i['seconds']:g} s", f"{i['share_of_one_core']:.3%}",
                     "one core", "< 0.5 %", _verdict(i["share_of_one_core"] < 0.005)))
    if "convert" in results:
        rows += _convert_rows(results["convert"])
    if "batching" in results:
        b = results["batching"]
        rows.append((f"image backlog, {b['files']} photos with identical fields (upload requests)",
                     _m(b["requests"], "{:.0f}"), "one per request " + _m(b["reference_requests"], "{:.0f}"),
                     f"≤ files / {b['batch']} + workers", _verdict(b["requests"]["max"] <= b["files"] / b["batch"] + 4)))
        rows.append((f"  time to the last one confirmed, {b['limit_per_minute']:g} uploads/min (s)", _m(b["seconds"]),
                     _m(b["reference_seconds"]), f"report: {_m(b['time_ratio'], '{:.2f}')} ×", ""))
    if "bandwidth" in results:
        w = results["bandwidth"]
        rows.append((f"capped upload rate, cap {w['cap']}, {w['size_mb']:.0f} MB (MB/s)", _m(w["capped_mb_per_s"]),
                     f"cap {w['cap_bytes_per_s'] / 1e6:.3g}", "within 5 %: " + _m(w["rate_ratio"], "{:.3f}"),
                     _verdict(0.95 <= w["rate_ratio"]["min"] and w["rate_ratio"]["max"] <= 1.05)))
        rows.append(("  CPU s per MB capped (net of idle) / uncapped", _m(w["capped_net_cpu_s_per_mb"], "{:.4f}"),
                     "uncapped " + _m(w["uncapped_cpu_s_per_mb"], "{:.4f}"), "≤ 1.0: " + _m(w["cpu_ratio"], "{:.2f}"),
                     _verdict(w["cpu_ratio"]["median"] <= 1.0)))
        rows.append(("  same, raw (idle ticking included)", _m(w["capped_cpu_s_per_mb"], "{:.4f}"),
                     f"idle {w['idle_cpu_s_per_s'] * 1000:.1f} ms/s", "report: " + _m(w["raw_cpu_ratio"], "{:.2f}"),
                     ""))
        rows.append(("  same, raw, against uncapped on a link as slow as the cap",
                     _m(w["capped_cpu_s_per_mb"], "{:.4f}"), "slow link " + _m(w["slow_link_cpu_s_per_mb"], "{:.4f}"),
                     "report: " + _m(w["cpu_ratio_vs_slow_link"], "{:.2f}"), ""))
    if "fleet" in results and "skipped" not in results["fleet"]:
        f = results["fleet"]
        rows.append((f"fleet: {f['nodes']} nodes sharing one account's budget, {f['limit_per_minute']:g}/min",
                     _m(f["share"], "{:.1%}"), "each pacing itself " + _m(f["reference_share"], "{:.1%}") +
                     f", 0429: {_m(f['reference_refused_0429'], '{:.0f}')}",
                     f"≥ 90 %, 0429: {f['refused_0429']}", _verdict(f["share"]["min"] >= 0.9 and f["refused_0429"] == 0)))
    if "fleet_restart" in results and "skipped" not in results["fleet_restart"]:
        r = results["fleet_restart"]
        rows.append((f"fleet: restart, {r['files']:,} known files, ledger in PostgreSQL (s)", _m(r["postgresql_walk_s"]),
                     "SQLite " + _m(r["sqlite_walk_s"]), "report: " + _m(r["ratio"], "{:.2f}") + " × SQLite", ""))
    if "fleet_claims" in results and "skipped" not in results["fleet_claims"]:
        c = results["fleet_claims"]
        rows.append((f"fleet: claims per second, {c['nodes']} nodes", _m(c["postgresql_per_s"], "{:.0f}"),
                     f"{c['nodes']} processes on one SQLite file " + _m(c["sqlite_per_s"], "{:.0f}"),
                     "report: " + _m(c["ratio"], "{:.2f}") + " × SQLite", ""))
    if "find" in results:
        rows += _find_rows(results["find"])
    return rows


def _find_rows(f: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    floor = f"floor {f['floor_s']:.1f} ({f['requests']} pages at {f['query_rate']:g}/s)"
    return [(f"check, {f['videos']:,} ledger rows against the server (s)", _m(f["check_s"]), floor,
             f"≤ 1.1 × floor: {_m(f['check_ratio'], '{:.2f}')}, 0429: {f['refused_0429']}",
             _verdict(f["check_ratio"]["median"] <= 1.1 and f["refused_0429"] == 0)),
            (f"recover, {f['videos']:,} tagged videos (s)", _m(f["recover_s"]), floor,
             f"≤ 1.1 × floor: {_m(f['recover_ratio'], '{:.2f}')}", _verdict(f["recover_ratio"]["median"] <= 1.1)),
            ("search, start to first printed hit (s)", _m(f["search_first_line_s"]), "curl " + _m(f["curl_s"]),
             f"report: +{_m(f['search_over_curl_s'], '{:.2f}')} s over curl", ""),
            ("  of which the CLI's start (mavi-sync --version) / the search's own", _m(f["cli_start_s"]),
             "", f"report: {_m(f['search_own_s'], '{:.2f}')} s", "")]


def _convert_rows(c: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    p, r, m = c["photos"], c["remux"], c["memory"]
    rows = [(f"HEIC → JPEG, {p['megapixels']:g} MP (photos/s)", _m(p["ours_per_s"]),
             ("heif-convert " + _m(p["reference_per_s"])) if "ratio" in p else p["reference"],
             (f"report: {_m(p['ratio'], '{:.2f}')} × heif-convert") if "ratio" in p else "report", ""),
            (f"MPEG-TS → MP4 remux, {r['mb']:g} MB (MB/s)", _m(r["ours_mb_per_s"]),
             ("ffmpeg -c copy " + _m(r["reference_mb_per_s"])) if "ratio" in r else r["reference"],
             (f"report: {_m(r['ratio'], '{:.2f}')} × ffmpeg") if "ratio" in r else "report", ""),
            (f"probe helper peak converting a {m['megapixels']:g} MP HEIC (VmHWM, MB)", f"{m['helper_vmhwm_mb']:g}",
             "—", "report", "")]
    t = c.get("transcode")
    if t is not None:
        rows.append((f"MPEG-4 Part 2 → H.264, {t['size']} (frames/s)", _m(t["ours_fps"]),
                     ("ffmpeg " + _m(t["reference_fps"])) if "ratio" in t else t["reference"],
                     (f"report: {_m(t['ratio'], '{:.2f}')} × ffmpeg") if "ratio" in t else "report", ""))
    return rows


def render(rows: list[tuple[str, str, str, str, str]]) -> str:
    head = ("figure", "mavi-sync", "reference", "target", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *map(line, rows)])


def _cpu_ticks() -> list[int]:
    return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def _steal_share(before: list[int], after: list[int]) -> float:
    """The share of CPU time the hypervisor gave to someone else during a figure: on a
    virtual machine this is the noise no median can remove, so it is shown beside it."""
    delta = [a - b for a, b in zip(after, before)]
    return round(delta[7] / max(1, sum(delta)), 4)  # the 8th field of the cpu line is steal


def _machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpus = sum(1 for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor"))
    return {"commit": commit or None, "version": __version__, "python": platform.python_version(),
            "cpus": cpus, "kernel": platform.release(), "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, one run (a smoke test, not the figures)")
    p.add_argument("--only", default="",
                   help="comma-separated: upload,memory,restart,first_start,latency,rate,idle,convert,batching,bandwidth,fleet,fleet_restart,fleet_claims,find")
    p.add_argument("--runs", type=int, help="runs per figure (default 3; --quick 1)")
    p.add_argument("--out", type=Path, help="where the JSON goes (default bench/results.json; "
                                             "bench/results-quick.json with --quick)")
    args = p.parse_args(argv)
    args.out = args.out or Path(__file__).with_name("results-quick.json" if args.quick else "results.json")
    sizes = QUICK if args.quick else FULL
    if args.runs:
        sizes = Sizes(**{**sizes.__dict__, "runs": args.runs})
    results: dict[str, Any] = {"machine": _machine(), "quick": args.quick}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mavi-bench-emulator-") as tmp, \
            EmulatorServer(Path(tmp), Settings(api_key=KEY, keep_bytes=False)) as server:
        figures = _figures(server.url, sizes)
        wanted = [n.strip() for n in args.only.split(",") if n.strip()] or list(figures)
        unknown = set(wanted) - set(figures)
        if unknown:
            p.error(f"unknown figure(s) {', '.join(sorted(unknown))}; choose from {', '.join(figures)}")
        for name in wanted:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            t0, cpu0 = time.monotonic(), _cpu_ticks()
            results[name] = figures[name]()
            results[name]["bench_s"] = round(time.monotonic() - t0, 1)
            results[name]["steal"] = _steal_share(cpu0, _cpu_ticks())
    results["total_s"] = round(time.monotonic() - started, 1)
    table = render(summary(results))
    print(table)
    noisy = {n: results[n]["steal"] for n in wanted if results[n].get("steal", 0) >= 0.02}
    if noisy:
        print("\nCPU stolen by the hypervisor (noise beyond this machine's control): "
              + ", ".join(f"{n} {share:.1%}" for n, share in noisy.items()))
    print(f"\n{results['machine']['cpus']} CPUs, Python {results['machine']['python']}, commit "
          f"{results['machine']['commit']}; {results['total_s']:.0f} s; medians with (min–max) over "
          f"{sizes.runs} run(s) ({sizes.restart_runs} for restart); JSON in {args.out}")
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
