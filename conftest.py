"""Root conftest: personas and factories for every test module."""

pytest_plugins = ["jianguan.core.testing.personas"]
