"""One module per question the app answers: ``run(scenario, options, catalog=None) -> Result``."""
