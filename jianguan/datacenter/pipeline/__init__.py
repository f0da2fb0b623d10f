"""The data-centre pipeline: extract, clean, standardise, verify, link, de-duplicate, compare, integrate."""
