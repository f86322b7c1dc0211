"""Pages that belong to no one domain: home, dashboard, health, language."""
