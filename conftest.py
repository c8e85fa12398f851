# Fixtures of services' tests live in named plugin modules, so no two conftest.py share a name.
pytest_plugins = ["gateway_fixtures"]
