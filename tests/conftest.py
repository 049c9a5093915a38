"""The harness's own tests: pytester drives the plugin in throwaway projects."""

pytest_plugins = ["pytester"]
