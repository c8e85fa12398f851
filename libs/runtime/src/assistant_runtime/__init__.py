"""What every service process shares: settings, logging, health, metrics and its lifecycle."""
