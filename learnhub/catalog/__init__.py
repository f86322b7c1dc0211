"""The catalogue: training modules as the database knows them, their versions, lessons, progress."""
