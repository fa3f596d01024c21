"""The posture report as one self-contained HTML page: the operator's ``/report`` and
``vigil audit -o html``.

Pure: postures (``controls.posture``) and a time in, a string out. Everything is inline (CSS,
one SVG chart), and the page's own Content-Security-Policy forbids every fetch and every script,
so a saved copy attached to an audit ticket shows the same offline and cannot run anything a
message smuggled in. Every value from the cluster or AWS goes through ``html.escape``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from string import Template

from . import conditions as c
from .controls.posture import FAILED, NONCOMPLIANT, STATES, ObjectPosture

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

# Severity is decided here and only here; docs/report.md explains it, the page's legend quotes it.
SEVERITIES = {
    "critical": "the evidence itself is at risk: a trail's integrity not verified, a resource another "
                "owner holds (conflict, adoption required), a weakening held",
    "high": "AWS differs from the spec: drift",
    "medium": "not checked: a target failed (access denied, AWS error, an account's role not assumable) "
              "or the object could not run",
    "low": "out of reach by design: a suspended or closing account, an opt-in Region not enabled",
}
CRITICAL_REASONS = frozenset({c.CONFLICT, c.ADOPTION_REQUIRED, c.WEAKENING_HELD})
LOW_REASONS = frozenset({c.ACCOUNT_SUSPENDED, c.REGION_DISABLED})
COLOURS = {"critical": "#b3261e", "high": "#e8710a", "medium": "#c99400", "low": "#6b7280"}


def severity(reason: str, state: str) -> str:
    if reason in CRITICAL_REASONS:
        return "critical"
    if state == NONCOMPLIANT:
        return "high"
    return "low" if reason in LOW_REASONS else "medium"


@dataclass(frozen=True)
class Finding:
    severity: str
    kind: str
    name: str  # namespace/name
    target: str
    reason: str
    message: str


def findings(postures: Iterable[ObjectPosture]) -> list[Finding]:
    """One per target not compliant, one per object that could not run, one per trail whose
    integrity is not verified; most severe first."""
    found = []
    for p in postures:
        name = f"{p.namespace}/{p.name}"
        status, reason, message = p.conditions.get(c.INTEGRITY_VERIFIED, ("", "", ""))
        if status == "False":  # critical, as SEVERITIES says: the logs themselves may be altered or gone
            found.append(Finding("critical", p.kind, name, "integrity", reason, message))
        status, reason, message = p.conditions.get(c.READY, ("", "", ""))
        if status == "False" and not p.problems:
            found.append(Finding(severity(reason, FAILED), p.kind, name, "-", reason, message))
        found += [Finding(severity(pr.reason, pr.state), p.kind, name, pr.target, pr.reason, pr.message)
                  for pr in p.problems]
    order = list(SEVERITIES)
    return sorted(found, key=lambda f: (order.index(f.severity), f.kind, f.name, f.target))


def render(postures: list[ObjectPosture], generated_at: datetime, source: str = "") -> str:
    found = findings(postures)
    by_severity = {s: sum(1 for f in found if f.severity == s) for s in SEVERITIES}
    compliant = sum(1 for p in postures if p.status_of(c.COMPLIANT) == "True")
    targets = _total(p.accounts for p in postures)
    return PAGE.substitute(
        csp=CONTENT_SECURITY_POLICY,
        generated=_e(c.now_iso(generated_at)), source=_e(f" by {source}" if source else ""),
        objects=len(postures), compliant=compliant, findings=len(found), critical=by_severity["critical"],
        targets=f"{targets[0]}/{sum(targets)}", held=sum(p.held for p in postures),
        conflicts=sum(p.conflicts for p in postures),
        chart=_chart(by_severity), legend="".join(
            f'<dt><span class="sev {s}">{s}</span></dt><dd>{_e(text)}</dd>' for s, text in SEVERITIES.items()),
        object_rows=_object_rows(postures) or _empty(8, "No object reconciled by this process yet (a replica "
                                                        "that does not hold the leader Lease reconciles none)."),
        integrity_rows=_integrity_rows(postures) or _empty(3, "No OrgTrail."),
        account_rows=_count_rows(_merge(p.accounts for p in postures)) or _empty(5, "No target."),
        region_rows=_count_rows(_merge(p.regions for p in postures)) or _empty(5, "No regional target."),
        finding_rows="".join(
            f'<tr><td><span class="sev {f.severity}">{f.severity}</span></td><td>{_e(f.kind)}</td>'
            f"<td>{_e(f.name)}</td><td><code>{_e(f.target)}</code></td><td>{_e(f.reason)}</td>"
            f'<td class="msg">{_e(f.message)}</td></tr>' for f in found) or _empty(6, "No finding."),
        unlisted=_unlisted(postures))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _empty(columns: int, text: str) -> str:
    return f'<tr><td colspan="{columns}" class="none">{_e(text)}</td></tr>'


def _pill(status: str, reason: str = "") -> str:
    tone = {"True": "ok", "False": "bad"}.get(status, "unknown")
    return f'<span class="pill {tone}">{_e(status)}</span>' + (f" <small>{_e(reason)}</small>" if reason else "")


def _bar(counts: list[int]) -> str:
    """compliant | noncompliant | failed, as one stacked bar (widths are ours, never user data)."""
    total = sum(counts) or 1
    return '<span class="bar">' + "".join(
        f'<i class="{state}" style="width:{100 * n / total:.1f}%"></i>' for state, n in zip(STATES, counts) if n
    ) + "</span>"


def _total(counts: Iterable[dict[str, list[int]]]) -> list[int]:
    return [sum(col) for col in zip(*(v for d in counts for v in d.values()))] or [0, 0, 0]


def _merge(dicts: Iterable[dict[str, list[int]]]) -> dict[str, list[int]]:
    merged: dict[str, list[int]] = {}
    for d in dicts:
        for key, counts in d.items():
            merged[key] = [a + b for a, b in zip(merged.get(key, [0, 0, 0]), counts)]
    return merged


def _object_rows(postures: list[ObjectPosture]) -> str:
    rows = []
    for p in postures:
        ready = p.conditions.get(c.READY, ("Unknown", "", ""))
        compliant = p.conditions.get(c.COMPLIANT, ("Unknown", "", ""))
        counts = _total([p.accounts])
        rows.append(f"<tr><td>{_e(p.kind)}</td><td>{_e(p.namespace)}/{_e(p.name)}</td>"
                    f"<td>{_pill(ready[0], ready[1] if ready[0] != 'True' else '')}</td>"
                    f"<td>{_pill(compliant[0], compliant[1] if compliant[0] != 'True' else '')}</td>"
                    f'<td class="num">{counts[0]}/{sum(counts)} {_bar(counts)}</td>'
                    f'<td class="num">{p.held}</td><td class="num">{p.conflicts}</td>'
                    f'<td class="num">{_e(p.reconciled)}</td></tr>')
    return "".join(rows)


def _integrity_rows(postures: list[ObjectPosture]) -> str:
    rows = []
    for p in postures:
        if p.kind == "OrgTrail":
            status, reason, message = p.conditions.get(c.INTEGRITY_VERIFIED, ("Unknown", "", ""))
            rows.append(f"<tr><td>{_e(p.namespace)}/{_e(p.name)}</td><td>{_pill(status, reason)}</td>"
                        f'<td class="msg">{_e(message)}</td></tr>')
    return "".join(rows)


def _count_rows(counts: dict[str, list[int]]) -> str:
    return "".join(f'<tr><td><code>{_e(key)}</code></td><td class="num">{n[0]}</td><td class="num">{n[1]}</td>'
                   f'<td class="num">{n[2]}</td><td>{_bar(n)}</td></tr>' for key, n in sorted(counts.items()))


def _unlisted(postures: list[ObjectPosture]) -> str:
    """The book keeps a bounded number of problems per object; say so when some are not listed."""
    missing = sum(n[1] + n[2] for p in postures for n in p.accounts.values()) - sum(len(p.problems) for p in postures)
    return f"<p class='note'>{missing} more targets not compliant are counted above but not listed.</p>" \
        if missing > 0 else ""


def _chart(by_severity: dict[str, int]) -> str:
    """Findings by severity: a horizontal bar each, scaled to the largest."""
    top, width, row = max(by_severity.values()) or 1, 360, 30
    bars = []
    for i, (level, count) in enumerate(by_severity.items()):
        y, length = i * row, max(2, round(width * count / top)) if count else 0
        bars.append(f'<text x="0" y="{y + 19}" class="label">{level}</text>'
                    f'<rect x="80" y="{y + 5}" width="{length}" height="20" rx="3" fill="{COLOURS[level]}"/>'
                    f'<text x="{88 + length}" y="{y + 20}" class="count">{count}</text>')
    summary = ", ".join(f"{count} {level}" for level, count in by_severity.items())
    return (f'<svg id="severity-chart" role="img" aria-label="Findings by severity: {summary}" '
            f'xmlns="http://www.w3.org/2000/svg" width="{width + 130}" height="{row * len(by_severity)}" '
            f'viewBox="0 0 {width + 130} {row * len(by_severity)}"><title>Findings by severity: {summary}</title>'
            f'{"".join(bars)}</svg>')


PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil posture report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;
background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#59636e;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:12px}
.card b{display:block;font-size:22px}.card span{color:#59636e;font-size:12px}
.panel{display:flex;gap:24px;align-items:flex-start;background:#fff;border:1px solid #d1d9e0;border-radius:8px;
padding:16px}
svg{flex:none}svg .label{font-size:13px;fill:#1f2328}svg .count{font-size:13px;font-weight:600;fill:#1f2328}
dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:6px 10px}dd{margin:0;color:#3d444d}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d1d9e0;border-radius:8px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f0f3f6;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#59636e}
td.num{white-space:nowrap}td.msg{word-break:break-word;max-width:520px}td.none{color:#59636e;font-style:italic}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}small{color:#59636e}
.pill,.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.pill.ok{background:#1a7f37}.pill.bad{background:#b3261e}.pill.unknown{background:#8c959f}
.sev.critical{background:#b3261e}.sev.high{background:#e8710a}.sev.medium{background:#c99400}
.sev.low{background:#6b7280}
.bar{display:inline-flex;width:120px;height:8px;background:#eaeef2;border-radius:4px;overflow:hidden;
vertical-align:middle}
.bar i{display:block;height:100%}.bar .compliant{background:#1a7f37}.bar .noncompliant{background:#e8710a}
.bar .failed{background:#b3261e}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}.note{color:#59636e}
</style></head>
<body><main>
<h1>Vigil posture report</h1>
<p class="sub">Generated $generated$source. Targets are <code>account/region[/resource]</code>;
counts are compliant / not compliant / failed.</p>
<section id="summary" class="cards">
<div class="card"><b>$compliant/$objects</b><span>objects compliant</span></div>
<div class="card"><b>$targets</b><span>targets compliant</span></div>
<div class="card"><b>$findings</b><span>findings</span></div>
<div class="card"><b>$critical</b><span>critical findings</span></div>
<div class="card"><b>$held</b><span>weakenings held</span></div>
<div class="card"><b>$conflicts</b><span>conflicts</span></div>
</section>
<h2>Findings by severity</h2>
<section id="severity" class="panel">$chart<dl>$legend</dl></section>
<h2>Objects</h2>
<table id="objects"><thead><tr><th>Kind</th><th>Object</th><th>Ready</th><th>Compliant</th><th>Targets</th>
<th>Held</th><th>Conflicts</th><th>Last reconcile</th></tr></thead><tbody>$object_rows</tbody></table>
<h2>Trail integrity</h2>
<table id="integrity"><thead><tr><th>OrgTrail</th><th>IntegrityVerified</th><th>Message</th></tr></thead>
<tbody>$integrity_rows</tbody></table>
<div class="cols">
<div><h2>By account</h2><table id="accounts"><thead><tr><th>Account</th><th>Compliant</th><th>Not compliant</th>
<th>Failed</th><th></th></tr></thead><tbody>$account_rows</tbody></table></div>
<div><h2>By region</h2><table id="regions"><thead><tr><th>Region</th><th>Compliant</th><th>Not compliant</th>
<th>Failed</th><th></th></tr></thead><tbody>$region_rows</tbody></table></div>
</div>
<h2>Findings</h2>
<table id="findings"><thead><tr><th>Severity</th><th>Kind</th><th>Object</th><th>Target</th><th>Reason</th>
<th>Message</th></tr></thead><tbody>$finding_rows</tbody></table>
$unlisted
</main></body></html>
""")
