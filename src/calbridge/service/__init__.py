"""The long-running service: ``calbridge run`` (scheduler, leases, HTTP, systemd, logs)."""
