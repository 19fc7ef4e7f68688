"""Practice feedback pages: suppression, no member ids, quality measures per practice, and a real headless
browser rendering one page with its funnel plots."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from sqlalchemy import insert, select

from measures.tables import measure_detail, measure_result
from tests.utilization.scenario import PRACTICES
from utilization.feedback import write_feedback, write_pdfs
from warehouse.models import MemberMonth


@pytest.fixture(scope="module")
def pages(planted_engine, tmp_path_factory):
    now = dt.datetime(2026, 1, 1)
    detail = []
    for npi, persons, met in ((PRACTICES[3], 15, 12), (PRACTICES[4], 5, 2)):
        for j in range(persons):
            detail.append(dict(measure_id="FUH-HH", measurement_year=2025, rate_id="30_day", unit_id=f"u{npi}{j}",
                               unit_type="discharge", person_id=f"{npi}-{j:02d}", excluded=False,
                               numerator_met=j < met, numerator_value=int(j < met), denominator_value=1))
    with planted_engine.begin() as conn:
        conn.execute(measure_detail.delete())
        conn.execute(measure_result.delete())
        conn.execute(insert(measure_detail), detail)
        conn.execute(insert(measure_result), [dict(
            measure_id="FUH-HH", measurement_year=2025, rate_id="30_day", stratum_type="total", stratum_value="total",
            rate_type="proportion", status="computed", computed_at=now)])
    out_dir = tmp_path_factory.mktemp("feedback")
    result = write_feedback(planted_engine, 2025, out_dir)
    return out_dir, result


def _page_of(out_dir, npi):
    return next(p.read_text() for p in sorted(out_dir.glob("practice_*.html")) if f"Practice {npi}:" in p.read_text())


def test_one_page_per_practice_and_an_index(pages):
    out_dir, result = pages
    assert result["pages"] == len(PRACTICES) == len(list(out_dir.glob("practice_*.html")))
    index = (out_dir / "index.html").read_text()
    assert all(npi in index for npi in PRACTICES)


def test_no_member_id_in_any_page(planted_engine, pages):
    out_dir, _ = pages
    with planted_engine.connect() as conn:
        ids = {v for r in conn.execute(select(MemberMonth.__table__.c.person_id, MemberMonth.__table__.c.member_id))
               for v in r}
    text = "".join(p.read_text() for p in out_dir.glob("*.html"))
    assert not [i for i in ids if i in text]


def test_small_cells_suppressed(pages):
    out_dir, _ = pages
    page = _page_of(out_dir, PRACTICES[3])
    rx_row = page.split("<td class='l'>rx_fills</td>")[1].split("</tr>")[0]
    assert rx_row.count("suppressed") == 5              # 10 fills: a count of 1-10, every derived value hidden
    assert "<td class='l'>FUH-HH 30_day</td><td>15</td><td>12</td><td>80.0</td>" in page
    small = _page_of(out_dir, PRACTICES[4])
    assert "<td class='l'>FUH-HH 30_day</td><td>suppressed</td>" in small


def test_page_shows_the_planted_over_utilizer_flags(pages):
    out_dir, _ = pages
    page = _page_of(out_dir, PRACTICES[0])
    ed_row = page.split("<td class='l'>ed_visits</td>")[1].split("</tr>")[0]
    assert "poisson_ci: high" in ed_row and "funnel_additive: high" in ed_row


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_page_renders_in_headless_chromium_with_plots(pages, tmp_path):
    out_dir, _ = pages
    page = sorted(out_dir.glob("practice_*.html"))[0]
    args = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<h1>Practice" in dom and dom.count('class="funnel"') >= 2 and 'class="own"' in dom
    shot = tmp_path / "page.png"
    subprocess.run([*args, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


def test_pdf_of_a_page_through_weasyprint(pages, tmp_path):
    pytest.importorskip("weasyprint", exc_type=ImportError)
    out_dir, _ = pages
    page = tmp_path / "one.html"
    page.write_text(sorted(out_dir.glob("practice_*.html"))[0].read_text())
    (pdf,) = write_pdfs([page])
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000


def test_methods_notebook_executes_on_a_small_warehouse(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from pathlib import Path

    from tests.utilization.scenario import planted
    from utilization.run import run_year
    from warehouse.engine import upgrade

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    upgrade(url)
    engine = planted(url).write(url)
    run_year(engine, 2025)
    engine.dispose()
    monkeypatch.setenv("WAREHOUSE_URL", url)
    nb = nbformat.read(Path(__file__).resolve().parents[2] / "notebooks" / "utilization_methods.ipynb", as_version=4)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "14 units, 14 assessable, " in text
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
