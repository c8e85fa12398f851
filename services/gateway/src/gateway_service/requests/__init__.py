"""Accepted asynchronous requests and their status, projected from the services' events."""
