"""The browser tests' helpers: the service under test, its HTTP API (urllib), reading the database.

scripts/browser-tests starts PostgreSQL and `kolab serve --development` and sets KOLAB_BASE_URL and
KOLAB_TEST_DATABASE_URL; the tests make the state they need through the API (as the demo officer, KOL
and brand) and look at it through the console in Chromium. SQL is used only to read and verify.
"""
import itertools
import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = os.environ.get("KOLAB_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
CHROMIUM = os.environ.get("KOLAB_CHROMIUM", "/usr/bin/chromium")
OUT = Path(os.environ.get("KOLAB_BROWSER_OUT", ROOT / ".build" / "browser-tests"))
PASSWORD = "kolab-demo-2026"
BRAND = "brand@susubunda.id"
OTHER_BRAND = "brand@batikkecil.id"
OFFICER = "officer.sari@kolab.id"
FIXTURES = json.loads((ROOT / "fixtures" / "accounts.json").read_text())
# The demo KOLs with an Instagram account (the test campaigns are on Instagram), taken in turn.
KOLS = [k for k in FIXTURES["kols"] if any(a["platform"] == "instagram" for a in k["social_accounts"])]
KOL_NAMES = {k["email"]: k["full_name"] for k in FIXTURES["kols"]}
CAMPAIGN_TITLES = ["Susu Bunda: Pagi Ceria", "Susu Bunda: Bekal Sekolah", "Susu Bunda: Libur Akhir Tahun",
                   "Susu Bunda: Tidur Nyenyak", "Susu Bunda: Sarapan Keluarga"]
_made = itertools.count()
STRINGS = ROOT / "Sources" / "KolabAPI" / "Console" / "Resources" / "strings"


def strings(language):
    """The console's own strings (one file per language), so that a reworded text does not break a test."""
    return json.loads((STRINGS / f"{language}.json").read_text())


EN, ID = strings("en"), strings("id")


# MARK: The HTTP API


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status, self.body = status, body


def call(method, path, token=None, body=None, headers=None):
    """One request to the API; the decoded JSON answer (or None), ApiError for any status >= 400."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        raise ApiError(error.code, error.read().decode(errors="replace")) from None
    return json.loads(text) if text.strip() else None


_tokens = {}


def token(email):
    if email not in _tokens:
        _tokens[email] = call("POST", "/v1/auth/tokens", body={"email": email, "password": PASSWORD})["token"]
    return _tokens[email]


def api(email, method, path, body=None, **kwargs):
    return call(method, path, token(email), body, **kwargs)


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


BRIEF_HASHTAGS = ["#SusuBunda", "#PagiCeria"]
BRIEF_MENTIONS = ["@susubunda.id"]


CAPTIONS = [
    "Pagi ceria bersama si kecil dan segelas Susu Bunda hangat #SusuBunda #PagiCeria",
    "Sebelum berangkat sekolah, Susu Bunda dulu biar semangat sampai siang #SusuBunda #PagiCeria @susubunda.id",
    "Rutinitas pagi kami: bangun, peluk, lalu Susu Bunda cokelat favorit si kakak #SusuBunda",
    "Si adik akhirnya mau sarapan! Rahasianya roti isi dan Susu Bunda #PagiCeria",
]


def draft_in_review(caption=None, revised_caption=None, kol=None):
    """A new campaign of Susu Bunda (officer Sari) whose one deliverable waits for the brand's review.

    With `revised_caption`, the officer sends v1 back to the KOL, who submits v2 with that caption, and
    the officer forwards v2: the draft page then compares v1 and v2. Returns a dict of the ids, the
    captions and the deliverable's draft due time.
    """
    number = next(_made)
    kol = kol or KOLS[number % len(KOLS)]["email"]
    caption = caption or CAPTIONS[number % len(CAPTIONS)]
    brand_id = api(BRAND, "GET", "/v1/brands")["data"][0]["id"]
    draft_due = (datetime.now(timezone.utc) + timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
    post_due = draft_due + timedelta(days=5)
    campaign = api(OFFICER, "POST", "/v1/campaigns", {
        "brand_id": brand_id, "title": f"{CAMPAIGN_TITLES[number % len(CAMPAIGN_TITLES)]} ({number + 1})", "platforms": ["instagram"],
        "kol_slots": 2, "description": "Morning routines with little ones, with Susu Bunda on the table.",
        "terms": {"fee_idr": 1500000},
    })
    cid = campaign["id"]
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/brief-versions", {
        "key_messages": ["A calm morning starts with Susu Bunda"], "dos": ["Show the pack in daylight"],
        "donts": ["No medical claims"], "hashtags": BRIEF_HASHTAGS, "mentions": BRIEF_MENTIONS,
        "deliverables": [{"key": "ig-feed", "platform": "instagram", "format": "feed_post", "quantity": 1,
                          "draft_due_at": iso(draft_due), "post_due_at": iso(post_due)}],
    })
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/brief-versions/1/publish")
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/publish")
    registration = api(kol, "POST", f"/v1/campaigns/{cid}/registrations", {"pitch": "Ibu dua anak, pagi kami selalu ramai."})
    rid = registration["id"]
    api(OFFICER, "POST", f"/v1/registrations/{rid}/accept")
    api(kol, "POST", f"/v1/registrations/{rid}/brief-acknowledgement", {"version": 1})
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/close-registration")
    deliverable = api(kol, "GET", f"/v1/registrations/{rid}/deliverables")["data"][0]
    did = deliverable["id"]
    media = [{"url": f"https://cdn.example.id/{kol.split('.')[0]}/pagi-ceria.jpg", "kind": "image"}]
    v1 = api(kol, "POST", f"/v1/deliverables/{did}/drafts", {"caption": caption, "media": media})
    drafts = {"campaign_id": cid, "registration_id": rid, "deliverable_id": did, "v1": v1["id"], "draft_id": v1["id"],
              "caption": caption, "draft_due_at": draft_due, "campaign_title": campaign["title"], "kol": kol,
              "kol_name": KOL_NAMES[kol], "media_url": media[0]["url"]}
    if revised_caption is not None:
        api(OFFICER, "POST", f"/v1/drafts/{v1['id']}/reviews",
            {"decision": "request_changes", "message": "Mbak, tolong sebut juga sarapannya ya."})
        v2 = api(kol, "POST", f"/v1/deliverables/{did}/drafts", {"caption": revised_caption, "media": media})
        drafts.update(v2=v2["id"], draft_id=v2["id"], caption=revised_caption, previous_caption=caption)
    api(OFFICER, "POST", f"/v1/drafts/{drafts['draft_id']}/reviews", {"decision": "forward"})
    return drafts


def deliverable_status(deliverable_id):
    return api(OFFICER, "GET", f"/v1/deliverables/{deliverable_id}")["status"]


def sql(query):
    """Reads the test database with psql (read and verify only); rows as lists of strings."""
    url = os.environ.get("KOLAB_TEST_DATABASE_URL")
    if not url:
        pytest.skip("KOLAB_TEST_DATABASE_URL is not set (scripts/browser-tests sets it)")
    result = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", query],
                            capture_output=True, text=True, check=True)
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def count_reviews(draft_id):
    return int(sql(f"SELECT count(*) FROM reviews WHERE draft_id = '{uuid.UUID(draft_id)}'")[0][0])


# MARK: The console in Chromium


def sign_in(page, email, password=PASSWORD, next_path=None):
    """Signs in through the form, as a person would."""
    page.goto("/app/login" + (f"?next={urllib.parse.quote(next_path, safe='')}" if next_path else ""))
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_load_state()
    return page


def signed_in_page(new_context, email=BRAND, **options):
    page = new_context(**options).new_page()
    sign_in(page, email)
    assert page.url.rstrip("/").endswith("/app"), f"sign-in as {email} did not reach /app: {page.url}"
    return page


# JavaScript that lists the visible form fields no label names: neither a <label for>, nor a wrapping
# <label>, nor aria-label / aria-labelledby.
UNLABELLED = """() => [...document.querySelectorAll('input, textarea, select')]
  .filter(e => e.type !== 'hidden' && e.type !== 'submit' && e.type !== 'button' && e.getClientRects().length > 0)
  .filter(e => !(e.id && document.querySelector(`label[for="${CSS.escape(e.id)}"]`)?.textContent.trim())
            && !e.closest('label') && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML)"""


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def screenshots_wanted():
    return os.environ.get("KOLAB_SCREENSHOTS") == "1"


# MARK: KOL and finance pages (issue 17)

FINANCE = "finance@kolab.id"
PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}


def all_strings(language):
    """Every string of one language as the console loads them: `en.json` and each part's `<part>.en.json`."""
    table = {}
    for path in sorted(STRINGS.glob("*.json")):
        if path.name == f"{language}.json" or path.name.endswith(f".{language}.json"):
            table.update(json.loads(path.read_text()))
    return table


def money(rupiah, language="en"):
    """The console's money: `IDR 1,500,000` (en) or `Rp1.500.000` (id)."""
    grouped = f"{abs(rupiah):,}".replace(",", "." if language == "id" else ",")
    sign = "-" if rupiah < 0 else ""
    return f"{sign}Rp{grouped}" if language == "id" else f"{sign}IDR {grouped}"


def call_bytes(method, path, token=None):
    """One request to the API; the status, the headers and the answer's bytes as sent (no decoding)."""
    request = urllib.request.Request(BASE + path, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        raise ApiError(error.code, error.read().decode(errors="replace")) from None


def user_id(email):
    return api(email, "GET", "/v1/me")["id"]


def open_campaign(title, fee_idr=1_500_000, eligibility=None, brand_review_required=True, description=""):
    """A recruiting Instagram campaign of Susu Bunda (officer Sari) with a published brief of one feed post."""
    brand_id = api(BRAND, "GET", "/v1/brands")["data"][0]["id"]
    draft_due = (datetime.now(timezone.utc) + timedelta(days=12)).replace(hour=9, minute=0, second=0, microsecond=0)
    body = {"brand_id": brand_id, "title": title, "platforms": ["instagram"], "kol_slots": 3,
            "description": description or "Morning routines with little ones, with Susu Bunda on the table.",
            "brand_review_required": brand_review_required, "terms": {"fee_idr": fee_idr}}
    if eligibility:
        body["eligibility"] = eligibility
    campaign = api(OFFICER, "POST", "/v1/campaigns", body)
    cid = campaign["id"]
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/brief-versions", {
        "key_messages": ["A calm morning starts with Susu Bunda"], "dos": ["Show the pack in daylight"],
        "donts": ["No medical claims"], "hashtags": BRIEF_HASHTAGS, "mentions": BRIEF_MENTIONS,
        "deliverables": [{"key": "ig-feed", "platform": "instagram", "format": "feed_post", "quantity": 1,
                          "draft_due_at": iso(draft_due), "post_due_at": iso(draft_due + timedelta(days=5))}],
    })
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/brief-versions/1/publish")
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/publish")
    return dict(campaign, draft_due_at=draft_due)


INSIGHTS = {"reach": 12_000, "impressions": 20_000, "views": 15_000, "likes": 900, "comments": 40, "shares": 12,
            "saves": 30, "clicks": 25, "evidence_urls": ["https://cdn.example.id/insights/pagi-ceria.png"]}


def post_and_complete(kol, deliverable_id):
    """An approved deliverable posted (8 days ago, so its insights are due), verified live, its insights
    sent and verified: completed, which calculates the payout once all of the registration's work is done."""
    posted_at = datetime.now(timezone.utc) - timedelta(days=8)
    api(kol, "POST", f"/v1/deliverables/{deliverable_id}/post",
        {"url": f"https://www.instagram.com/p/{deliverable_id[:8]}/", "posted_at": iso(posted_at)})
    assert api(OFFICER, "POST", f"/v1/deliverables/{deliverable_id}/post/verify")["status"] == "live"
    api(kol, "POST", f"/v1/deliverables/{deliverable_id}/insights", INSIGHTS)
    assert api(OFFICER, "POST", f"/v1/deliverables/{deliverable_id}/insights/verify")["status"] == "completed"


def calculated_payout(kol, fee_idr=1_500_000):
    """A KOL's finished work on a new campaign (no brand review): her payout, `calculated`, as the API gives it."""
    number = next(_made)
    campaign = open_campaign(f"{CAMPAIGN_TITLES[number % len(CAMPAIGN_TITLES)]} ({number + 1})", fee_idr=fee_idr,
                             brand_review_required=False)
    cid = campaign["id"]
    rid = api(kol, "POST", f"/v1/campaigns/{cid}/registrations", {"pitch": "Pagi kami selalu ramai."})["id"]
    api(OFFICER, "POST", f"/v1/registrations/{rid}/accept")
    api(kol, "POST", f"/v1/registrations/{rid}/brief-acknowledgement", {"version": 1})
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/close-registration")
    did = api(kol, "GET", f"/v1/registrations/{rid}/deliverables")["data"][0]["id"]
    draft = api(kol, "POST", f"/v1/deliverables/{did}/drafts",
                {"caption": CAPTIONS[number % len(CAPTIONS)], "media": [{"url": "https://cdn.example.id/pagi.jpg", "kind": "image"}]})
    api(OFFICER, "POST", f"/v1/drafts/{draft['id']}/reviews", {"decision": "approve"})
    post_and_complete(kol, did)
    payouts = api(FINANCE, "GET", f"/v1/payouts?campaign_id={cid}")["data"]
    assert len(payouts) == 1 and payouts[0]["status"] == "calculated", payouts
    return payouts[0]


def screenshot_for_docs(page, name, full_page=True, max_full_height=3000):
    """With KOLAB_SCREENSHOTS=1: the page as docs/screens/<name> (shrunk to 256 colours when `pngquant` is
    on the PATH); the whole page, unless it is taller than `max_full_height` px (a long list), then what the
    viewport shows, so that the file stays small. Without it, nothing."""
    if not screenshots_wanted():
        return
    import shutil
    screens = ROOT / "docs" / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    path = screens / name
    if full_page and page.evaluate("document.documentElement.scrollHeight") > max_full_height:
        full_page = False
    page.screenshot(path=str(path), full_page=full_page)
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--strip", "--output", str(path), "256", str(path)],
                       check=False)
    assert path.stat().st_size > 1000, f"{name} is empty"


def resend(page, sent, max_redirects=0):
    """Sends the very bytes of a form the browser posted (`sent`, a Playwright Request) once more, with the
    page's cookies: what a double click or a resubmitted form sends."""
    return page.request.post(sent.url, data=sent.post_data, max_redirects=max_redirects,
                             headers={"Content-Type": sent.headers.get("content-type", "application/x-www-form-urlencoded")})
