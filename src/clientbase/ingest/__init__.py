"""Reading users' files: readers, column mappings, validation and deduplication."""
