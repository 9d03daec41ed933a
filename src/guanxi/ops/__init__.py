"""Operations: job schedule, backups and restores, system settings, health and metrics."""
