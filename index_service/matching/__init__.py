"""Identity resolution: pure normalisers, comparisons, blocking and the resolver."""
