"""A small HTML builder: every value is escaped unless it is already :class:`Html`.

The views build their markup from :func:`el` calls rather than string templates, so that patient
names, notes and flag messages can never inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Union

__all__ = ["Child", "Html", "el", "esc", "join", "void"]


class Html(str):
    """Markup that is safe to emit as is (built here or escaped)."""

    __slots__ = ()


Child = Union["Html", str, int, float, None, Iterable["Child"]]
"""What may go inside an element: text (escaped), markup, numbers, nested lists, ``None``."""

AttrValue = str | int | float | bool | None

# Elements without content or end tag (HTML Living Standard, "void elements").
_VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "col", "wbr"})


def esc(value: object) -> Html:
    """``value`` as text, escaped for element content and quoted attribute values."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def _render(child: Child) -> str:
    if child is None:
        return ""
    if isinstance(child, Html):
        return child
    if isinstance(child, str | int | float):
        return esc(child)
    return "".join(_render(c) for c in child)


def join(children: Iterable[Child]) -> Html:
    """The children rendered one after the other."""
    return Html("".join(_render(c) for c in children))


def _attrs(attrs: dict[str, AttrValue]) -> str:
    out = []
    for raw_name, value in attrs.items():
        # Python keywords and dashes: ``class_`` -> ``class``, ``aria_label`` -> ``aria-label``.
        name = raw_name.rstrip("_").replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {name}")
        else:
            out.append(f' {name}="{esc(value)}"')
    return "".join(out)


def el(tag: str, *children: Child, **attrs: AttrValue) -> Html:
    """``<tag attrs>children</tag>``; attribute names use ``_`` for ``-`` (``aria_label``)."""
    if tag in _VOID:
        return void(tag, **attrs)
    return Html(f"<{tag}{_attrs(attrs)}>{join(children)}</{tag}>")


def void(tag: str, **attrs: AttrValue) -> Html:
    """An element without content, such as ``<input>``."""
    return Html(f"<{tag}{_attrs(attrs)}>")
