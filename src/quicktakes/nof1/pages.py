"""The tracker's page templates: one Jinja environment, escaping everything whatever a
template's file name (a `*.html.j2` name escapes nothing under `select_autoescape()`)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader

ENV = Environment(loader=PackageLoader("quicktakes.nof1", "templates"), autoescape=True)


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)
