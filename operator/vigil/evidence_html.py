"""The evidence bundle as one self-contained HTML page: what bundle.json says, for people.

Pure: the bundle (planning.evidence.build_bundle) in, a string out. No script, no fetch (the
same Content-Security-Policy as the posture report); every value goes through ``html.escape``.
Each row carries the JSON's values as data- attributes, so a reader (or a test) can match them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from .report_html import CONTENT_SECURITY_POLICY


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def render(bundle: Mapping[str, Any]) -> str:
    journal, digests, window = bundle["journal"], bundle["digests"], bundle["window"]
    rows = []
    for row in bundle["controls"]:
        since = row["continuouslyCompliantSince"]
        shown_since = ("not compliant" if since is None
                       else f"{since}{' (or before: the window starts)' if row['sinceWindowStart'] else ''}")
        digest = row["verifiedDigests"]
        attrs = " ".join(f'data-{k}="{_e(row[key])}"' for k, key in (
            ("kind", "kind"), ("name", "name"), ("account", "account"), ("region", "region"),
            ("resource", "resource"), ("compliant", "compliant"), ("since", "continuouslyCompliantSince")))
        rows.append(
            f"<tr {attrs}><td>{_e(row['kind'])}/{_e(row['name'])}</td><td>{_e(row['account'])}</td>"
            f"<td>{_e(row['region'])}</td><td>{_e(row['resource'])}</td>"
            f"<td class=\"{'ok' if row['compliant'] else 'bad'}\">{'compliant' if row['compliant'] else 'not compliant'}"
            f" ({_e(row['reason'])})</td><td>{_e(shown_since)}</td>"
            f"<td>{_e(digest['from']) + ' .. ' + _e(digest['to']) if digest else 'not verified'}</td>"
            f"<td><code>{_e(row['configured']['specSha256'][:16])}</code> ({_e(row['managementPolicy'])}, "
            f"{_e(row['configured']['configurations'])} configuration(s))"
            f"<details><summary>spec</summary><pre>{_e(json.dumps(row['configured']['spec'], indent=2))}</pre>"
            f"</details></td><td>{_e(row['records'])}</td></tr>")
    digest_line = (f"Trail {_e(digests.get('trail'))}: {_e(digests.get('statement'))}" if digests.get("trail")
                   else _e(digests.get("statement")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<title>Vigil evidence {_e(window['from'])} .. {_e(window['to'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #111; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }}
.ok {{ color: #137333; }} .bad {{ color: #b3261e; font-weight: bold; }}
pre {{ font-size: 0.85em; }}
</style></head><body>
<h1>Vigil evidence</h1>
<p id="window">From <time>{_e(window['from'])}</time> to <time>{_e(window['to'])}</time>,
generated <time>{_e(bundle['generated'])}</time>.</p>
<p id="journal" data-verified="{_e(journal['verified'])}" data-records="{_e(journal['records'])}">
Journal s3://{_e(journal['bucket'])}/{_e(journal['chain'])}: {_e(journal['statement'])}</p>
<p id="digests" data-verified="{_e(digests.get('verified'))}">{digest_line}</p>
<table id="controls"><thead><tr><th>Control</th><th>Account</th><th>Region</th><th>Resource</th><th>Verdict</th>
<th>Continuously compliant since</th><th>Verified digests</th><th>Configured</th><th>Records</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
