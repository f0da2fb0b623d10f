"""Browser tests: the web pages driven as officials use them, in headless Chromium through Playwright."""
