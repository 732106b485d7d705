"""Self-contained HTML reports (figures embedded as PNG data URIs; no network needed).

A report is a title plus a list of sections; each section holds paragraphs, tables and
matplotlib figures. :func:`write_report` renders and writes it atomically.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from focuslab import __version__
from focuslab.files import write_text_atomic


@dataclass
class Section:
    """One section of a report: a heading, then text, tables and figures in order."""

    heading: str
    items: list[str] = field(default_factory=list)

    def text(self, paragraph: str) -> Section:
        """Append a paragraph (plain text, escaped)."""
        self.items.append(f"<p>{html.escape(paragraph)}</p>")
        return self

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Section:
        """Append a table; floats are shown with 4 significant digits."""

        def cell(v: object) -> str:
            if isinstance(v, float):
                return f"{v:.4g}"
            return html.escape(str(v))

        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
        self.items.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return self

    def figure(self, fig, caption: str = "") -> Section:
        """Append a matplotlib figure (embedded as PNG) and close it."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        img = f'<img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
        self.items.append(f"<figure>{img}{cap}</figure>")
        return self


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{border-bottom:2px solid #444}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:0.8em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}
th{background:#eee}figure{margin:1em 0}img{max-width:100%}figcaption{color:#555;font-size:90%}
.meta{color:#666;font-size:85%}
"""


def render_html(title: str, sections: Sequence[Section], *, command: str | None = None) -> str:
    """The report as one HTML string."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"focuslab {__version__} &middot; {when}"
    if command:
        meta += f" &middot; <code>{html.escape(command)}</code>"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1><p class='meta'>{meta}</p>"]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.heading)}</h2>")
        parts.extend(s.items)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | os.PathLike, title: str, sections: Sequence[Section], *,
                 command: str | None = None) -> Path:
    """Write the report to ``path`` atomically; returns the path."""
    return write_text_atomic(path, render_html(title, sections, command=command))
