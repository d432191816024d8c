"""The console's pages as server-rendered HTML with inline SVG."""
