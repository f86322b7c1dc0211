"""Content as files: reading and checking content/, and loading it into the database."""
