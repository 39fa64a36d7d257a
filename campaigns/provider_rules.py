"""The provider's rules, checked at import: a lead whose call the account would refuse is a
reject with the provider's reason, not a failed call later."""

from __future__ import annotations

from operator import itemgetter

import pandas as pd

from campaigns.spec import CampaignSpec
from dialer import templates as message_templates
from dialer.errors import InputError
from dialer.leads.contacts import RowCheck
from dialer.leads.headers import LeadColumns
from dialer.providers import build_provider
from dialer.providers.base import CallRequest, Messages
from dialer.settings import AccountConfig, Settings


def accounts_check(settings: Settings, spec: CampaignSpec, columns: LeadColumns) -> RowCheck | None:
    """:func:`row_check` against every account of the campaign: a campaign-level problem of
    any one is an InputError naming that account; a row is rejected with the first reason of
    any account (a contact may be dialed by each, see :mod:`dialer.split`)."""
    checks = [
        check
        for share in spec.account_shares()
        if (check := row_check(settings.account(share.account), spec, columns)) is not None
    ]
    if len(checks) <= 1:
        return checks[0] if checks else None

    def every(contacts: pd.DataFrame, leads: pd.DataFrame) -> pd.Series[str]:
        reasons = checks[0](contacts, leads)
        for check in checks[1:]:
            more = check(contacts, leads)
            reasons = reasons.where(reasons != "", more)
        return reasons

    return every


def row_check(account: AccountConfig, spec: CampaignSpec, columns: LeadColumns) -> RowCheck | None:
    """A per-row check of the provider's rules, or None when the provider has none to check.

    A provider whose ``check`` reads nothing that differs between the contacts of a campaign
    declares ``checks_rows=False`` in its capabilities: the probe request checked here then
    answers for every row, and the import builds no request per row.
    """
    provider = build_provider(account, None)  # it checks requests; nothing is sent
    blank = {name: "" for name in columns.variables}
    probe = _request(
        spec,
        blank,
        "+10000000000",
        ("Probe", "Lead", ""),
        message_templates.render(spec.templates, blank),
    )
    campaign_level = provider.check(probe)
    if campaign_level is not None:
        raise InputError(f"account {account.name!r}: {campaign_level}")
    if not provider.capabilities.checks_rows:
        return None
    # A row's messages depend only on its values of the columns the templates name (--var
    # values are the same for every row): render each combination of those once per chunk.
    names = columns.variables
    texts = [text for _, text in spec.templates.texts()]
    used = {name for text in texts for name in message_templates.placeholders(text)}
    positions = [i for i, name in enumerate(names) if name in used]
    rendering_key = itemgetter(*positions) if positions else _nothing

    def check(contacts: pd.DataFrame, leads: pd.DataFrame) -> pd.Series[str]:
        rendered: dict[object, Messages] = {}
        reasons: list[str] = []
        # A slice at a time: the cells become Python strings, several times their size.
        for start in range(0, len(contacts), _CHECK_SLICE):
            part = contacts.iloc[start : start + _CHECK_SLICE]
            lead_part = leads.iloc[start : start + _CHECK_SLICE]
            # The contact's variables, as the JSON of them would read back.
            variables = zip(*(lead_part[name].astype(str).tolist() for name in names), strict=True)
            rows = zip(
                part["phone"].tolist(),
                part["first_name"].tolist(),
                part["last_name"].tolist(),
                part["email"].tolist(),
                variables,
                strict=True,
            )
            for phone, first, last, email, cells in rows:
                values = dict(zip(names, cells, strict=True))
                key = rendering_key(cells)
                messages = rendered.get(key)
                if messages is None:
                    messages = rendered[key] = message_templates.render(spec.templates, values)
                request = _request(spec, values, phone, (first, last, email), messages)
                reasons.append(provider.check(request) or "")
        return pd.Series(reasons, index=contacts.index, dtype=object)

    return check


_CHECK_SLICE = 8_192


def _nothing(cells: tuple[str, ...]) -> tuple[()]:
    return ()


def _request(
    spec: CampaignSpec,
    values: dict[str, str],
    phone: str,
    names: tuple[str, str, str],
    messages: Messages,
) -> CallRequest:
    """The request dispatch would build for this lead (as :func:`dialer.dialing` does);
    ``messages`` is ``message_templates.render(spec.templates, values)``. ``values`` becomes
    the request's when there are no ``--var`` values to merge in."""
    return CallRequest(
        attempt_key="00000000-0000-0000-0000-000000000000",
        campaign=spec.name,
        phone=phone,
        first_name=names[0],
        last_name=names[1],
        email=names[2],
        variables={**spec.templates.variables, **values} if spec.templates.variables else values,
        messages=messages,
    )
