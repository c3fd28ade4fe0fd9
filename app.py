"""emviz: the entry script. The navigation and the pages' common frame are in
emviz.ui.navigation; every page lives in pages/, named after its URL path."""

from emviz.ui.navigation import run_app

run_app()
