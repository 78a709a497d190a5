"""Reproductions: the textbook's five IMDB models and the tasks beyond them."""
