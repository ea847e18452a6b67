"""Finance on a 1280 px desktop: the approved payouts waiting for a batch with their count and totals, one
batch made from the page (a second click makes no second one), the bank file downloaded byte for byte as the
API exports it, and one line marked paid with the bank's reference and another failed with the reason."""
import csv
import io
from pathlib import Path

from console import (BASE, DESKTOP, FINANCE, UNLABELLED, all_strings, api, call_bytes, calculated_payout, money,
                     resend, screenshot_for_docs, screenshots_wanted, scroll_width, signed_in_page, token)

EN, ID = all_strings("en"), all_strings("id")
# Three demo KOLs with bank details, each paid a different fee.
EARNERS = [("ayu.lestari@example.id", 1_500_000), ("dewi.ratnasari@example.id", 2_250_000),
           ("siti.nurhaliza@example.id", 1_250_000)]


def path_of(page):
    return page.url[len(BASE):] if page.url.startswith(BASE) else page.url


def lines(table):
    """The payout lines of a table: {payout id: {gross, tax, net}} from the rows' data attributes, each
    checked against the amounts the row shows in its last three cells."""
    shown = {}
    for row in table.locator("tbody tr").all():
        amounts = {kind: int(row.get_attribute(f"data-{kind}-idr")) for kind in ("gross", "tax", "net")}
        cells = [c.strip() for c in row.locator("td").all_inner_texts()[-3:]]
        assert cells == [money(amounts[kind]) for kind in ("gross", "tax", "net")], (row.get_attribute("id"), cells)
        shown[row.get_attribute("id").removeprefix("payout-")] = amounts
    return shown


def totals(table):
    row = table.locator("tfoot tr.totals")
    cells = row.locator("td").all_inner_texts()
    return ({kind: int(row.get_attribute(f"data-{kind}-idr")) for kind in ("gross", "tax", "net")},
            int(row.get_attribute("data-count")), row.locator("th").inner_text(), [c.strip() for c in cells[-3:]])


def sums(shown):
    return {kind: sum(line[kind] for line in shown.values()) for kind in ("gross", "tax", "net")}


def count_label(count, strings):
    return f"{count} {strings['finance.payouts.count_one' if count == 1 else 'finance.payouts.count']}"


def check_desktop(page, name):
    assert scroll_width(page) <= 1280, f"{name}: {scroll_width(page)} px wide at 1280 px"
    assert page.evaluate(UNLABELLED) == [], name


def every_batch():
    return api(FINANCE, "GET", "/v1/payout-batches?limit=100")["data"]


def test_finance_batches_approved_payouts_downloads_the_bank_file_and_settles_lines(new_context):
    payouts = [calculated_payout(kol, fee) for kol, fee in EARNERS]
    for payout in payouts:
        assert api(FINANCE, "POST", f"/v1/payouts/{payout['id']}/approve")["status"] == "approved"
    mine = {p["id"]: {kind: p[f"{kind}_idr"] for kind in ("gross", "tax", "net")} for p in payouts}
    batches_before = len(every_batch())

    # Home: the approved payouts waiting, with the count and totals that are the sum of the lines shown.
    page = signed_in_page(new_context, FINANCE, **DESKTOP)
    assert page.locator("h1").inner_text() == EN["finance.home.title"]
    ready = page.locator("section[aria-labelledby=ready-heading]")
    waiting = lines(ready)
    assert set(mine) <= set(waiting), "the three approved payouts wait for a batch"
    for payout_id, amounts in mine.items():
        assert waiting[payout_id] == amounts, "each line's amounts are the API's"
        assert money(amounts["net"]) in ready.locator(f"#payout-{payout_id}").inner_text()
    amounts, count, label, cells = totals(ready)
    assert amounts == sums(waiting), "the totals are the sum of the lines shown"
    assert count == len(waiting) == ready.locator("tbody tr").count()
    assert label == f"{EN['finance.total']} ({count_label(count, EN)})"
    assert cells == [money(amounts["gross"]), money(amounts["tax"]), money(amounts["net"])]
    check_desktop(page, "home")
    # The same page in Bahasa Indonesia.
    page.goto("/app?lang=id")
    _, _, label_id, cells_id = totals(page.locator("section[aria-labelledby=ready-heading]"))
    assert label_id == f"{ID['finance.total']} ({count_label(count, ID)})"
    assert cells_id == [money(amounts["gross"], "id"), money(amounts["tax"], "id"), money(amounts["net"], "id")]
    page.goto("/app?lang=en")
    screenshot_for_docs(page, "finance-home-1280.png", full_page=False)

    # One batch, however often the button is pressed.
    with page.expect_request(lambda r: r.method == "POST" and r.url == f"{BASE}/app/payout-batches") as sent:
        ready.get_by_role("button", name=EN["finance.home.create"]).click()
    page.wait_for_url("**/app/payout-batches/*?done=created")
    batch_id = path_of(page).split("?")[0].rsplit("/", 1)[1]
    again = resend(page, sent.value)  # the second click of a double click: the same form, the same bytes
    assert again.status == 303, (again.status, again.text()[:300])
    assert again.headers.get("location") == f"/app/payout-batches/{batch_id}?done=created"
    assert again.headers.get("idempotent-replayed") == "true"
    page.go_back()  # and back to the home page, which now has nothing left to take
    assert path_of(page).split("?")[0] == "/app"
    assert EN["finance.home.ready_empty"] in page.locator("section[aria-labelledby=ready-heading]").inner_text()
    assert page.get_by_role("button", name=EN["finance.home.create"]).count() == 0
    assert len(every_batch()) == batches_before + 1, "one new batch"
    batch = api(FINANCE, "GET", f"/v1/payout-batches/{batch_id}")
    assert batch["payout_count"] == len(waiting)
    assert (batch["total_gross_idr"], batch["total_tax_idr"], batch["total_net_idr"]) == (
        amounts["gross"], amounts["tax"], amounts["net"])
    for payout_id in mine:
        payout = api(FINANCE, "GET", f"/v1/payouts/{payout_id}")
        assert (payout["status"], payout["batch_id"]) == ("exported", batch_id)

    # The batch page: its lines (those that waited), totals that add up, and the bank file.
    page.goto(f"/app/payout-batches/{batch_id}")
    table = page.locator("main table")
    shown = lines(table)
    assert shown == waiting, "the batch holds exactly the lines that waited"
    batch_amounts, batch_count, _, batch_cells = totals(table)
    assert batch_amounts == sums(shown) and batch_count == len(shown)
    assert batch_cells == [money(batch_amounts["gross"]), money(batch_amounts["tax"]), money(batch_amounts["net"])]
    check_desktop(page, "batch")
    with page.expect_download() as download:
        page.get_by_role("link", name=EN["finance.batch.csv"]).click()
    downloaded = Path(download.value.path()).read_bytes()
    status, _, exported = call_bytes("GET", f"/v1/payout-batches/{batch_id}/export.csv", token(FINANCE))
    assert status == 200
    assert downloaded == exported, "the download is the API's export, byte for byte"
    rows = list(csv.reader(io.StringIO(downloaded.decode("utf-8"))))
    assert len(rows) == 1 + len(shown), "a header and one row per line"
    for payout_id, amounts_of in mine.items():
        assert [r for r in rows if r[0] == payout_id][0][1] == str(amounts_of["net"])

    # One line paid with the bank's reference, another failed with the reason.
    paid, failed, left = list(mine)
    reference = "BCA-20261128-000417"
    reason = "Rekening tidak ditemukan: nomor rekening tidak aktif"
    page.locator(f"#pick-{paid}").check()
    page.get_by_label(EN["finance.bank_reference_label"]).fill(reference)
    page.get_by_role("button", name=EN["finance.batch.mark_paid"]).click()
    page.wait_for_url(f"**/app/payout-batches/{batch_id}?done=paid")
    assert page.get_by_role("status").inner_text() == EN["finance.done.paid"]
    page.locator(f"#pick-{failed}").check()
    page.get_by_label(EN["finance.reason_label"]).fill(reason)
    page.get_by_role("button", name=EN["finance.batch.mark_failed"]).click()
    page.wait_for_url(f"**/app/payout-batches/{batch_id}?done=failed")
    assert page.get_by_role("status").inner_text() == EN["finance.done.failed"]

    settled = {p: api(FINANCE, "GET", f"/v1/payouts/{p}") for p in mine}
    assert (settled[paid]["status"], settled[paid]["bank_reference"]) == ("paid", reference)
    assert settled[paid]["paid_at"] is not None
    assert (settled[failed]["status"], settled[failed]["failure_reason"]) == ("failed", reason)
    assert settled[left]["status"] == "exported", "the line nobody chose still awaits its transfer"
    batch = api(FINANCE, "GET", f"/v1/payout-batches/{batch_id}")
    assert (batch["paid_count"], batch["failed_count"]) == (1, 1)

    # The page shows where each line stands; settled lines cannot be chosen again.
    assert f"{EN['finance.bank_reference']}: {reference}" in table.locator(f"#payout-{paid}").inner_text()
    assert reason in table.locator(f"#payout-{failed}").inner_text()
    assert page.locator(f"#pick-{paid}").count() == 0 and page.locator(f"#pick-{failed}").count() == 0
    assert page.locator(f"#pick-{left}").count() == 1
    assert f"1 {EN['finance.batch.paid_count']} · 1 {EN['finance.batch.failed_count']}" in page.locator("main").inner_text()
    assert lines(table) == shown and totals(table)[0] == sums(shown), "settling changes no amount"
    check_desktop(page, "batch, settled lines")
    screenshot_for_docs(page, "finance-batch-1280.png")

    if screenshots_wanted():  # the other finance pages for docs/screens/, with this batch's settled lines on them
        for path, name in (("/app/payouts", "finance-payouts-1280.png"), ("/app/payout-batches", "finance-batches-1280.png"),
                           (f"/app/payouts/{failed}", "finance-payout-1280.png")):
            assert page.goto(path).status == 200, path
            check_desktop(page, path)
            screenshot_for_docs(page, name)
