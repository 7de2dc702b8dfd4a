"""The benchmark of the page runner, the site and the example image.

It measures, on the machine it runs on:

- what the runner costs over a bare bash script of the same commands;
- the time from a fresh clone to the first example;
- the site build, with MkDocs and with Zensical;
- the weight of the site's pages in Chromium;
- the example image's size and rebuild time.

``tests/bench/run.py`` runs it and
writes the results to BENCHMARKS.md; tests/test_bench.py runs its smoke mode.

The modules, one concept each:

- ``measure``: figures and their targets, timed commands, medians;
- ``machine``: the machine, the versions of the tools, the commit;
- ``bare``: the bare bash script generated from the pages;
- ``overhead``: the doc-test runs against the bare script;
- ``coldstart``: a fresh clone up to its first example;
- ``timestamps``: the pytest plugin that records when examples ran;
- ``site``: the site builds;
- ``weight``: the page weight in Chromium, and the server it measures with;
- ``image``: the example image;
- ``report``: the results page and its JSON.
"""
