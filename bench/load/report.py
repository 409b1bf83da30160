"""The figures as a readable report: facts first, then one row per concurrency."""

from __future__ import annotations

from typing import Any


def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{kind}: {n}" for kind, n in errors.items()) or "none"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return out


def render(f: dict[str, Any]) -> str:
    facts, setup = f["facts"], f["setup"]
    load = "reused" if setup["load_seconds"] is None else f"loaded in {setup['load_seconds']:.0f} s"
    out = [
        "Load benchmark (bench/load)",
        f"command:    {facts['command']}",
        f"commit:     {facts['commit']}   code: {facts['index_service']}",
        f"machine:    {facts['cores']} cores; load average {facts['load_average_at_start']} at "
        f"start, {facts.get('load_average_at_end')} at end; Python {facts['python']}; "
        f"PostgreSQL {facts['postgresql']}; started {facts['started']}",
        f"population: {setup['children']:,} children ({load})",
        f"mix:        {setup['mix_enquiries']:,} enquiries ({setup['mix_known']:,} about known "
        f"children, {setup['mix_about_children_with_key_worker']:,} of them with a key worker "
        f"(R1); {setup['mix_unknown']:,} unknown) from {setup['users']:,} practitioners in "
        f"{len(setup['organisations'])} organisations; rate limit "
        f"{setup['rate_limit_searches_per_user_minute']}/user/min",
        f"service:    serve workers: {setup['serve_workers']}, plus `index-service worker`; "
        f"{setup['duration_s']:g} s per level after {setup['warmup_s']:g} s warm-up"
        + (f"; env {' '.join(setup['server_env'])}" if setup["server_env"] else ""),
        "",
    ]
    seq = f.get("sequential")
    if seq:
        lat = seq["latency_ms"]
        out += [
            f"Per enquiry, one process, {seq['enquiries']} sequential enquiries: "
            f"{seq['statements_per_enquiry']:.1f} SQL statements, "
            f"{seq['commits_per_enquiry']:.2f} commits, "
            f"{seq['rollbacks_per_enquiry']:.2f} rollbacks; latency p50 {_n(lat['p50'], 1)} / "
            f"p95 {_n(lat['p95'], 1)} / p99 {_n(lat['p99'], 1)} ms; answers {seq['statuses']}",
            "",
        ]
    header = [
        "conc", "enq/s", "p50 ms", "p95 ms", "p99 ms", "errors", "healthz/s", "enq/hz",
        "server CPU", "PG CPU", "worker CPU", "gen CPU", "gen CPU hz", "app ms/enq",
        "PG ms/enq", "load avg start -> end",
    ]  # fmt: skip
    rows, notes = [], []
    for level in f["levels"]:
        e, h = level["enquiries"], level["healthz"]
        errors = sum(e["errors"].values())
        if errors or h["errors"]:
            notes.append(
                f"  concurrency {level['concurrency']}: enquiries {_errors(e['errors'])}"
                f" ({e['refusals_without_retry_after']} 429/503 without Retry-After); "
                f"healthz {_errors(h['errors'])}"
            )
        rows.append(
            [
                str(level["concurrency"]),
                _n(e["per_second"], 1),
                _n(e["latency_ms"]["p50"], 1),
                _n(e["latency_ms"]["p95"], 1),
                _n(e["latency_ms"]["p99"], 1),
                str(errors),
                _n(h["per_second"], 0),
                _n(level["enquiries_over_healthz"], 3),
                f"{_n(e['server_cpu_percent'])}%",
                "n/a" if e["postgres_cpu_percent"] is None else f"{e['postgres_cpu_percent']:.0f}%",
                f"{_n(e['worker_cpu_percent'])}%",
                f"{_n(e['generator_cpu_percent'])}%",
                f"{_n(h['generator_cpu_percent'])}%",
                _n(e["app_cpu_ms_per_ok"], 2),
                _n(e["postgres_cpu_ms_per_ok"], 2),
                f"{level['load_average_start'][0]} -> {level['load_average_end'][0]}",
            ]
        )
    out += _table(header, rows)
    out += [
        "CPU: % of one core over the measured window (server: serve and its processes; PG: "
        "the backends of the bench database; gen: this generator, enquiry and healthz runs); "
        "app/PG ms: CPU per enquiry answered 201 (refusals' CPU included); "
        "enq/hz: enquiries/s over /healthz/s at that concurrency.",
    ]
    out += ["Errors (statuses other than 201/200, transport errors):", *(notes or ["  none"])]
    a = f.get("alerts")
    if a:
        d, b = a["enquiry_response_to_webhook_ms"], a["background"]
        out += [
            "",
            f"Alert latency, enquiry answer -> signed webhook arrival: p50 {_n(d['p50'], 0)} ms, "
            f"p95 {_n(d['p95'], 0)} ms, p99 {_n(d['p99'], 0)} ms, max {_n(d['max'], 0)} ms "
            f"over {a['webhooks_arrived']} alerts ({a['alert_enquiries']} alert enquiries, "
            f"answers {a['answers']}, {a['alerts_raised']} alerts raised, "
            f"{a['missing_after_30_s']} missing after 30 s; bad signatures "
            f"{a['bad_signatures']}; webhooks in the whole run "
            f"{a['webhook_deliveries_whole_run']})",
            f"  meanwhile the mix at concurrency {b['concurrency']}: {_n(b['per_second'], 1)} "
            f"enquiries/s, p95 {_n(b['latency_ms']['p95'], 1)} ms, errors {_errors(b['errors'])}; "
            f"load average {a['load_average'][0][0]} -> {a['load_average'][1][0]}",
        ]
    out += ["", f"Logs of the served processes: {f.get('logs')}"]
    return "\n".join(out)
