"""Reference data shipped with the package (each file names its source and date)."""
