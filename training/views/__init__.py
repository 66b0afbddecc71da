"""Training pages: one module per area."""
