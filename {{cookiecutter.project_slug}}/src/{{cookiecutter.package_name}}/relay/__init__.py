"""An upstream HTTP stream relayed as it arrives, through one shared connection pool."""
