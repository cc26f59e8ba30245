"""Statistical models with the scikit-learn contract; no framework imports."""
