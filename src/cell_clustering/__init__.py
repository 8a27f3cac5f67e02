"""cell-clustering
"""

__version__ = "0.1"
