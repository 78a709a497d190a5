"""A report as a list of blocks, rendered to Markdown and to a self-contained HTML page.

Both files come from the same blocks, so they can never disagree.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Document:
    """Headings, paragraphs, tables, lists and images, in order.

    Example:

    >>> doc = Document("Results")
    >>> doc.paragraph("Two runs.")
    >>> doc.table(["model", "accuracy"], [["lstm", "85.1"]])
    >>> print(doc.markdown().splitlines()[0])
    # Results
    """

    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("heading", level, text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("paragraph", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("bullets", list(items)))

    def table(self, headers: list[str], rows: list[list], right: set[int] | None = None) -> None:
        right = {i for i in range(1, len(headers))} if right is None else right
        self.blocks.append(("table", list(headers), [[str(c) for c in r] for r in rows], right))

    def image(self, path: str, alt: str) -> None:
        self.blocks.append(("image", path, alt))

    # ------------------------------------------------------------- renderers
    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out += [f"{'#' * block[1]} {block[2]}", ""]
            elif kind == "paragraph":
                out += [block[1], ""]
            elif kind == "bullets":
                out += [f"- {item}" for item in block[1]] + [""]
            elif kind == "table":
                _, headers, rows, right = block
                out.append("| " + " | ".join(headers) + " |")
                out.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
                out.append("")
            elif kind == "image":
                out += [f"![{block[2]}]({block[1]})", ""]
        return "\n".join(out)

    def html(self) -> str:
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                body.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
            elif kind == "paragraph":
                body.append(f"<p>{e(block[1])}</p>")
            elif kind == "bullets":
                body.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in block[1]) + "</ul>")
            elif kind == "table":
                _, headers, rows, right = block
                head = "".join(f"<th>{e(h)}</th>" for h in headers)
                cells = "".join(
                    "<tr>" + "".join(f"<td{' class=num' if i in right else ''}>{e(c)}</td>" for i, c in enumerate(row))
                    + "</tr>" for row in rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
            elif kind == "image":
                body.append(f'<figure><img src="{e(block[1])}" alt="{e(block[2])}"><figcaption>{e(block[2])}'
                            "</figcaption></figure>")
        return (f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{e(self.title)}</title>"
                f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


_CSS = ("body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
        "table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
        "th,td{border:1px solid #ccc;padding:.25rem .5rem}th{background:#f3f3f3}td.num{text-align:right}"
        "img{max-width:100%}figcaption{color:#555;font-size:.85rem}")
