"""The home page links to every other page of the navigation."""

import re
from pathlib import Path

from tests.apptest_helpers import ROOT, open_page


def _navigation_pages() -> set[str]:
    source = (ROOT / "emviz/ui/navigation.py").read_text()
    return {Path(p).stem for p in re.findall(r'st\.Page\(\s*"(pages/[^"]+)"', source)}


def test_home_links_to_every_page():
    at = open_page("pages/home.py")
    linked = {Path(link.proto.page).stem for link in at.main.get("page_link")}  # not the menu
    assert linked == _navigation_pages() - {"home"}
