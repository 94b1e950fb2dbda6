"""Search: dense and BM25 scores, their fusion, query resolution, explanations, near-duplicates."""
