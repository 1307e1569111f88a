"""The pure core: rules and decisions as functions of data. Nothing here does I/O."""
