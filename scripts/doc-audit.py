#!/usr/bin/env python3
"""Audit rustdoc output: every public item of the `ficx` crate has a compiling example.

Run after `cargo doc --no-deps --all-features` (scripts/test.sh does both):

    scripts/doc-audit.py [--doc-dir target/doc] [--crate ficx] [--verbose]

Exits 0 when every audited item's documentation contains at least one Rust example that
rustdoc compiles (a `rust rust-example-rendered` block not marked `ignore` or `compile_fail`;
`no_run` counts, it compiles), 1 otherwise, listing each miss as `path::Item` or
`path::Item::member`, and 2 when the HTML is missing or unreadable.

Scope (also in README, "Development"):

* Audited, each needs its own example:
  - every item page: structs, enums, unions, traits, functions, type aliases, constants,
    statics, macros (modules are not: their docs are prose and link to the items);
  - on struct/enum/union pages, every member of an inherent impl (methods, associated
    functions, associated constants);
  - on trait pages, the trait's own required and provided methods, associated consts and
    associated types.
* Checked for documentation only (the `missing_docs` lint; the example is the one on their
  type): enum variants and struct/variant fields.
* Not audited: trait impls on a type's page. Impls of std/foreign traits (Debug, Clone, From,
  Display, Error, ...) are documented by those traits; impls of the crate's own traits
  (e.g. `TokenStore for MemoryStore`) render the trait method's docs, which are audited on the
  trait's page. Blanket and auto-trait impls, implementors and foreign impls are not the
  crate's items either; neither are "Methods from Deref" (audited on the target's own page).
* Not in the HTML, so not audited: `#[doc(hidden)]` items (`ficx::__private`,
  `ficx::fuzz_api`) and the `ficx` binary's internals (`src/main.rs`, `src/cli/`): cargo does
  not document a binary that shares the library's name, and the CLI is not library API.
* Re-exports (`pub use`) are audited once, at the item's canonical page; rustdoc's redirect
  pages are skipped.
"""

from __future__ import annotations

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}

# Item pages, by rustdoc's file-name prefix. Modules (`index.html`) are not audited.
ITEM_KINDS = {
    "struct", "enum", "union", "trait", "traitalias", "fn", "type", "constant", "static",
    "macro", "attr", "derive",
}

# Section headings (`<h2 class="section-header" id=...>`) whose members are audited.
AUDITED_SECTIONS = {
    "implementations",
    "required-methods",
    "provided-methods",
    "required-associated-types",
    "provided-associated-types",
    "required-associated-consts",
    "provided-associated-consts",
}
MEMBER_ID = re.compile(r"^(method|tymethod|associatedconstant|associatedtype)\.([^.]+?)(-\d+)?$")
FIELD_ID = re.compile(r"^(?:variant|structfield)\.([^.]+(?:\.field\.[^.]+)?)$")


class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None):
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node] = []
        self.parent = parent

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()

    def find_all(self, tag: str, cls: str | None = None):
        for n in self.iter():
            if n.tag == tag and (cls is None or cls in n.classes()):
                yield n

    def next_element(self) -> Node | None:
        if self.parent is None:
            return None
        sib = self.parent.children
        i = sib.index(self)
        return sib[i + 1] if i + 1 < len(sib) else None


class TreeBuilder(HTMLParser):
    """A forgiving DOM: elements only (text is irrelevant here)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1]))

    def handle_endtag(self, tag):
        # Close up to the matching open element; ignore a stray end tag.
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return


def has_example(docblock: Node | None) -> bool:
    """A compiled example: rustdoc marks untested ones with `ignore`/`compile_fail` wrappers."""
    if docblock is None:
        return False
    for wrap in docblock.find_all("div", "example-wrap"):
        if wrap.classes() & {"ignore", "compile_fail"}:
            continue
        for pre in wrap.find_all("pre", "rust-example-rendered"):
            if "rust" in pre.classes():
                return True
    return False


def member_docblock(section: Node) -> Node | None:
    """`<details><summary><section id=method.x/></summary><div class=docblock/></details>`."""
    summary = section.parent
    if summary is None or summary.tag != "summary":
        return None
    details = summary.parent
    if details is None or details.tag != "details":
        return None
    for c in details.children:
        if c.tag == "div" and "docblock" in c.classes():
            return c
    return None


def audit_page(path: Path, text: str, item: str, kind: str):
    """Yields (name, ok, what) for the page's item and its audited members; `text` is the
    page's HTML, read once by the caller."""
    builder = TreeBuilder()
    builder.feed(text)
    root = builder.root
    main = next((n for n in root.iter() if n.attrs.get("id") == "main-content"), None)
    if main is None:
        raise ValueError(f"{path}: no #main-content")

    top = next((d for d in main.find_all("details", "top-doc")), None)
    top_doc = None
    if top is not None:
        top_doc = next((c for c in top.children if "docblock" in c.classes()), None)
    yield item, has_example(top_doc), "example"

    if kind not in {"struct", "enum", "union", "trait"}:
        return
    section = None
    seen: set[str] = set()
    for n in main.iter():
        if n.tag == "h2" and "section-header" in n.classes():
            section = n.attrs.get("id", "")
            continue
        ident = n.attrs.get("id", "")
        m = MEMBER_ID.match(ident)
        if m and n.tag == "section" and section in AUDITED_SECTIONS:
            name = f"{item}::{m.group(2)}"
            if name in seen:  # the same name in two inherent impls: one entry is enough
                continue
            seen.add(name)
            yield name, has_example(member_docblock(n)), "example"
            continue
        f = FIELD_ID.match(ident)
        if f and section in {"fields", "variants"}:
            nxt = n.next_element()
            documented = nxt is not None and nxt.tag == "div" and "docblock" in nxt.classes()
            yield f"{item}::{f.group(1).replace('.field.', '::')}", documented, "docs"


def is_redirect(text: str) -> bool:
    return '<meta http-equiv="refresh"' in text[:2000]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--doc-dir", default="target/doc", type=Path)
    ap.add_argument("--crate", default="ficx")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every audited item")
    args = ap.parse_args()

    crate_dir = args.doc_dir / args.crate
    if not (crate_dir / "index.html").is_file():
        print(f"doc-audit: {crate_dir}/index.html not found; run "
              "`cargo doc --no-deps --all-features` first", file=sys.stderr)
        return 2

    audited = with_example = fields = 0
    missing_examples: list[str] = []
    missing_docs: list[str] = []
    for page in sorted(crate_dir.rglob("*.html")):
        kind, _, rest = page.name.partition(".")
        if kind not in ITEM_KINDS or not rest.endswith(".html"):
            continue
        module = page.parent.relative_to(args.doc_dir).parts
        item = "::".join((*module, rest[: -len(".html")]))
        try:
            text = page.read_text(encoding="utf-8")
            if is_redirect(text):
                continue
            for name, ok, what in audit_page(page, text, item, kind):
                if what == "docs":
                    fields += 1
                    if not ok:
                        missing_docs.append(name)
                    continue
                audited += 1
                with_example += ok
                if args.verbose:
                    print(f"{'ok  ' if ok else 'MISS'} {name}")
                if not ok:
                    missing_examples.append(name)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            print(f"doc-audit: {e}", file=sys.stderr)
            return 2

    for name in missing_examples:
        print(f"no example: {name}")
    for name in missing_docs:
        print(f"no docs:    {name}")
    sys.stdout.flush()
    print(
        f"doc-audit: {audited} items audited, {with_example} with a compiling example, "
        f"{len(missing_examples)} without; {fields} variants/fields, "
        f"{len(missing_docs)} undocumented",
        file=sys.stderr,
    )
    return 1 if missing_examples or missing_docs else 0


if __name__ == "__main__":
    sys.exit(main())
