"""Anonymous feedback after a case closes: offered to its people, kept detached from them."""
