enum PGConfigPlaceholder {}
