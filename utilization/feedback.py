"""Practice peer-comparison feedback pages: one HTML page per practice and an index (optionally PDF through
WeasyPrint when it is installed).

Each page shows, for the practice (billing TIN of its members' plurality primary-care NPI, utilization/metrics.py)
against its peer group: quality measures (proportion rates of the measure engine's detail rows, re-aggregated to the
practice of each person), utilization per 1,000 member-months with the expected rate, O/E, rank among peers and the
verdicts of the outlier methods, a funnel plot per headline metric (additive overdispersion limits, as
utilization/outliers.py), and the trend of O/E over the years computed. Counts of 1-10 are suppressed with
exports/suppression.py (the row's counts and everything derived from them); peers appear only as anonymous points,
and a point or trend value whose table row is suppressed is left out. No member ids are written.

The design follows the feedback evidence in shared/spec/pharmacy-and-utilization.md section 8: position on a funnel
rather than a league table, a concrete target (peer median), repeated each year.
"""
from __future__ import annotations

import html
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, and_, case, distinct, func, select

from exports.suppression import is_small, suppress
from measures.tables import measure_detail, measure_result
from utilization.config import UtilizationConfig
from utilization.metrics import metric_kind
from utilization.outliers import overdispersion
from utilization.tables import utilization_outlier_flag as FLAG, utilization_person_month as UPM, \
    utilization_unit_metric as UUM

HEADLINE = ("ed_visits", "ip_admissions", "readmissions", "primary_care_visits")
TABLE_METRICS = HEADLINE + ("ed_nonemergent", "ed_primary_care_treatable", "ed_preventable", "ip_days",
                            "outpatient_visits", "bh_ip_admissions", "bh_op_visits", "lab_services",
                            "imaging_services", "rx_fills", "discharges_without_followup",
                            "persons_without_primary_care", "persons_without_preventive", "paid_inpatient",
                            "paid_outpatient", "paid_professional", "paid_pharmacy", "paid_ed")
CSS = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eee}td.l,th.l{text-align:left}
.high{color:#b00;font-weight:bold}.low{color:#06c;font-weight:bold}.plots svg{margin:0 1em 1em 0}
.note{color:#555;font-size:90%}"""


def _esc(v) -> str:
    return html.escape("" if v is None else str(v))


def _fmt(v, digits=1, suppressed=False) -> str:
    if suppressed:
        return "suppressed"
    if v is None:
        return "&ndash;"
    return f"{float(v):,.{digits}f}"


def _quality(conn, year: int) -> dict[str, list[dict]]:
    """Per practice: measure x rate with denominator, numerator and rate (proportion rates only)."""
    people = (select(UPM.c.person_id, func.min(UPM.c.practice_id).label("practice_id"))
              .where(UPM.c.year == year, UPM.c.practice_id.is_not(None)).group_by(UPM.c.person_id)
              .subquery("fb_people"))
    proportions = (select(distinct(measure_result.c.measure_id).label("measure_id"), measure_result.c.rate_id)
                   .where(measure_result.c.measurement_year == year, measure_result.c.rate_type == "proportion")
                   .subquery("fb_props"))
    d = measure_detail
    rows = conn.execute(
        select(people.c.practice_id, d.c.measure_id, d.c.rate_id, func.count().label("denominator"),
               func.sum(case((d.c.numerator_met, 1), else_=0)).label("numerator"))
        .select_from(d.join(people, people.c.person_id == d.c.person_id)
                     .join(proportions, and_(proportions.c.measure_id == d.c.measure_id,
                                             proportions.c.rate_id == d.c.rate_id)))
        .where(d.c.measurement_year == year, d.c.excluded.is_(False))
        .group_by(people.c.practice_id, d.c.measure_id, d.c.rate_id)).all()
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r.practice_id].append({"measure": f"{r.measure_id} {r.rate_id}", "denominator": int(r.denominator),
                                   "numerator": int(r.numerator), "rate": r.numerator / r.denominator})
    return out


def _funnel_svg(metric: str, points: list[tuple[float, float]], own: tuple[float, float] | None, z: float,
                winsor: float) -> str:
    """An inline SVG funnel plot: O/E against expected, with 95 % and `z` additive-overdispersion limits."""
    w, h, pad = 360, 240, 36
    if not points:
        return ""
    e = np.array([p[0] for p in points])
    o = np.array([p[1] * p[0] for p in points])
    _, tau2, _ = overdispersion(o, e, winsor)
    x_max = float(e.max()) * 1.1
    y_max = max(2.0, max(p[1] for p in points) * 1.1, (own[1] * 1.1) if own else 0)

    def sx(x):
        return pad + (w - 2 * pad) * x / x_max

    def sy(y):
        return h - pad - (h - 2 * pad) * y / y_max
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="funnel plot {metric}" class="funnel">',
             f'<text x="{w / 2}" y="14" text-anchor="middle" font-size="12">{_esc(metric)}: O/E by expected</text>',
             f'<line x1="{sx(0)}" y1="{sy(1)}" x2="{sx(x_max)}" y2="{sy(1)}" stroke="#888"/>']
    grid = np.linspace(max(x_max / 200, 0.5), x_max, 60)
    for k, dash in ((1.96, "4,3"), (z, "")):
        for sign in (1, -1):
            ys = [max(0.0, 1 + sign * k * math.sqrt(1 / (4 * x) + tau2)) ** 2 for x in grid]
            path = " ".join(f"{sx(x):.1f},{sy(min(y, y_max)):.1f}" for x, y in zip(grid, ys))
            parts.append(f'<polyline points="{path}" fill="none" stroke="#c66" stroke-dasharray="{dash}"/>')
    for x, y in points:
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(min(y, y_max)):.1f}" r="3" fill="#999"/>')
    if own:
        parts.append(f'<circle cx="{sx(own[0]):.1f}" cy="{sy(min(own[1], y_max)):.1f}" r="6" fill="#d40" '
                     f'class="own"/>')
    parts.append(f'<text x="{w / 2}" y="{h - 6}" text-anchor="middle" font-size="11">expected events</text></svg>')
    return "".join(parts)


def write_feedback(engine: Engine, year: int, out_dir: Path, config=None, pdf: bool = False) -> dict:
    """Write one page per practice and index.html into out_dir; returns the pages written."""
    cfg = UtilizationConfig.load(config)
    with engine.connect() as conn:
        units = [dict(r._mapping) for r in conn.execute(
            select(UUM).where(UUM.c.unit_type == "practice", UUM.c.metric.in_(TABLE_METRICS)))]
        flags = conn.execute(select(FLAG.c.unit_id, FLAG.c.metric, FLAG.c.method, FLAG.c.verdict).where(
            FLAG.c.year == year, FLAG.c.unit_type == "practice", FLAG.c.verdict.in_(("high", "low")))).all()
        quality = _quality(conn, year)
    if not any(u["year"] == year for u in units):
        raise ValueError(f"no utilization results for {year}: run `icm utilization --year {year}` first")
    verdicts: dict[tuple, list[str]] = defaultdict(list)
    for f in flags:
        verdicts[(f.unit_id, f.metric)].append(f"{f.method}: {f.verdict}")
    this_year = [u for u in units if u["year"] == year]
    by_metric_group: dict[tuple, list[dict]] = defaultdict(list)
    for u in this_year:
        by_metric_group[(u["metric"], u["peer_group"])].append(u)
    # A unit's O/E also appears in the trend table and on the funnel plots: there it is left out whenever its table
    # row is suppressed (the same rule, exports/suppression.py), else a hidden row could be read off the plot.
    shown = {(u["unit_id"], u["metric"], u["year"])
             for u in suppress(units, count_fields=["persons", "observed"], blank_fields=[]) if not u["suppressed"]}
    trend: dict[tuple, dict[int, float]] = defaultdict(dict)
    for u in units:
        if float(u["expected"]) > 0 and (u["unit_id"], u["metric"], u["year"]) in shown \
                and metric_kind(u["metric"]) != "paid":
            trend[(u["unit_id"], u["metric"])][u["year"]] = float(u["observed"]) / float(u["expected"])
    out_dir.mkdir(parents=True, exist_ok=True)
    practices = sorted({u["unit_id"] for u in this_year})
    index_rows, pages = [], []
    for n, practice in enumerate(practices, 1):
        page = out_dir / f"practice_{n:04d}.html"
        rows = _utilization_rows(practice, this_year, by_metric_group)
        plots = []
        for metric in HEADLINE:
            own = next((u for u in this_year if u["unit_id"] == practice and u["metric"] == metric), None)
            if own is None:
                continue
            peers = [(float(u["expected"]), float(u["observed"]) / float(u["expected"]))
                     for u in by_metric_group[(metric, own["peer_group"])]
                     if u["unit_id"] != practice and float(u["expected"]) > 0 and (u["unit_id"], metric, year) in shown]
            mine = ((float(own["expected"]), float(own["observed"]) / float(own["expected"]))
                    if float(own["expected"]) > 0 and (practice, metric, year) in shown else None)
            plots.append(_funnel_svg(metric, peers + ([mine] if mine else []), mine, cfg.outliers.funnel_z,
                                     cfg.outliers.winsor))
        qual = suppress(quality.get(practice, []), count_fields=["numerator", "denominator"],
                        blank_fields=["numerator", "denominator", "rate"])
        page.write_text(_page(practice, year, rows, verdicts, plots, qual, trend))
        persons = next((u["persons"] for u in this_year if u["unit_id"] == practice), None)
        flagged = sum(1 for (p, _m), v in verdicts.items() if p == practice and v)
        index_rows.append((page.name, practice, None if is_small(persons) else persons, flagged))
        pages.append(page)
    index = out_dir / "index.html"
    index.write_text(_index(year, index_rows))
    pdfs = write_pdfs(pages + [index]) if pdf else []
    return {"year": year, "pages": len(pages), "index": str(index), "pdfs": len(pdfs)}


def _utilization_rows(practice: str, this_year: list[dict], groups: dict) -> list[dict]:
    rows = []
    for u in (u for u in this_year if u["unit_id"] == practice):
        peers = groups[(u["metric"], u["peer_group"])]
        ratios = sorted((float(p["observed"]) / float(p["expected"]) if float(p["expected"]) else 0.0, p["unit_id"])
                        for p in peers)
        oe = float(u["observed"]) / float(u["expected"]) if float(u["expected"]) else None
        rank = next(i for i, (_r, uid) in enumerate(ratios, 1) if uid == practice)
        kind = metric_kind(u["metric"])
        rows.append({"metric": u["metric"], "kind": kind, "persons": u["persons"],
                     "observed": None if kind == "paid" else float(u["observed"]),
                     "rate": float(u["rate"] or 0), "expected_rate": float(u["expected_rate"] or 0), "oe": oe,
                     "peer_median": float(np.median([float(p["rate"] or 0) for p in peers])),
                     "rank": f"{rank} of {len(peers)}", "peer_group": u["peer_group"]})
    order = {m: i for i, m in enumerate(TABLE_METRICS)}
    rows.sort(key=lambda r: order[r["metric"]])
    return suppress(rows, count_fields=["persons", "observed"],
                    blank_fields=["persons", "observed", "rate", "expected_rate", "oe", "peer_median", "rank"])


def _page(practice, year, rows, verdicts, plots, quality, trend) -> str:
    unit = {"count": "per 1,000 member-months", "paid": "PMPM $", "person": "share of eligible persons"}
    util = "".join(
        f"<tr><td class='l'>{_esc(r['metric'])}</td><td class='l'>{unit[r['kind']]}</td>"
        + "".join(f"<td>{_fmt(r[c], 2, r['suppressed'])}</td>" for c in ("rate", "expected_rate", "oe", "peer_median"))
        + f"<td>{_esc(r['rank']) if not r['suppressed'] else 'suppressed'}</td>"
        f"<td class='l'>{''.join(_verdict(v) for v in verdicts.get((practice, r['metric']), [])) if not r['suppressed'] else ''}"
        f"</td></tr>" for r in rows)
    qual = "".join(
        f"<tr><td class='l'>{_esc(q['measure'])}</td><td>{_fmt(q['denominator'], 0, q['suppressed'])}</td>"
        f"<td>{_fmt(q['numerator'], 0, q['suppressed'])}</td>"
        f"<td>{_fmt(None if q['rate'] is None else 100 * q['rate'], 1, q['suppressed'])}</td></tr>"
        for q in quality) or "<tr><td class='l' colspan='4'>no quality measure results for this year</td></tr>"
    years = sorted({y for (p, _m), v in trend.items() if p == practice for y in v})
    trend_rows = "".join(
        f"<tr><td class='l'>{_esc(m)}</td>" + "".join(f"<td>{_fmt(trend[(practice, m)].get(y), 2)}</td>" for y in years)
        + "</tr>" for m in HEADLINE if (practice, m) in trend)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Practice {_esc(practice)}: peer comparison {year}</title><style>{CSS}</style></head><body>
<h1>Practice {_esc(practice)}: utilization and quality against peers, {year}</h1>
<p class="note">Peer group: {_esc(rows[0]['peer_group'] if rows else '')}. Expected values are indirectly standardised
on age, sex, eligibility group, dual status and risk score band. Counts of 1 to 10 are suppressed. Points on the
funnel plots are practices of the peer group; the large point is this practice; dashed lines: 95 %, solid: 99.8 %
limits with overdispersion.</p>
<h2>Utilization</h2><table><tr><th class='l'>metric</th><th class='l'>unit</th><th>rate</th><th>expected</th>
<th>O/E</th><th>peer median</th><th>rank (O/E, low first)</th><th class='l'>flags</th></tr>{util}</table>
<h2>Funnel plots</h2><div class="plots">{''.join(plots)}</div>
<h2>Quality measures</h2><table><tr><th class='l'>measure</th><th>denominator</th><th>numerator</th><th>rate %</th></tr>
{qual}</table>
<h2>Trend (O/E by year)</h2><table><tr><th class='l'>metric</th>{''.join(f'<th>{y}</th>' for y in years)}</tr>
{trend_rows}</table>
<p><a href="index.html">All practices</a></p></body></html>"""


def _verdict(v: str) -> str:
    cls = "high" if v.endswith("high") else "low"
    return f"<span class='{cls}'>{_esc(v)}</span> "


def _index(year, rows) -> str:
    body = "".join(f"<tr><td class='l'><a href='{_esc(f)}'>{_esc(p)}</a></td><td>{_fmt(n, 0, n is None)}</td>"
                   f"<td>{k}</td></tr>"
                   for f, p, n, k in rows)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Practice feedback {year}</title>
<style>{CSS}</style></head><body><h1>Practice peer comparison, {year}</h1>
<table><tr><th class='l'>practice</th><th>persons</th><th>metrics flagged by any method</th></tr>{body}</table>
</body></html>"""


def write_pdfs(pages: list[Path]) -> list[Path]:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise ValueError(f"PDF output needs WeasyPrint, which is not available here ({exc})") from None
    out = []
    for page in pages:
        target = page.with_suffix(".pdf")
        HTML(filename=str(page)).write_pdf(str(target))
        out.append(target)
    return out
