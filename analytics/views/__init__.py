"""Analytics pages, one module per area: scorecard, manager dashboard, goals, reports, charts."""
