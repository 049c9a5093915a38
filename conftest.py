"""The harness is a pytest plugin: every run in this tree loads it."""

pytest_plugins = ["wirecheck.plugin", "fixtures.certs"]
