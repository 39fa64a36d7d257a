"""The control API under ``/_sandbox/``: fault rules, request records, config, health.

    GET    /_sandbox/health              {"ok": true}
    POST   /_sandbox/rules               add a rule (see :mod:`dialer.sandbox.rules`) → the rule
    GET    /_sandbox/rules               the active rules
    DELETE /_sandbox/rules[?phone=]      remove all rules, or one number's → {"deleted": n}
    GET    /_sandbox/requests[?phone=&route=&credentials=show]   request records, oldest
                                         first, credentials masked unless shown
    DELETE /_sandbox/requests            forget them → {"deleted": n}
    GET    /_sandbox/config              the current config
    POST   /_sandbox/config              change some keys → the new config
    POST   /_sandbox/reset               rules and records cleared, startup config restored
    POST   /_sandbox/outage              {"seconds": N}: refuse every call 503 for N seconds
    GET    /_sandbox/load                calls in progress, most at once, refusals, per API

Control requests are not recorded, not delayed and never faulted.
"""

from __future__ import annotations

from dialer.sandbox.http import Response
from dialer.sandbox.routing import Exchange, Reject, Route, error_field, json_object
from dialer.sandbox.rules import FaultRule

PREFIX = "/_sandbox/"
KIND = "control"


def health(exchange: Exchange) -> Response:
    return Response.json(200, {"ok": True})


def add_rule(exchange: Exchange) -> Response:
    try:
        rule = FaultRule.from_json(json_object(exchange, error_field))
    except ValueError as exc:
        raise Reject(error_field(400, str(exc))) from None
    exchange.state.rules.add(rule)
    return Response.json(201, rule.to_json())


def list_rules(exchange: Exchange) -> Response:
    return Response.json(200, exchange.state.rules.to_json())


def clear_rules(exchange: Exchange) -> Response:
    deleted = exchange.state.rules.clear(exchange.request.query.get("phone"))
    return Response.json(200, {"deleted": deleted})


def list_requests(exchange: Exchange) -> Response:
    query = exchange.request.query
    entries = exchange.state.journal.select(phone=query.get("phone"), route=query.get("route"))
    show = query.get("credentials") == "show"
    return Response.json(200, [entry.to_json(show_credentials=show) for entry in entries])


def clear_requests(exchange: Exchange) -> Response:
    return Response.json(200, {"deleted": exchange.state.journal.clear()})


def show_config(exchange: Exchange) -> Response:
    return Response.json(200, exchange.state.config.model_dump(mode="json"))


def change_config(exchange: Exchange) -> Response:
    state = exchange.state
    try:
        state.configure(state.config.updated(json_object(exchange, error_field)))
    except ValueError as exc:
        raise Reject(error_field(400, str(exc))) from None
    return show_config(exchange)


def start_outage(exchange: Exchange) -> Response:
    seconds = json_object(exchange, error_field).get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise Reject(error_field(400, "seconds: a number of seconds, 0 or more"))
    state = exchange.state
    state.load.outage_until = state.clock() + seconds
    return show_load(exchange)


def show_load(exchange: Exchange) -> Response:
    return Response.json(200, exchange.state.load.to_json(exchange.state.clock()))


def reset(exchange: Exchange) -> Response:
    exchange.state.reset()
    return Response.json(200, {"ok": True})


ROUTES = (
    Route(KIND, "GET", PREFIX + "health", health, error_field),
    Route(KIND, "POST", PREFIX + "rules", add_rule, error_field),
    Route(KIND, "GET", PREFIX + "rules", list_rules, error_field),
    Route(KIND, "DELETE", PREFIX + "rules", clear_rules, error_field),
    Route(KIND, "GET", PREFIX + "requests", list_requests, error_field),
    Route(KIND, "DELETE", PREFIX + "requests", clear_requests, error_field),
    Route(KIND, "GET", PREFIX + "config", show_config, error_field),
    Route(KIND, "POST", PREFIX + "config", change_config, error_field),
    Route(KIND, "POST", PREFIX + "reset", reset, error_field),
    Route(KIND, "POST", PREFIX + "outage", start_outage, error_field),
    Route(KIND, "GET", PREFIX + "load", show_load, error_field),
)
