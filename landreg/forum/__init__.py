"""The planning forum: compare areas side by side and keep the region's land accounts."""
