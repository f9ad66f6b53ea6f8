"""Who may see what: roles and clearances, the cleared view of the store, pseudonyms, the audit log."""
