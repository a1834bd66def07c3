"""notebook support: widgets, plots, exercise checks, profiles."""
