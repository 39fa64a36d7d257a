"""The form of ``POST /campaigns``: the options of ``dialer campaign create``, as form fields.

Field names are the CLI's option names in snake_case; repeatable options (``question``,
``rule``, ``var``, ``phone_column``) are repeated fields (``phone_column`` also takes several
names in one field, separated by commas). Not offered: ``--suppress`` files (manage the global
list with ``dialer suppress``) and ``--rejects`` (the server keeps the rejects file, see
``GET /campaigns/{name}/rejects``). :data:`REQUEST_BODY` is the OpenAPI description of the
whole body, built from :class:`CampaignForm` so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from campaigns.spec import CampaignSpec
from dialer.api.errors import ApiError
from dialer.api.upload import FILE_FIELD
from dialer.errors import InputError
from dialer.names import campaign_name
from dialer.split import parse_shares
from dialer.templates import MessageTemplates, parse_variables
from dialer.windows import DEFAULT_DAYS, DEFAULT_WINDOW

_LISTS = ("account", "question", "rule", "var", "recall", "phone_column")


class CampaignForm(BaseModel):
    """Empty text means "not given", as leaving the CLI option out does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Campaign name: 1-100 printable characters, no '/', unique ignoring case.",
        json_schema_extra={"pattern": "^[^/]+$"},
    )
    account: list[str] = Field(
        min_length=1,
        description="Provider account from dialer.toml (see GET /accounts); repeat as "
        "NAME=WEIGHT to split the contacts between several (e.g. a=70, b=30).",
    )
    failover: bool = Field(
        False, description="Send contacts not yet called to the other accounts while one cannot."
    )
    region: str = Field("US", description="Default country of the numbers.")
    phone_column: list[str] = Field(
        default_factory=list,
        description=(
            "Column holding the phone. Several, in order of preference (a row's contact is its "
            "first valid number, the others kept as alternate_phones): repeat the field, or "
            "separate the names with commas. Default: every column found by its name."
        ),
    )
    country_column: str = Field("", description="Column with each row's ISO country code.")
    window: str = Field(DEFAULT_WINDOW, description="Calling window in each recipient's time.")
    days: str = Field(DEFAULT_DAYS, description="Days the window opens.")
    timezone: str = Field("", description="Zone for numbers with no known zone (default UTC).")
    start: str = Field("", description="ISO 8601 start (default: when started).")
    end: str = Field("", description="ISO 8601 end: dialing stops then.")
    max_calls: int | None = Field(
        None, ge=1, description="Calls per contact: a no-answer/busy is called again until then."
    )
    max_attempts: int | None = Field(
        None, ge=1, description="Old name of max_calls.", json_schema_extra={"deprecated": True}
    )
    retry_after: str = Field("", description="Wait before calling a no-answer/busy again.")
    recall: list[str] = Field(
        default_factory=list,
        description="Recall ladder of an outcome, e.g. no-answer=1h,4h,1d (repeat per outcome, "
        "or several in one field separated by ';'); an outcome without one is final. "
        "Outcomes: no-answer, busy, voicemail, failed.",
    )
    order: str = Field(
        "",
        description="Which due contacts are claimed first: fresh-first, recalls-first or "
        "interleave (default).",
        json_schema_extra={"enum": ["fresh-first", "recalls-first", "interleave"]},
    )
    intro: str = Field("", description="Message when a human answers.")
    voicemail: str = Field("", description="Message left on voicemail.")
    instructions: str = Field("", description="Call instructions (instead).")
    intro_notes: str = Field("", description="Notes the agent builds its intro from.")
    question: list[str] = Field(default_factory=list, description="Question to ask (repeat).")
    rule: list[str] = Field(default_factory=list, description="Conversation rule (repeat).")
    var: list[str] = Field(default_factory=list, description="KEY=VALUE for every call (repeat).")
    append: bool = Field(False, description="Add these leads to an existing campaign.")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                values = value if isinstance(value, list) else [value]
                if any(isinstance(v, str) and "\x00" in v for v in values):
                    raise ValueError(f"{key} contains a NUL character")
        return data

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        try:
            return campaign_name(name)
        except InputError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("phone_column")
    @classmethod
    def _phone_columns(cls, values: list[str]) -> list[str]:
        """Each value may hold several names separated by commas; blanks are "not given"."""
        return [name.strip() for value in values for name in value.split(",") if name.strip()]

    @classmethod
    def from_fields(cls, fields: dict[str, list[str]]) -> CampaignForm:
        """Validate received fields. ApiError 422 with one line naming the first bad field."""
        data: dict[str, Any] = {}
        for key, values in fields.items():
            if key in _LISTS:
                data[key] = values
            elif len(values) > 1:
                raise ApiError(422, f"form field {key!r} is given {len(values)} times")
            else:
                data[key] = values[0]
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            raise ApiError(422, f"form field {where}: {message}" if where else message) from None

    def to_spec(self, csv_path: Path, rejects_path: Path) -> CampaignSpec:
        """The same spec ``dialer campaign create`` builds. InputError on a bad ``var`` or
        ``account``."""
        shares = parse_shares(self.account)
        return CampaignSpec(
            name=self.name,
            account=shares[0].account,
            shares=shares if len(shares) > 1 else (),
            failover=self.failover,
            csv_path=csv_path,
            region=self.region.upper(),
            phone_column=tuple(self.phone_column) or None,
            country_column=self.country_column or None,
            rejects_path=rejects_path,
            start=self.start or None,
            end=self.end or None,
            window=self.window,
            days=self.days,
            timezone=self.timezone or None,
            max_attempts=self.max_calls if self.max_calls is not None else self.max_attempts,
            retry_after=self.retry_after or None,
            recall=tuple(
                part.strip() for value in self.recall for part in value.split(";") if part.strip()
            ),
            order=self.order or None,
            templates=MessageTemplates(
                intro=self.intro,
                voicemail=self.voicemail,
                instructions=self.instructions,
                intro_notes=self.intro_notes,
                questions=tuple(self.question),
                rules=tuple(self.rule),
                variables=parse_variables(self.var),
            ),
            append=self.append,
        )


def _request_body() -> dict[str, Any]:
    schema = CampaignForm.model_json_schema()
    properties = {
        FILE_FIELD: {
            "type": "string",
            "format": "binary",
            "description": "The leads CSV (any encoding and delimiter the CLI reads).",
        },
        **schema["properties"],
    }
    # "Not given" is leaving a field out; a form has no null.
    for name in ("max_calls", "max_attempts"):
        properties[name] = {
            k: v for k, v in properties[name].items() if k not in ("anyOf", "default")
        } | {"type": "integer", "minimum": 1}
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "title": "CampaignUpload",
                    "required": [FILE_FIELD, *schema["required"]],
                    "properties": properties,
                    "additionalProperties": False,
                }
            }
        },
    }


REQUEST_BODY = _request_body()
"""``openapi_extra={"requestBody": ...}`` of ``POST /campaigns``."""
