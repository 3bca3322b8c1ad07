"""What a citizen filled in, checked against the procedure's JSON Schema, with the problems per
field in the reader's language (jsonschema's own messages are English and name schema terms)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

_CHECKER = FormatChecker()


def _message(error) -> str:
    kind = error.validator
    if kind == "required":
        return _("This field is required.")
    if kind == "enum":
        return _("Select a valid choice.")
    if kind == "maxLength":
        return _("Ensure this field has no more than %(n)d characters.") % {
            "n": error.validator_value
        }
    if kind == "minLength":
        return _("This field may not be blank.")
    if kind == "format" and error.validator_value == "date":
        return _("Enter a date as YYYY-MM-DD.")
    if kind == "additionalProperties":
        return _("This field is not part of the form.")
    if kind == "type":
        return _("Enter a valid value.")
    return _("Enter a valid value.")


def _unstorable(value: Any) -> bool:
    """Text the database cannot keep: a NUL character (PostgreSQL refuses it in JSON) or a lone
    surrogate (not UTF-8 at all), in a value or in a key, at any depth."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def form_errors(schema: dict[str, Any], data: Any) -> dict[str, list[str]]:
    """Field → messages; empty when the form is valid. Problems of the whole form under
    ``non_field_errors``."""
    if not isinstance(data, dict):
        return {"non_field_errors": [_("Enter a valid value.")]}
    # What the database cannot store is refused here, per field (a bad key: the whole form).
    if any(_unstorable(key) for key in data):
        return {"non_field_errors": [_("Enter a valid value.")]}
    errors: dict[str, list[str]] = {
        str(key): [_("Enter a valid value.")] for key, value in data.items() if _unstorable(value)
    }
    if errors or not schema:
        return errors
    validator = Draft202012Validator(schema, format_checker=_CHECKER)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            fields = [f for f in error.validator_value if f not in error.instance]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            fields = sorted(k for k in error.instance if k not in allowed)
        else:
            fields = [str(path[0]) if path else "non_field_errors"]
        for field in fields:
            message = _message(error)
            if message not in errors.setdefault(field, []):
                errors[field].append(message)
    return errors
