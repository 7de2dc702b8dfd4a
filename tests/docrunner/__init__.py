"""Run the tutorial's pages as tests: every console and Python example on a page
is executed against a real Docker daemon and compared with what the page shows.

The modules, one concept each:

- ``parsing``: finds the examples in a page (Sybil lexers and parsers);
- ``shell``: the bash session that runs a page's commands;
- ``matching``: compares actual output with the expected output on the page;
- ``page``: the state of one page under test and the evaluators that run it;
- ``cleanup``: records what a page created in Docker and removes exactly that;
- ``daemon``: finds, or installs and starts, a Docker daemon;
- ``images``: makes sure the images the pages use exist, building stand-ins offline;
- ``plugin``: the pytest fixtures and hooks that tie these together.
"""
