"""Atom (RFC 4287) documents built with xml.etree, which escapes every text and attribute value."""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
ET.register_namespace("", ATOM_NS)
# Characters XML 1.0 cannot hold at all, escaped or not: a record's text with one would make the
# document unparseable, so they are dropped from what the feed shows.
NOT_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Link:
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


@dataclass
class Entry:
    id: str
    title: str
    updated: str
    links: list[Link] = field(default_factory=list)
    author: str | None = None
    summary: str | None = None
    category: str | None = None


@dataclass
class Feed:
    id: str
    title: str
    updated: str
    author: str
    links: list[Link] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    subtitle: str | None = None


def xml_text(value: str) -> str:
    return NOT_XML_CHARACTERS.sub("", value)


def tag(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def add_text(parent: ET.Element, name: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag(name), attributes)
    element.text = xml_text(value)
    return element


def add_link(parent: ET.Element, link: Link) -> None:
    attributes = {"rel": link.rel, "href": xml_text(link.href)}
    if link.type:
        attributes["type"] = link.type
    if link.title:
        attributes["title"] = xml_text(link.title)
    ET.SubElement(parent, tag("link"), attributes)


def add_author(parent: ET.Element, name: str) -> None:
    add_text(ET.SubElement(parent, tag("author")), "name", name)


def render_feed(feed: Feed) -> bytes:
    """The feed as a UTF-8 Atom document."""
    root = ET.Element(tag("feed"))
    add_text(root, "id", feed.id)
    add_text(root, "title", feed.title)
    if feed.subtitle:
        add_text(root, "subtitle", feed.subtitle)
    add_text(root, "updated", feed.updated)
    add_author(root, feed.author)
    for link in feed.links:
        add_link(root, link)
    for entry in feed.entries:
        element = ET.SubElement(root, tag("entry"))
        add_text(element, "id", entry.id)
        add_text(element, "title", entry.title)
        add_text(element, "updated", entry.updated)
        if entry.author:
            add_author(element, entry.author)
        if entry.category:
            ET.SubElement(element, tag("category"), {"term": entry.category})
        for link in entry.links:
            add_link(element, link)
        if entry.summary:
            add_text(element, "summary", entry.summary, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
