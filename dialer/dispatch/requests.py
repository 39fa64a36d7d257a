"""The request a contact's call sends: its messages rendered from the campaign's templates
and the lead's own columns, and the callback URL the provider reports the outcome to."""

from __future__ import annotations

from dialer.callbacks import callback_url
from dialer.ledger.dispatch import Begin, Dispatchable
from dialer.providers.base import CallRequest
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates, render


def build_request(
    settings: Settings, account: AccountConfig, item: Dispatchable, begin: Begin
) -> CallRequest:
    """The request of ``item``'s attempt ``begin`` (its key is the correlation id sent to
    the provider)."""
    contact, campaign = item.contact, item.campaign
    templates = MessageTemplates.from_json(campaign.templates)
    values = {key: str(value) for key, value in contact.variables.items()}
    return CallRequest(
        attempt_key=begin.attempt_key,
        campaign=campaign.name,
        phone=contact.phone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        variables={**templates.variables, **values},
        messages=render(templates, values),
        callback_url=callback_url(settings, account, campaign.callback_token),
    )
