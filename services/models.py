# The procedure catalog and dossiers arrive with the online public services issue.
