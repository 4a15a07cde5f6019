"""The documentation's relative links resolve: README.md and docs/*.md.

Every relative link (``[text](path)``, ``[text](path#anchor)``, ``[text](#anchor)``) must name
a file or directory that exists, relative to the file that links, and an ``#anchor`` must be
a heading of the target Markdown file, slugged as GitHub does (lowercase, punctuation removed,
spaces to ``-``; a repeated heading gets ``-1``, ``-2``, ...). Links inside fenced code blocks
and inline code are not links. README stays a front page (at most 300 lines), and the docs
speak to users: no "issue N" references. No Salt needed.
"""
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
FILES = [README] + DOCS
README_MAX_LINES = 300

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:, ...


def _prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    fenced = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if match:
            if fenced is None:
                fenced = match.group(1)
            elif match.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            yield number, line


def slug(heading):
    """GitHub's anchor for a heading's text (before duplicate suffixes)."""
    text = INLINE_CODE.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # punctuation goes; word characters, '-', ' ' stay
    return text.replace(" ", "-")


def anchors(path):
    """Every anchor a Markdown file's headings define, GitHub style."""
    seen = {}
    result = set()
    for _, line in _prose_lines(path):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path):
    """(line number, target) of every link in a Markdown file's prose."""
    for number, line in _prose_lines(path):
        definition = REFERENCE_DEF.match(line)
        if definition:
            yield number, definition.group(1)
            continue
        prose = INLINE_CODE.sub("", line)
        for match in INLINE_LINK.finditer(prose):
            yield number, match.group(2)


def _relative_links():
    for path in FILES:
        for number, target in links(path):
            if not EXTERNAL.match(target):
                yield pytest.param(path, number, target,
                                   id=f"{path.relative_to(REPO_ROOT)}:{number}:{target}")


def test_docs_exist():
    names = {path.name for path in DOCS}
    assert {"architecture.md", "configuration.md", "operations.md", "autobase-mapping.md",
            "lab-and-tests.md", "measurements.md"} <= names


@pytest.mark.parametrize("path, number, target", list(_relative_links()))
def test_relative_link_resolves(path, number, target):
    file_part, _, anchor = target.partition("#")
    target_path = (path.parent / file_part).resolve() if file_part else path
    assert target_path.exists(), f"{path.name}:{number}: {file_part} does not exist"
    if anchor:
        assert target_path.suffix == ".md", f"{path.name}:{number}: #{anchor} in a file that is not Markdown"
        assert anchor in anchors(target_path), (
            f"{path.name}:{number}: no heading with anchor #{anchor} in {target_path.name}")


def test_links_are_found():
    # The link checker itself: it must see README's links into docs/ (or it checks nothing).
    targets = [target for _, target in links(README)]
    assert any(target.startswith("docs/") for target in targets)


def test_readme_is_a_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines (at most {README_MAX_LINES})"


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_no_issue_numbers(path):
    found = [f"{path.name}:{number}: {line.strip()}"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"issue\s*#?\d+", line, re.IGNORECASE)]
    assert not found, "internal issue references in the docs:\n" + "\n".join(found)


@pytest.mark.parametrize("heading, expected", [
    ("Type B (default): VIP on the leader", "type-b-default-vip-on-the-leader"),
    ("Point-in-time recovery of a running cluster: `pgha.restore`",
     "point-in-time-recovery-of-a-running-cluster-pgharestore"),
    ("What pgha.deploy does", "what-pghadeploy-does"),
    ("Grow, shrink, adopt", "grow-shrink-adopt"),
    ("`pgha_patroni` functions", "pgha_patroni-functions"),
])
def test_slug(heading, expected):
    assert slug(heading) == expected


def test_duplicate_headings_get_suffixes(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# A\n\n## Tests\n\n```\n# Tests\n```\n\n## Tests\n\n### Tests\n", encoding="utf-8")
    assert anchors(doc) == {"a", "tests", "tests-1", "tests-2"}
