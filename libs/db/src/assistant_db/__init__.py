"""Database plumbing shared by every service: one PostgreSQL database, one schema per service."""

from assistant_db.driver_pool import DriverPool, Statements
from assistant_db.engine import create_engine, driver_connection, session_factory, sqlalchemy_url
from assistant_db.metadata import service_metadata

__all__ = [
    "DriverPool",
    "Statements",
    "create_engine",
    "driver_connection",
    "service_metadata",
    "session_factory",
    "sqlalchemy_url",
]
