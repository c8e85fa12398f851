from assistant_stack.profiles import EPHEMERAL_PORTS_START, PROFILES, SERVICES


def test_fixed_ports_stay_out_of_the_ephemeral_range_and_never_collide() -> None:
    ports = [
        port
        for profile in PROFILES.values()
        for port in (
            profile.kafka_port,
            profile.controller_port,
            profile.postgres_port,
            *(profile.http_port(service) for service in SERVICES),
        )
    ]
    assert max(ports) < EPHEMERAL_PORTS_START
    assert len(ports) == len(set(ports)), "two profiles can run side by side"
