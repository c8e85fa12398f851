"""A minimal service built on the real runtime, whose handler the tests steer.

It consumes `usage.recorded` contracts on a topic of the test's choosing; the payload's `model`
field says what the handler does (`ok`, `poison`, `fail-first`, `sleep:<s>`), and every
application is recorded in `probe.applied`, so a test can count how often an event took effect.
"""
