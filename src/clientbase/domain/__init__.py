"""Pure business rules and the vocabulary of the domain: no I/O, no clock, no framework."""
