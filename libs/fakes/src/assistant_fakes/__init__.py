"""Local servers that speak third-party wire protocols (OpenAI, Anthropic), for tests and
benchmarks on a machine with no internet access. Never used by a service."""
