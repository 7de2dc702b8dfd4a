"""Helpers for the browser tests (tests/test_browser.py): building the site
with MkDocs or Zensical, serving it on loopback, and finding Chromium."""
