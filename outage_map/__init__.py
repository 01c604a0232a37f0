"""Network outage reports, merge and layers (built by the outage map issue)."""
