"""Use cases: authorise -> load -> compute -> persist -> audit -> commit."""
