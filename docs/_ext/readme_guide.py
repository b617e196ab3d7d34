"""The user guide's pages, cut from the README at docs build time (the text is written once, in README.md).

Each ``## `` section of the README becomes one page (its ``###`` headings become the page's sections), so a
section added to the README (a new spec kind's, say) becomes a page with no change here. Links between
sections (``[...](#anchor)``) are pointed at the page that now holds the anchor. Pages the guide adds of its
own (docs/guide_extra/*.md) are listed after the README's, in the order of their file names.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def github_slug(title: str) -> str:
    """The anchor GitHub (and MyST's ``myst_heading_anchors``) gives a heading."""
    text = unicodedata.normalize("NFKC", title).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def sections(readme: str) -> tuple[str, list[tuple[str, str]]]:
    """(intro, [(title, body)]) of the README, split at its ``## `` headings outside code blocks."""
    parts: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in readme.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            parts.append((line[3:].strip(), []))
        else:
            parts[-1][1].append(line)
    intro_lines = parts[0][1]
    intro = "\n".join(line for line in intro_lines if not line.startswith("# ")).strip()
    return intro, [(title, "\n".join(body).strip()) for title, body in parts[1:]]


def _demote(body: str) -> str:
    out, fenced = [], False
    for line in body.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append(line[1:] if not fenced and line.startswith("###") else line)
    return "\n".join(out)


def pages(readme: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(intro, [(page name, title, MyST text)]) for every README section except the table of contents."""
    intro, parts = sections(readme)
    parts = [(title, body) for title, body in parts if title != "Contents"]
    names = [github_slug(title) for title, _ in parts]
    where: dict[str, str] = {}  # anchor -> page
    for name, (title, body) in zip(names, parts):
        where[github_slug(title)] = name
        for heading in re.findall(r"^###+ (.+)$", body, re.M):
            where.setdefault(github_slug(heading), name)

    def relink(text: str, page: str | None) -> str:
        def fix(match: re.Match[str]) -> str:
            anchor = match.group(1)
            target = where.get(anchor)
            if target is None:
                return match.group(0)  # left as is: the docs build reports it as a broken link
            if target == page and anchor != target:
                return f"](#{anchor})"
            return f"]({target}.md)" if anchor == target else f"]({target}.md#{anchor})"

        return re.sub(r"\]\(#([^)]+)\)", fix, text)

    out = [
        (name, title, f"# {title}\n\n{repo_links(relink(_demote(body), name))}\n{see_also(title, body)}")
        for name, (title, body) in zip(names, parts)
    ]
    return repo_links(relink(intro, None)), out


def repo_links(text: str) -> str:
    """Links to files of the repository: into the site for docs/, else the path as code (not a page)."""

    def fix(match: re.Match[str]) -> str:
        label, target = match.group(1), match.group(2)
        if target == "CHANGELOG.md":
            return f"[{label}](../changelog.md)"
        if target.startswith(("http:", "https:", "#", "mailto:")) or (target.endswith(".md") and "/" not in target):
            return match.group(0)
        if target.startswith("docs/"):
            return f"[{label}](../{target[5:]})"
        return label if f"`{target}`" in label else f"{label} (`{target}`)"

    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", fix, text)


def see_also(title: str, body: str) -> str:
    """Links from a guide page to the references: the spec kinds its examples use, the CLI, the API."""
    from dcmspec_compiler.validate.schemas import KINDS

    links = []
    for kind in dict.fromkeys(re.findall(r"^kind: (\w+)", body, re.M)):
        if kind in KINDS:
            page = KINDS[kind].removesuffix(".schema.json")
            links.append(f"- every property of a `{kind}` spec: [{kind} reference](../spec/{page}.md)")
    if "dcmspec " in body and re.search(r"command", title, re.I):
        links.append("- every command and option: [command line reference](../cli.md)")
    if re.search(r"python api", title, re.I):
        links.append("- every class and function: [API reference](../api/index.md)")
    return "\n## See also\n\n" + "\n".join(links) + "\n" if links else ""


def write_pages(folder: Path, readme: Path = ROOT / "README.md", extra: Path | None = None) -> list[Path]:
    """Write the guide's index and one page per README section into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    intro, made = pages(readme.read_text(encoding="utf-8"))
    written = []
    for name, _title, text in made:
        path = folder / f"{name}.md"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    extras = sorted(extra.glob("*.md")) if extra else []
    toctree = (
        [name for name, _, _ in made] + [f"../{extra.name}/{p.stem}" for p in extras]
        if extra
        else [name for name, _, _ in made]
    )
    index = folder / "index.md"
    index.write_text(
        "# User guide\n\n" + intro + "\n\n```{toctree}\n:maxdepth: 2\n\n" + "\n".join(toctree) + "\n```\n",
        encoding="utf-8",
    )
    return [index, *written]
