"""One module per source type; each exposes a collector class listed in ``collectors.registry``."""
