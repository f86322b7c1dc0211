"""Reports for HR: completion records, periodic reports by unit, histories and dossiers."""
