"""Form helpers shared by the apps' views."""

from typing import Any

from django.core.exceptions import ValidationError


def add_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError shown on the form: each error at its field when the form has
    that field, otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)
