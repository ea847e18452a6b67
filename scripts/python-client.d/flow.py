"""A short admin flow through the Python client generated from openapi.json, and nothing else.

    python flow.py BASE_URL

Signs in as the demo admin, reads /v1/me, creates a brand, an officer and a draft campaign for them,
and finds the campaign in the list. Prints one line per step; any unexpected status, or an answer the
generated models cannot read, exits non-zero.
"""

import sys
import uuid
from http import HTTPStatus
from typing import Any, NoReturn, TypeVar

from kolab_api_client import AuthenticatedClient, Client
from kolab_api_client.api.auth import create_token, get_me
from kolab_api_client.api.brands import create_brand
from kolab_api_client.api.campaigns import create_campaign, list_campaigns
from kolab_api_client.api.users import create_user
from kolab_api_client.models import (
    Brand,
    Campaign,
    CampaignStatus,
    ListCampaignsResponse200,
    Login,
    NewBrand,
    NewCampaign,
    NewUser,
    NewUserRole,
    Platform,
    Problem,
    Role,
    Terms,
    Token,
    User,
)
from kolab_api_client.types import UNSET, Response

ADMIN_EMAIL = "admin@kolab.id"
ADMIN_PASSWORD = "kolab-demo-2026"
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expect(step: str, response: Response[Any], status: HTTPStatus, kind: type[T]) -> T:
    """The parsed body when the answer has the expected status and model; otherwise stops the flow."""
    if response.status_code != status or not isinstance(response.parsed, kind):
        detail = response.parsed.detail if isinstance(response.parsed, Problem) else response.content[:500]
        fail(f"{step}: expected {int(status)} {kind.__name__}, got {int(response.status_code)}: {detail!r}")
    return response.parsed


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: flow.py BASE_URL")
    base_url = sys.argv[1].rstrip("/")
    run = uuid.uuid4().hex[:8]

    with Client(base_url=base_url, raise_on_unexpected_status=True) as anonymous:
        token = expect(
            "sign in",
            create_token.sync_detailed(client=anonymous, body=Login(email=ADMIN_EMAIL, password=ADMIN_PASSWORD)),
            HTTPStatus.CREATED,
            Token,
        )
    print(f"signed in as {token.user.email} ({token.user.role}), token expires {token.expires_at.isoformat()}")

    with AuthenticatedClient(base_url=base_url, token=token.token, raise_on_unexpected_status=True) as client:
        me = expect("read /v1/me", get_me.sync_detailed(client=client), HTTPStatus.OK, User)
        if me.role != Role.ADMIN or me.id != token.user.id:
            fail(f"/v1/me answered {me.email} ({me.role}), not the signed-in admin")
        print(f"/v1/me: {me.display_name} <{me.email}>, role {me.role}")

        brand = expect(
            "create a brand",
            create_brand.sync_detailed(
                client=client, body=NewBrand(name=f"Toko Client {run}"), idempotency_key=f"flow-brand-{run}"
            ),
            HTTPStatus.CREATED,
            Brand,
        )
        print(f"created brand {brand.name} ({brand.id})")

        officer = expect(
            "create an officer",
            create_user.sync_detailed(
                client=client,
                body=NewUser(
                    email=f"officer.{run}@kolab.id",
                    password=f"rahasia-{run}",
                    role=NewUserRole.OFFICER,
                    display_name=f"Officer {run}",
                ),
            ),
            HTTPStatus.CREATED,
            User,
        )
        if officer.role != Role.OFFICER:
            fail(f"the new user has role {officer.role}, not officer")
        print(f"created officer {officer.email} ({officer.id})")

        campaign = expect(
            "create a campaign",
            create_campaign.sync_detailed(
                client=client,
                body=NewCampaign(
                    brand_id=brand.id,
                    officer_id=officer.id,
                    title=f"Kampanye Client {run}",
                    platforms=[Platform.INSTAGRAM],
                    kol_slots=3,
                    terms=Terms(fee_idr=1_500_000),
                ),
            ),
            HTTPStatus.CREATED,
            Campaign,
        )
        if campaign.status != CampaignStatus.DRAFT or campaign.officer_id != officer.id:
            fail(f"the new campaign is {campaign.status} with officer {campaign.officer_id}")
        print(
            f"created campaign {campaign.title!r} ({campaign.id}): {campaign.status}, {campaign.kol_slots} slots, "
            f"fee Rp{campaign.terms.fee_idr:,}, withholding {campaign.terms.withholding_bp} bp"
        )

        # The brand's campaigns, page by page, until the new one turns up.
        cursor = None
        pages = 0
        found = None
        while found is None:
            page = expect(
                "list campaigns",
                list_campaigns.sync_detailed(client=client, brand_id=brand.id, limit=50, cursor=cursor or UNSET),
                HTTPStatus.OK,
                ListCampaignsResponse200,
            )
            pages += 1
            found = next((c for c in page.data if c.id == campaign.id), None)
            cursor = page.next_cursor
            if found is None and not cursor:
                fail(f"campaign {campaign.id} is not in the list of its brand's campaigns")
        print(f"listed campaigns: {found.title!r} is there ({pages} page(s))")

    print("PYTHON CLIENT FLOW DONE")


if __name__ == "__main__":
    main()
