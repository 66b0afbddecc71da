"""Partners: accounts, contacts, portal access, invitations, workspaces, audit trail."""
